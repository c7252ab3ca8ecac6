"""A lean third generator of German customer exports with a known truth (the independent one
is `foreign_exports.py`), written apart from `demo/` in the same way: from `docs/source-exports.md`
and the fixtures only, with its own name lists,
frequencies, household model and noise. It exists so that a rule fitted to `demo/`'s quirks
shows as a gap between `german_linkage.py` and `foreign_linkage.py`.

    .venv/bin/python benchmarks/foreign_exports_lean.py --persons 100000 --seed 7 --out benchmarks/out/lean_100000

Writes one delivery day (`landing/{shop,newsletter,hotline,pos}/`) in the documented formats
and `truth/records.csv` (source, source_record_id, person_id). Every row is readable; the
noise is in the content: typos (one or two), umlaut and ß spellings, case and spaces,
nicknames, swapped names, partial double names, titles, married and moved persons with
older records, households sharing address, landline and family mailbox, fathers and sons of
one name at one address, namesakes of common names, phone numbers in every notation.
Same seed, same bytes.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

# Surnames with their share of Germans in per mille (rounded public frequency lists); the
# rest of the population gets rare names made from parts below.
COMMON_SURNAMES = {
    "Müller": 7.0, "Schmidt": 5.0, "Schneider": 2.8, "Fischer": 2.6, "Weber": 2.3, "Meyer": 2.2, "Wagner": 2.0,
    "Becker": 1.8, "Schulz": 1.8, "Hoffmann": 1.7, "Schäfer": 1.5, "Koch": 1.4, "Bauer": 1.4, "Richter": 1.3,
    "Klein": 1.3, "Wolf": 1.2, "Schröder": 1.2, "Neumann": 1.1, "Schwarz": 1.1, "Zimmermann": 1.1, "Braun": 1.0,
    "Krüger": 1.0, "Hofmann": 1.0, "Hartmann": 1.0, "Lange": 0.9, "Schmitt": 0.9, "Werner": 0.9, "Schmitz": 0.9,
    "Krause": 0.9, "Meier": 0.9, "Lehmann": 0.8, "Schmid": 0.8, "Schulze": 0.8, "Maier": 0.8, "Köhler": 0.8,
    "Herrmann": 0.8, "König": 0.7, "Walter": 0.7, "Mayer": 0.7, "Huber": 0.7, "Kaiser": 0.7, "Fuchs": 0.7,
    "Peters": 0.7, "Lang": 0.6, "Scholz": 0.6, "Möller": 0.6, "Weiß": 0.6, "Jung": 0.6, "Hahn": 0.6, "Vogel": 0.6,
}
RARE_HEADS = ["Alt", "Bar", "Berg", "Brand", "Bruck", "Dorn", "Eich", "Feld", "Fried", "Gold", "Grün", "Hagen",
              "Hein", "Holz", "Kal", "Kirch", "Lind", "Linde", "Mark", "Moos", "Nord", "Ost", "Pfeif", "Rein",
              "Ross", "Sand", "Schön", "Stein", "Sturm", "Tann", "Thal", "Wald", "Wein", "Wies", "Wind", "Zell",
              "Ahl", "Bött", "Diek", "Gies", "Hüls", "Kett", "Lütt", "Mühl", "Nöll", "Pütz", "Rött", "Sieb"]
RARE_TAILS = ["mann", "er", "ner", "hardt", "berger", "bach", "mayr", "inger", "ecker", "hofer", "stedt", "feld",
              "haus", "rich", "ke", "kamp", "meier", "ling", "holz", "wald", "brink", "beck", "horst", "au"]
FIRST_NAMES = {
    "F": {"Maria": 9, "Ursula": 6, "Monika": 6, "Petra": 6, "Elisabeth": 5, "Sabine": 7, "Renate": 4, "Helga": 4,
          "Karin": 5, "Brigitte": 4, "Ingrid": 3, "Andrea": 7, "Susanne": 6, "Claudia": 5, "Stefanie": 5,
          "Julia": 7, "Anna": 6, "Katharina": 5, "Christina": 4, "Nicole": 5, "Martina": 5, "Birgit": 4,
          "Gabriele": 4, "Laura": 4, "Lena": 4, "Sarah": 4, "Hannelore": 2, "Jutta": 3, "Jürgen": 0,
          "Franziska": 3, "Johanna": 3, "Sophie": 3, "Marie": 4, "Lea": 3, "Kerstin": 3, "Silke": 3, "Anja": 4,
          "Heike": 4, "Tanja": 3, "Melanie": 3, "Daniela": 3, "Bärbel": 2, "Gudrun": 2, "Dörte": 1, "Jessica": 2},
    "M": {"Peter": 8, "Michael": 9, "Thomas": 9, "Andreas": 8, "Wolfgang": 6, "Klaus": 6, "Jürgen": 6,
          "Günter": 4, "Stefan": 7, "Christian": 7, "Uwe": 4, "Werner": 4, "Hans": 5, "Frank": 5, "Bernd": 4,
          "Matthias": 5, "Alexander": 5, "Markus": 5, "Daniel": 5, "Tobias": 4, "Jan": 4, "Sebastian": 5,
          "Florian": 4, "Martin": 6, "Dieter": 4, "Manfred": 4, "Horst": 3, "Helmut": 3, "Gerhard": 4, "Jörg": 3,
          "Ralf": 3, "Sven": 3, "Lukas": 4, "Felix": 3, "Maximilian": 3, "Paul": 3, "Hans-Peter": 2,
          "Karl-Heinz": 2, "Hans-Jürgen": 2, "Björn": 2, "Dirk": 3, "Holger": 3, "Torsten": 3, "Kai": 2},
}
# Hypocorisms people use for themselves (written from German usage, not from any list in the linker).
NICKNAMES = {"Elisabeth": ["Lisa", "Elli", "Sissi"], "Katharina": ["Kathrin", "Kati", "Katja"],
             "Christina": ["Tina", "Chris"], "Martina": ["Tina"], "Susanne": ["Susi", "Sanne"],
             "Stefanie": ["Steffi"], "Gabriele": ["Gabi"], "Franziska": ["Franzi"], "Johanna": ["Hanna"],
             "Daniela": ["Dani"], "Alexander": ["Alex"], "Wolfgang": ["Wolf"], "Michael": ["Micha", "Michi"],
             "Andreas": ["Andi"], "Christian": ["Chris"], "Matthias": ["Matze", "Matthes"], "Sebastian": ["Basti"],
             "Maximilian": ["Max"], "Tobias": ["Tobi"], "Markus": ["Mark"], "Hans-Peter": ["HP", "Peter"],
             "Karl-Heinz": ["Kalle", "Heinz"], "Hans-Jürgen": ["Jürgen"], "Florian": ["Flo"], "Thomas": ["Tom"],
             "Ursula": ["Uschi", "Ulla"], "Monika": ["Moni"], "Brigitte": ["Gitti"], "Gudrun": ["Gudi"]}
CITIES = [("Berlin", "10", "030"), ("Hamburg", "20", "040"), ("München", "80", "089"), ("Köln", "50", "0221"),
          ("Frankfurt am Main", "60", "069"), ("Stuttgart", "70", "0711"), ("Düsseldorf", "40", "0211"),
          ("Leipzig", "04", "0341"), ("Dortmund", "44", "0231"), ("Essen", "45", "0201"), ("Bremen", "28", "0421"),
          ("Dresden", "01", "0351"), ("Hannover", "30", "0511"), ("Nürnberg", "90", "0911"),
          ("Duisburg", "47", "0203"), ("Bochum", "44", "0234"), ("Wuppertal", "42", "0202"),
          ("Bielefeld", "33", "0521"), ("Bonn", "53", "0228"), ("Münster", "48", "0251"),
          ("Mannheim", "68", "0621"), ("Karlsruhe", "76", "0721"), ("Augsburg", "86", "0821"),
          ("Wiesbaden", "65", "0611"), ("Freiburg im Breisgau", "79", "0761"), ("Lübeck", "23", "0451"),
          ("Göttingen", "37", "0551"), ("Würzburg", "97", "0931"), ("Passau", "94", "0851"),
          ("Greifswald", "17", "03834")]
CITY_WEIGHTS = [12, 7, 6, 4, 3, 3, 2.5, 2.5, 2, 2, 2, 2, 2, 2, 1.5, 1.5, 1.2, 1.2, 1, 1, 1, 1, 1, 1, 0.8, 0.7,
                0.5, 0.5, 0.3, 0.2]
STREET_HEADS = ["Haupt", "Bahnhof", "Schul", "Garten", "Kirch", "Berg", "Wald", "Ring", "Linden", "Schiller",
                "Goethe", "Mozart", "Rosen", "Birken", "Wiesen", "Feld", "Mühlen", "Friedhof", "Markt", "Eichen",
                "Bismarck", "Kant", "Uhland", "Tannen", "Ahorn", "Post", "Brunnen", "Sonnen", "Heide", "Jahn"]
STREET_KINDS = [("straße", 10), ("weg", 3), ("allee", 1), ("platz", 0.7), ("gasse", 0.5), ("ring", 0.6)]
DOMAINS = [("gmx.de", 20), ("web.de", 20), ("t-online.de", 15), ("gmail.com", 18), ("yahoo.de", 4),
           ("outlook.de", 5), ("posteo.de", 2), ("freenet.de", 3), ("icloud.com", 3), ("arcor.de", 2)]
KEYBOARD = {"a": "sq", "e": "wr", "i": "uo", "o": "ip", "u": "zi", "n": "bm", "m": "n", "r": "et", "t": "rz",
            "s": "ad", "l": "k", "k": "lj", "h": "gj", "c": "xv", "d": "sf", "g": "fh", "b": "vn", "z": "tu"}
TOPICS = ["Rechnung", "Retoure", "Lieferung", "Kundenkarte", "Beschwerde", "Adressänderung", "Gutschein"]
NOTES = ["Ruft zurück", "Paket nicht angekommen, bittet um Prüfung", 'Sagt, "das war schon das zweite Mal"',
         "Möchte Rechnung per Post,\nnicht per Mail", "Karte verloren; neue Karte bestellt", "", "Rückruf erbeten"]
INTERESTS = ["Garten", "Reisen", "Kochen", "Mode", "Technik", "Sport", "Wohnen", "Kinder"]
DAY = "2026-11-20"


@dataclass
class Person:
    pid: str
    gender: str
    first: str
    last: str
    birth: str
    street: str
    number: str
    postcode: str
    city: str
    area: str
    mobile: str | None
    landline: str | None
    email: str | None
    maiden: str | None = None              # an older surname (married)
    old_address: tuple | None = None        # (street, number, postcode, city) before a move
    title: str | None = None
    records: list = field(default_factory=list)


def _weighted(rng: random.Random, table: dict | list) -> str:
    items = list(table.items()) if isinstance(table, dict) else table
    return rng.choices([k for k, _ in items], weights=[w for _, w in items])[0]


def _surname(rng: random.Random) -> str:
    # About 10 % of people bear one of the common names; the rest spread over rare ones.
    if rng.random() < 0.10:
        return _weighted(rng, COMMON_SURNAMES)
    name = rng.choice(RARE_HEADS) + rng.choice(RARE_TAILS)
    if rng.random() < 0.5:
        name = rng.choice(RARE_HEADS[:24]) + name.lower()
    return name


def _address(rng: random.Random) -> tuple[str, str, str, str, str]:
    city, prefix, area = rng.choices(CITIES, weights=CITY_WEIGHTS)[0]
    street = rng.choice(STREET_HEADS) + _weighted(rng, STREET_KINDS)
    number = str(rng.randint(1, 180)) + (rng.choice("abc") if rng.random() < 0.08 else "")
    return street, number, prefix + f"{rng.randint(0, 999):03d}", city, area


# Addresses already given out: a provider gives one mailbox to one customer only (a family's
# shared mailbox is given once, to the household).
_TAKEN: set[str] = set()


def _mailbox(rng: random.Random, first: str, last: str, year: str) -> str:
    address = _mailbox_wish(rng, first, last, year) if first != "familie" else \
        f"familie.{_ascii(last).lower()}@{_weighted(rng, DOMAINS)}"
    while address in _TAKEN:
        local, domain = address.split("@")
        address = f"{local}{rng.randint(1, 99)}@{domain}"
    _TAKEN.add(address)
    return address


def _mailbox_wish(rng: random.Random, first: str, last: str, year: str) -> str:
    f, lst = _ascii(first).lower().replace(" ", ""), _ascii(last).lower().replace(" ", "")
    local = rng.choice([f"{f}.{lst}", f"{f}{lst}", f"{f[0]}.{lst}", f"{f[0]}{lst}", f"{lst}.{f}", f"{f}.{lst}{year[2:]}",
                        f"{f}{year}", f"{lst}{rng.randint(1, 99)}", f"{f}_{lst}"])
    return f"{local}@{_weighted(rng, DOMAINS)}"


def _ascii(text: str) -> str:
    return (text.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
            .replace("Ä", "Ae").replace("Ö", "Oe").replace("Ü", "Ue"))


def make_persons(rng: random.Random, count: int) -> list[Person]:
    """Persons in households: alone, couples (often one surname, one landline, sometimes one
    family mailbox), families with children, sons named after their fathers."""
    persons: list[Person] = []
    while len(persons) < count:
        street, number, postcode, city, area = _address(rng)
        landline = area + str(rng.randint(100000, 9999999)) if rng.random() < 0.45 else None
        surname = _surname(rng)
        size = rng.choices([1, 2, 3, 4], weights=[45, 30, 13, 12])[0]
        family_mail = _mailbox(rng, "familie", surname, "") if size > 1 and rng.random() < 0.12 else None
        father = None
        for member in range(size):
            if len(persons) >= count:
                break
            gender = rng.choice("FM") if member != 1 else ("F" if persons[-1].gender == "M" else "M")
            born = rng.randint(1938, 1975) if member < 2 else rng.randint(1985, 2006)
            first = _weighted(rng, {k: v for k, v in FIRST_NAMES[gender].items() if v})
            if member >= 2 and father is not None and gender == "M" and rng.random() < 0.15:
                first = father.first  # father and son of one name at one address
            last = surname if member == 0 or rng.random() < 0.8 else _surname(rng)
            birth = f"{born}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            mobile = f"01{rng.choice(['51', '52', '57', '60', '62', '70', '71', '72', '76'])}{rng.randint(1000000, 99999999)}" \
                if rng.random() < (0.8 if born < 2003 else 0.9) else None
            email = family_mail if family_mail and rng.random() < 0.5 else (
                _mailbox(rng, first, last, str(born)) if rng.random() < 0.85 else None)
            p = Person(f"P{len(persons):07d}", gender, first, last, birth, street, number, postcode, city, area,
                       mobile, landline, email)
            if member == 1 and gender == "F" and last == surname and rng.random() < 0.5:
                p.maiden = _surname(rng)
                if p.email and rng.random() < 0.5:  # the mailbox keeps the maiden name
                    p.email = _mailbox(rng, first, p.maiden, str(born))
            if rng.random() < 0.12:
                p.old_address = _address(rng)[:4]
            if born < 1975 and rng.random() < 0.03:
                p.title = "Dr."
            if member == 0 and gender == "M":
                father = p
            persons.append(p)
    return persons


def typo(rng: random.Random, word: str) -> str:
    if len(word) < 3:
        return word
    i = rng.randrange(1, len(word))
    kind = rng.random()
    if kind < 0.3:
        return word[:i] + word[i + 1:]
    if kind < 0.55 and i < len(word) - 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind < 0.8:
        return word[:i] + rng.choice(KEYBOARD.get(word[i].lower(), "e")) + word[i + 1:]
    return word[:i] + word[i] + word[i:]


def spell(rng: random.Random, name: str, error: float = 0.05) -> str:
    """A name as one system holds it: umlauts written out or lost, a typo or two, case."""
    r = rng.random()
    if any(c in name for c in "äöüßÄÖÜ"):
        if r < 0.3:
            name = _ascii(name)
        elif r < 0.36:
            name = name.replace("ä", "a").replace("ö", "o").replace("ü", "u").replace("ß", "ss")
    if rng.random() < error:
        name = typo(rng, name)
        if rng.random() < 0.15:
            name = typo(rng, name)
    r = rng.random()
    if r < 0.04:
        name = name.upper()
    elif r < 0.08:
        name = name.lower()
    elif r < 0.10:
        name = " " + name + " "
    return name


def given_name(rng: random.Random, p: Person) -> str:
    first = p.first
    if first in NICKNAMES and rng.random() < 0.08:
        return rng.choice(NICKNAMES[first])
    if "-" in first and rng.random() < 0.2:
        return first.split("-")[rng.randrange(2)]
    return spell(rng, first)


def family_name(rng: random.Random, p: Person, older: bool) -> str:
    last = p.maiden if older and p.maiden else p.last
    return spell(rng, last)


def street_line(rng: random.Random, street: str, number: str) -> str:
    for full, short in (("straße", rng.choice(["str.", "strasse", "straße", "str", "Str."])),):
        if street.endswith(full) and rng.random() < 0.5:
            street = street[: -len(full)] + short
    if number[-1].isalpha() and rng.random() < 0.5:
        number = number[:-1] + " " + number[-1]
    return spell(rng, f"{street} {number}", 0.03)


def phone_text(rng: random.Random, number: str) -> str:
    """A German number in one of the notations people type."""
    national = number[1:]
    split = 4 if number.startswith("01") else len(number) - 7 if len(number) > 9 else 3
    head, tail = number[:split], number[split:]
    return rng.choice([number, f"{head} {tail}", f"{head}/{tail}", f"+49 {head[1:]} {tail}", f"0049{national}",
                       f"({head}) {' '.join(tail[i:i + 2] for i in range(0, len(tail), 2))}", f"+49{national}",
                       f"{head}-{tail}"])


def _when(rng: random.Random, start_year: int = 2018) -> str:
    return f"{rng.randint(start_year, 2026)}-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}T{rng.randint(6, 22):02d}:{rng.randint(0, 59):02d}:00Z"


def _older(rng: random.Random, p: Person) -> bool:
    return (p.maiden is not None or p.old_address is not None) and rng.random() < 0.4


def _address_of(p: Person, older: bool) -> tuple:
    return p.old_address if older and p.old_address else (p.street, p.number, p.postcode, p.city)


def _email(rng: random.Random, p: Person) -> str | None:
    if p.email is None:
        return None
    r = rng.random()
    if r < 0.1:
        return p.email.capitalize()
    if r < 0.13:
        local, domain = p.email.split("@")
        return typo(rng, local) + "@" + domain
    return p.email


def make_records(rng: random.Random, persons: list[Person]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {"shop": [], "newsletter": [], "hotline": [], "pos": []}
    for p in persons:
        kinds = [s for s, share in (("shop", 0.5), ("newsletter", 0.35), ("pos", 0.45)) if rng.random() < share]
        kinds += ["hotline"] * (rng.random() < 0.35) * rng.choice([1, 1, 1, 2, 3])
        if not kinds:
            kinds = [rng.choice(["shop", "pos", "newsletter"])]
        if "shop" in kinds and rng.random() < 0.05:
            kinds.append("shop")
        if "pos" in kinds and rng.random() < 0.06:
            kinds.append("pos")
        for kind in kinds:
            out[kind].append(RECORD_MAKERS[kind](rng, p, len(out[kind])))
    return out


def _shop(rng: random.Random, p: Person, n: int) -> dict:
    older = _older(rng, p)
    street, number, postcode, city = _address_of(p, older)
    first = given_name(rng, p)
    last = family_name(rng, p, older)
    if rng.random() < 0.02:
        first, last = last, first
    phone = p.mobile or p.landline
    record = {"customer_id": f"S-{100000 + n * 7 + rng.randint(0, 6)}", "email": _email(rng, p),
              "first_name": (f"{p.title} " if p.title and rng.random() < 0.5 else "") + first, "last_name": last,
              "company": None, "phone": phone_text(rng, phone) if phone and rng.random() < 0.7 else None,
              "birthday": p.birth if rng.random() < 0.3 else None,
              "address": {"street": street_line(rng, street, number), "zip": postcode,
                          "city": spell(rng, city, 0.02), "country": "DE"} if rng.random() < 0.9 else None,
              "accepts_marketing": rng.random() < 0.4, "accepts_marketing_updated_at": _when(rng),
              "created_at": _when(rng, 2015), "updated_at": _when(rng, 2025),
              "orders_count": rng.randint(0, 40), "total_spent": round(rng.uniform(0, 3000), 2)}
    return record | {"_pid": p.pid}


def _newsletter(rng: random.Random, p: Person, n: int) -> dict:
    named = rng.random() < 0.55
    status = rng.choices(["subscribed", "pending", "unsubscribed", "bounced"], weights=[70, 5, 20, 5])[0]
    if p.email is None:  # a subscription needs a mailbox: the person opens one
        p.email = _mailbox(rng, p.first, p.last, p.birth[:4])
    email = _email(rng, p)
    return {"subscriber_id": f"NL-{10000 + n}", "email": email,
            "salutation": {"F": "Frau", "M": "Herr"}[p.gender] if rng.random() < 0.6 else "",
            "first_name": given_name(rng, p) if named else "", "last_name": family_name(rng, p, False) if named and rng.random() < 0.8 else "",
            "status": status, "opt_in_at": _when(rng), "opt_out_at": _when(rng, 2025) if status == "unsubscribed" else "",
            "interests": ";".join(rng.sample(INTERESTS, rng.randint(0, 3))), "_pid": p.pid}


def _hotline(rng: random.Random, p: Person, n: int) -> dict:
    first, last = given_name(rng, p), family_name(rng, p, False)
    form = rng.random()
    name = (f"{last}, {first}" if form < 0.35 else f"{first} {last}" if form < 0.75 else
            f"{'Frau' if p.gender == 'F' else 'Herr'} {last}" if form < 0.92 else "")
    phone = p.mobile if p.mobile and rng.random() < 0.6 else p.landline
    caller = "anonymous" if phone is None or rng.random() < 0.25 else rng.choice([phone, "+49" + phone[1:]])
    return {"ticket_id": f"T-{200000 + n}", "opened_at": f"{DAY}T{rng.randint(8, 19):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}+01:00",
            "caller_number": caller, "caller_name": name, "customer_number": "", "email": _email(rng, p) if rng.random() < 0.2 else "",
            "topic": rng.choice(TOPICS), "notes": rng.choice(NOTES), "_pid": p.pid}


def _pos(rng: random.Random, p: Person, n: int) -> dict:
    older = _older(rng, p)
    street, number, postcode, city = _address_of(p, older)
    phone = p.landline or p.mobile
    return {"Kartennummer": f"K-{7000000 + n * 3 + rng.randint(0, 2)}",
            "Anrede": {"F": "Frau", "M": "Herr"}[p.gender] if rng.random() < 0.85 else "",
            "Vorname": given_name(rng, p), "Nachname": family_name(rng, p, older),
            "Strasse": street_line(rng, street, number) if rng.random() < 0.95 else "", "PLZ": postcode,
            "Ort": spell(rng, city, 0.03), "Telefon": phone_text(rng, phone) if phone and rng.random() < 0.5 else "",
            "E-Mail": (_email(rng, p) or "") if rng.random() < 0.35 else "",
            "Geburtsdatum": ".".join(reversed(p.birth.split("-"))) if rng.random() < 0.5 else "",
            "Filiale": f"{p.city}-Mitte", "Umsatz": f"{rng.uniform(0, 2500):,.2f}".replace(",", "X").replace(".", ",").replace("X", "."),
            "Letzter_Einkauf": f"{rng.randint(1, 19):02d}.11.2026", "Werbung_erlaubt": rng.choice("JN"), "_pid": p.pid}


RECORD_MAKERS = {"shop": _shop, "newsletter": _newsletter, "hotline": _hotline, "pos": _pos}


def _quote_numbers(rng: random.Random, records: dict[str, list[dict]]) -> None:
    """Some callers quote their shop or card number, sometimes with a digit wrong."""
    owned: dict[str, list[str]] = {}
    for source, key in (("shop", "customer_id"), ("pos", "Kartennummer")):
        for r in records[source]:
            owned.setdefault(r["_pid"], []).append(r[key])
    for r in records["hotline"]:
        if r["_pid"] in owned and rng.random() < 0.3:
            number = rng.choice(owned[r["_pid"]])
            if rng.random() < 0.1:
                i = rng.randrange(2, len(number))
                number = number[:i] + str((int(number[i]) + 1) % 10) + number[i + 1:]
            r["customer_number"] = number


def _unique_ids(records: dict[str, list[dict]]) -> None:
    for source, key in (("shop", "customer_id"), ("pos", "Kartennummer")):
        seen: set[str] = set()
        for r in records[source]:
            while r[key] in seen:
                prefix, digits = r[key].split("-")
                r[key] = f"{prefix}-{int(digits) + 1}"
            seen.add(r[key])


def write(out: Path, records: dict[str, list[dict]]) -> None:
    landing = out / "landing"
    for folder in ("shop", "newsletter", "hotline", "pos"):
        (landing / folder).mkdir(parents=True, exist_ok=True)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    with open(landing / "shop" / f"customers_{DAY}T0600.jsonl", "w", encoding="utf-8") as f:
        for r in records["shop"]:
            f.write(json.dumps({k: v for k, v in r.items() if k != "_pid"}, ensure_ascii=False) + "\n")
    plan = [("newsletter", f"subscribers_{DAY}.csv", "utf-8-sig", ","),
            ("hotline", f"calls_{DAY}.csv", "utf-8", ","), ("pos", f"kunden_{DAY}.csv", "cp1252", ";")]
    for source, name, encoding, delimiter in plan:
        columns = [c for c in records[source][0] if c != "_pid"]
        with open(landing / source / name, "w", encoding=encoding, newline="") as f:
            writer = csv.writer(f, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n" if source == "pos" else "\n")
            writer.writerow(columns)
            writer.writerows([r[c] for c in columns] for r in records[source])
    ids = {"shop": "customer_id", "newsletter": "subscriber_id", "hotline": "ticket_id", "pos": "Kartennummer"}
    with open(out / "truth" / "records.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["source", "source_record_id", "person_id"])
        for source, key in ids.items():
            writer.writerows([source, r[key], r["_pid"]] for r in records[source])


def generate(out: Path, persons: int, seed: int) -> None:
    rng = random.Random(seed)
    _TAKEN.clear()
    people = make_persons(rng, persons)
    records = make_records(rng, people)
    _unique_ids(records)
    _quote_numbers(rng, records)
    write(Path(out), records)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    generate(args.out, args.persons, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
