"""The true persons behind the demo exports: names, households, addresses, contacts, events.

Everything is drawn with numpy from one seeded generator, vectorised over all persons,
so a million persons take seconds. Name and place pools come from Faker's de_DE data,
with the real skew of German surnames (a few very common, a long tail).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from faker.providers.address.de_DE import Provider as AddressData
from faker.providers.person.de_DE import Provider as PersonData

COMMON_SURNAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
    "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
    "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier",
    "Lehmann", "Schmid", "Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber",
    "Kaiser", "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Schubert",
    "Yılmaz", "Kaya", "Nowak", "Kowalski", "Wojciechowski", "Popović", "Nguyen",
)
COMMON_MALE = ("Thomas", "Michael", "Andreas", "Stefan", "Peter", "Klaus", "Hans", "Jürgen", "Frank", "Uwe",
               "Christian", "Markus", "Jörg", "Lukas", "Leon", "Jonas", "Maximilian", "Paul", "Günter", "Björn")
COMMON_FEMALE = ("Sabine", "Susanne", "Petra", "Andrea", "Claudia", "Monika", "Anna", "Julia", "Katharina",
                 "Ursula", "Brigitte", "Sophie", "Marie", "Laura", "Gisela", "Bärbel", "Renate", "Käthe", "Hannah", "Lea")
STREET_BASES = ("Haupt", "Bahnhof", "Schul", "Garten", "Dorf", "Berg", "Kirch", "Wald", "Linden", "Birken",
                "Feld", "Wiesen", "Goethe", "Schiller", "Mozart", "Friedhof", "Mühlen", "Sonnen", "Rosen", "Eichen",
                "Tannen", "Buchen", "Blumen", "Park", "Markt", "Brunnen", "Jahn", "Post", "Industrie", "Königs")
STREET_SUFFIXES = ("straße", "straße", "straße", "straße", "weg", "weg", "allee", "ring", "gasse", "platz")
BIG_CITIES = (("Berlin", "10", "30"), ("Hamburg", "20", "40"), ("München", "80", "89"), ("Köln", "50", "221"),
              ("Frankfurt am Main", "60", "69"), ("Stuttgart", "70", "711"), ("Düsseldorf", "40", "211"),
              ("Leipzig", "04", "341"), ("Dortmund", "44", "231"), ("Essen", "45", "201"), ("Bremen", "28", "421"),
              ("Dresden", "01", "351"), ("Hannover", "30", "511"), ("Nürnberg", "90", "911"))
MOBILE_PREFIXES = ("170", "171", "172", "173", "174", "175", "176", "177", "178", "179", "160")
EMAIL_DOMAINS = ("gmx.de", "web.de", "t-online.de", "gmail.com", "yahoo.de", "outlook.de", "freenet.de",
                 "posteo.de", "icloud.com", "gmx.net", "aol.com", "mail.de")
EMAIL_WEIGHTS = (20, 20, 12, 14, 5, 6, 4, 2, 3, 5, 2, 2)


SURNAME_STEMS = ("Hoch", "Stein", "Brand", "Wald", "Berg", "Holz", "Kirch", "Linden", "Rosen", "Sonnen", "Eich",
                 "Buch", "Feld", "Wies", "Brunn", "Mühl", "Schön", "Groß", "Klein", "Alt", "Neu", "Ober", "Unter",
                 "Hof", "Dorn", "Hage", "Stroh", "Kalt", "Warm", "Fried", "Gott", "Hart", "Lieb", "Mar", "Rein",
                 "Wolf", "Fuchs", "Bär", "Hirsch", "Vogel", "Fisch", "Adler", "Falk", "Kopp", "Rott", "Weiß",
                 "Schwarz", "Roth", "Grün", "Blau", "Eisen", "Gold", "Silber", "Kupfer", "Zimmer", "Acker", "Heid")
SURNAME_ENDINGS = ("mann", "berger", "bauer", "meier", "müller", "hammer", "egger", "huber", "ler", "inger",
                   "stetter", "brecht", "hardt", "wald", "feld", "stein", "bach", "haus", "hofer", "ecker",
                   "ner", "ing", "mayr", "lechner", "schmid", "reiter", "wieser", "kötter", "kämper", "beck")


def zipf_weights(n: int, s: float = 1.0) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** s
    return w / w.sum()


def _pool(common: tuple[str, ...], rest: tuple[str, ...]) -> list[str]:
    seen = dict.fromkeys(common)
    seen.update(dict.fromkeys(n for n in rest if n not in seen))
    return list(seen)


def ascii_fold(name: str) -> str:
    return (name.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
            .replace("Ä", "Ae").replace("Ö", "Oe").replace("Ü", "Ue").replace("ı", "i").replace("ć", "c"))


def _email_local(first: str, last: str, style: int, number: int) -> str:
    f, l = ascii_fold(first).lower().replace(" ", ""), ascii_fold(last).lower().replace(" ", "")
    local = (f"{f}.{l}", f"{f[0]}.{l}", f"{f}{l}", f"{l}.{f}", f"{f}.{l}{number % 100}", f"{f}{number % 1000}",
             f"{f[0]}{l}")[style]
    return local


def nickname(first: str, how: int) -> str:
    """What friends call a person, in the ways German nicknames are made: the name's end
    (`Martina` -> `Tina`), its start with an `i` (`Andreas` -> `Andi`, `Katharina` ->
    `Kathi`), its start alone (`Alexander` -> `Alex`), a double name's initials
    (`Hans-Peter` -> `HP`). Deliberately not the linker's list of short forms: the linker
    must learn such variants from the data."""
    parts = first.replace("-", " ").split()
    if len(parts) > 1:
        return "".join(p[0] for p in parts).upper() if how % 2 else parts[0]
    if len(first) < 5:
        return first
    start = first[:3] + ("h" if first[2:3] == "t" else "")
    return (first[-4:].capitalize(), start + "i", first[:4], first[-5:].capitalize())[how % 4]


def make_persons(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Persons in households, with their true (current and former) attributes."""
    synthetic = tuple(stem + ending for stem in SURNAME_STEMS for ending in SURNAME_ENDINGS)
    surnames = _pool(COMMON_SURNAMES, PersonData.last_names + synthetic)
    # Real shares: Müller is about 0.8 % of Germans, the top 50 together about 10 %.
    common = len(COMMON_SURNAMES)
    surname_weights = np.concatenate([
        0.10 * zipf_weights(common, 0.7),
        0.90 * zipf_weights(len(surnames) - common, 0.3)[np.random.default_rng(7).permutation(len(surnames) - common)],
    ])
    males = _pool(COMMON_MALE, PersonData.first_names_male)
    females = _pool(COMMON_FEMALE, PersonData.first_names_female)
    cities = list(BIG_CITIES) + [
        (c, f"{rng.integers(1, 99):02d}", str(rng.choice([2131, 4321, 6151, 7121, 8031, 9131, 3641, 5241, 2661, 7531])))
        for c in AddressData.cities if c not in {b[0] for b in BIG_CITIES}
    ]
    city_weights = np.concatenate([np.full(len(BIG_CITIES), 4.0), np.ones(len(cities) - len(BIG_CITIES))])
    city_weights /= city_weights.sum()

    # Households: sizes 1-4; members share surname, address and landline.
    sizes = rng.choice([1, 2, 3, 4], size=n, p=[0.55, 0.28, 0.12, 0.05])
    household = np.repeat(np.arange(len(sizes)), sizes)[:n]
    first_in_household = np.r_[True, household[1:] != household[:-1]]
    households = int(household.max()) + 1

    h_surname = rng.choice(len(surnames), size=households, p=surname_weights)
    h_city = rng.choice(len(cities), size=households, p=city_weights)
    h_street = rng.integers(0, len(STREET_BASES) * len(STREET_SUFFIXES), size=households)
    h_house = rng.integers(1, 180, size=households)
    h_suffix = np.where(rng.random(households) < 0.06, rng.choice(list("abc"), size=households), "")
    h_zip_tail = rng.integers(0, 999, size=households)
    h_landline = rng.integers(1_000_000, 9_999_999, size=households)
    h_has_landline = rng.random(households) < 0.45
    h_family_email = rng.random(households) < 0.15

    gender = rng.choice(np.array(["m", "f", "d"]), size=n, p=[0.49, 0.495, 0.015])
    male_idx = rng.choice(len(males), size=n, p=zipf_weights(len(males), 0.7))
    female_idx = rng.choice(len(females), size=n, p=zipf_weights(len(females), 0.7))
    first = np.where(gender == "f", np.array(females, dtype=object)[female_idx], np.array(males, dtype=object)[male_idx])
    # Father and son: a second male in a household sometimes carries the father's name.
    persons = pd.DataFrame({"household": household, "gender": gender, "first_name": first})
    persons["person_id"] = [f"P{i:07d}" for i in range(n)]
    hh_first_male = persons[persons.gender == "m"].groupby("household")["first_name"].transform("first")
    junior = (persons.gender == "m") & ~first_in_household & (rng.random(n) < 0.06)
    persons.loc[junior, "first_name"] = hh_first_male[junior]

    birth_year = np.where(first_in_household, rng.integers(1940, 1990, n), rng.integers(1950, 2006, n))
    birth = pd.to_datetime(pd.DataFrame({"year": birth_year, "month": rng.integers(1, 13, n), "day": rng.integers(1, 29, n)}))
    persons["birth_date"] = birth.dt.date
    persons["last_name"] = np.array(surnames, dtype=object)[h_surname[household]]
    city = [cities[i] for i in h_city[household]]
    persons["city"] = [c[0] for c in city]
    persons["postal_code"] = [f"{c[1]}{t:03d}" for c, t in zip(city, h_zip_tail[household])]
    persons["area_code"] = [c[2] for c in city]
    street_index = h_street[household]
    persons["street"] = [STREET_BASES[i // len(STREET_SUFFIXES)] + STREET_SUFFIXES[i % len(STREET_SUFFIXES)] for i in street_index]
    persons["house_number"] = [f"{h}{s}" for h, s in zip(h_house[household], h_suffix[household])]
    persons["country"] = "DE"
    # A few customers live across the border.
    abroad = rng.random(n) < 0.02
    at = abroad & (rng.random(n) < 0.5)
    persons.loc[at, ["city", "country", "area_code"]] = ["Wien", "AT", "+43 1"]
    persons.loc[abroad & ~at, ["city", "country", "area_code"]] = ["Zürich", "CH", "+41 44"]
    persons.loc[abroad, "postal_code"] = [f"{x}" for x in rng.integers(1010, 1230, abroad.sum())]
    persons.loc[abroad & ~at, "postal_code"] = [f"{x}" for x in rng.integers(8001, 8099, (abroad & ~at).sum())]

    persons["landline"] = np.where(h_has_landline[household], h_landline[household].astype(str), None)
    persons["mobile"] = [f"{p} {m}" for p, m in zip(rng.choice(MOBILE_PREFIXES, n), rng.integers(1_000_000, 9_999_999, n))]
    persons.loc[rng.random(n) < 0.15, "mobile"] = None
    # Across the border the mobile is a local one: 0664 / 0676 in Austria, 079 / 076 in Switzerland.
    local_mobile = persons["mobile"].fillna("").str.split(" ").str[1]
    odd = persons["mobile"].fillna("").str[2].isin(list("13579"))
    persons.loc[at & persons["mobile"].notna(), "mobile"] = (np.where(odd, "+43664 ", "+43676 ") + local_mobile)[at & persons["mobile"].notna()]
    ch = abroad & ~at & persons["mobile"].notna()
    persons.loc[ch, "mobile"] = (np.where(odd, "+4179 ", "+4176 ") + local_mobile)[ch]

    style = rng.integers(0, 7, n)
    number = rng.integers(1, 9999, n)
    domains = rng.choice(EMAIL_DOMAINS, size=n, p=np.array(EMAIL_WEIGHTS) / sum(EMAIL_WEIGHTS))
    local = [_email_local(f, l, s, k) for f, l, s, k in zip(persons.first_name, persons.last_name, style, number)]
    persons["email"] = [f"{a}@{d}" for a, d in zip(local, domains)]
    # Mailboxes are unique: a second Hans Müller at gmx.de gets a number.
    dup = persons.groupby("email").cumcount()
    persons.loc[dup > 0, "email"] = [e.replace("@", f"{k}{i}@") for e, k, i in zip(persons.email[dup > 0], number[dup > 0], dup[dup > 0])]
    family = h_family_email[household]
    family_address = pd.Series([f"familie.{ascii_fold(l).lower()}{h % 1000}@{'gmx.de' if h % 2 else 'web.de'}"
                                for l, h in zip(persons.last_name, household)])
    persons.loc[family, "email"] = family_address[family].values
    persons["email2"] = np.where(rng.random(n) < 0.25, [f"{a}{k % 97}@{d}" for a, k, d in zip(local, number, rng.choice(EMAIL_DOMAINS, n))], None)

    # Life events: moves and marriages show in newer records only.
    persons["moved"] = rng.random(n) < 0.10
    persons["new_street"] = [STREET_BASES[i % len(STREET_BASES)] + STREET_SUFFIXES[(i // 7) % len(STREET_SUFFIXES)]
                             for i in rng.integers(0, 10_000, n)]
    persons["new_house_number"] = rng.integers(1, 180, n).astype(str)
    persons["new_postal_code"] = [f"{p[:2]}{t:03d}" for p, t in zip(persons.postal_code, rng.integers(0, 999, n))]
    persons.loc[persons.country != "DE", "new_postal_code"] = persons.postal_code
    married = (persons.gender == "f") & (rng.random(n) < 0.06)
    new_surname = np.array(surnames, dtype=object)[rng.choice(len(surnames), n, p=surname_weights)]
    double = rng.random(n) < 0.4
    persons["married_name"] = np.where(married, np.where(double, persons.last_name + "-" + new_surname, new_surname), None)
    persons["nickname"] = [nickname(f, int(k)) for f, k in zip(persons.first_name, rng.integers(0, 4, n))]
    persons["salutation"] = np.where(persons.gender == "m", "Herr", np.where(persons.gender == "f", "Frau", "Divers"))
    return persons.drop(columns=["household"]).assign(household=household)
