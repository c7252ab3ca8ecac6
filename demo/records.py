"""Source records over delivery days: which person has which accounts, cards, subscriptions
and tickets, and what each version of a record says (noise included).

Every emitted record version is one row of a single frame, so the writers (exports.py) and
the ground truth (truth.py) read the very same values.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from demo.noise import noisy_emails, noisy_names, noisy_streets, phone_notations

HISTORY_START = datetime(2019, 1, 1)


def _times(rng: np.random.Generator, start, end, n: int) -> pd.Series:
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if isinstance(start, pd.Timestamp) and np.ndim(start) == 0 and np.ndim(end) == 0:
        span = (end - start).total_seconds()
        return pd.Series(start + pd.to_timedelta(rng.random(n) * span, unit="s")).dt.floor("s")
    raise TypeError


def _between(rng: np.random.Generator, starts: pd.Series, ends: pd.Series) -> pd.Series:
    span = (ends.values - starts.values).astype("timedelta64[s]").astype(float)
    return pd.Series(starts.values + (rng.random(len(starts)) * np.maximum(span, 0)).astype("timedelta64[s]")).dt.floor("s")


class Timeline:
    def __init__(self, start_date: date, days: int):
        self.days = days
        self.dates = [datetime.combine(start_date + timedelta(days=d), datetime.min.time()) for d in range(days)]

    def export_time(self, day: int) -> datetime:  # day is 1-based
        return self.dates[day - 1] + timedelta(hours=6)


def person_events(persons: pd.DataFrame, timeline: Timeline, rng: np.random.Generator) -> pd.DataFrame:
    """When each person moved or married (NaT if never): before the first export or between
    two deliveries, so both history and change show up."""
    n = len(persons)
    last = timeline.export_time(timeline.days) - timedelta(hours=1)
    recent = rng.random(n) < 0.3
    window_start = timeline.export_time(1) if timeline.days > 1 else HISTORY_START
    move_times = np.where(recent, _times(rng, window_start, last, n), _times(rng, datetime(2024, 1, 1), timeline.export_time(1), n))
    persons = persons.copy()
    persons["move_time"] = pd.Series(move_times).where(persons["moved"].values)
    marriage_times = _times(rng, datetime(2023, 1, 1), last, n)
    persons["marriage_time"] = marriage_times.where(persons["married_name"].notna().values)
    return persons


def state_at(persons: pd.DataFrame, person: np.ndarray, t: pd.Series) -> pd.DataFrame:
    """The true name and address of each person at time t."""
    p = persons.iloc[person].reset_index(drop=True)
    t = pd.Series(pd.to_datetime(t.values))
    moved = p["move_time"].notna() & (t > p["move_time"])
    married = p["marriage_time"].notna() & (t > p["marriage_time"])
    return pd.DataFrame({
        "first_true": p["first_name"].values,
        "last_true": np.where(married, p["married_name"], p["last_name"]),
        "street_true": np.where(moved, p["new_street"], p["street"]),
        "house_true": np.where(moved, p["new_house_number"], p["house_number"]),
        "postal_true": np.where(moved, p["new_postal_code"], p["postal_code"]),
        "city_true": p["city"].values,
        "country_true": p["country"].values,
        "salutation_true": p["salutation"].values,
    })


def _phones(persons: pd.DataFrame, person: np.ndarray, rng: np.random.Generator, present: float) -> np.ndarray:
    p = persons.iloc[person]
    use_mobile = (rng.random(len(person)) < 0.6) | p["landline"].isna().values
    sub = np.where(use_mobile, p["mobile"].fillna("").str.split(" ").str[1], p["landline"])
    area = np.where(use_mobile, p["mobile"].fillna("").str.split(" ").str[0], p["area_code"])
    sub = np.where((rng.random(len(person)) < present) & (pd.Series(sub).fillna("") != "").values, sub, None)
    return phone_notations(area, sub, rng)


def _decorate(frame: pd.DataFrame, persons: pd.DataFrame, rng: np.random.Generator, *, names: float,
              street: bool, phone: float, email: float, salutation: float) -> pd.DataFrame:
    """Adds the true state at the record's time and the (noisy) emitted values."""
    state = state_at(persons, frame["person"].values, frame["t_record"])
    frame = pd.concat([frame.reset_index(drop=True), state], axis=1)
    n = len(frame)
    has_names = rng.random(n) < names
    p = persons.iloc[frame["person"].values]
    # Some records carry what the person is called rather than their name.
    called = np.where(rng.random(n) < 0.04, p["nickname"].values, frame["first_true"].values)
    first = noisy_names(called, rng)
    # A double surname is often written with one part only, either part.
    last_written = frame["last_true"].astype(object).values.copy()
    double = np.array([isinstance(v, str) and "-" in v for v in last_written]) & (rng.random(n) < 0.35)
    part = rng.integers(0, 2, n)
    last_written[double] = [v.split("-")[k] for v, k in zip(last_written[double], part[double])]
    last = noisy_names(last_written, rng)
    swapped = rng.random(n) < 0.01
    frame["first_emitted"] = np.where(has_names & (rng.random(n) > 0.03), np.where(swapped, last, first), None)
    frame["last_emitted"] = np.where(has_names, np.where(swapped, first, last), None)
    frame["salutation_emitted"] = np.where(rng.random(n) < salutation, frame["salutation_true"], None)
    frame["street_emitted"] = noisy_streets(frame["street_true"].values, frame["house_true"].values, rng) if street else None
    frame["phone_emitted"] = _phones(persons, frame["person"].values, rng, phone)
    which = np.where(p["email2"].notna().values & (rng.random(n) < 0.3), p["email2"].values, p["email"].values)
    frame["email_true"] = np.where(rng.random(n) < email, which, None)
    frame["email_emitted"] = noisy_emails(frame["email_true"].values, rng)
    return frame


def _ids(prefix: str, n: int, rng: np.random.Generator, start: int, width: int) -> np.ndarray:
    numbers = rng.permutation(np.arange(start, start + n * 3))[:n]
    return np.array([f"{prefix}{x:0{width}d}" for x in numbers], dtype=object)


def shop_records(persons: pd.DataFrame, timeline: Timeline, rng: np.random.Generator) -> pd.DataFrame:
    n = len(persons)
    owners = np.flatnonzero(rng.random(n) < 0.6)
    second = owners[rng.random(len(owners)) < 0.05]
    late = np.flatnonzero(rng.random(n) < 0.01) if timeline.days > 1 else np.array([], dtype=int)
    person = np.concatenate([owners, second, late])
    accounts = pd.DataFrame({"person": person, "record_id": _ids("S-", len(person), rng, 100000, 6)})
    first_export = timeline.export_time(1)
    accounts["created_at"] = _times(rng, HISTORY_START, first_export - timedelta(days=1), len(accounts))
    accounts["first_day"] = 1
    if len(late):
        accounts.loc[len(owners) + len(second):, "first_day"] = rng.integers(2, timeline.days + 1, len(late))
        idx = accounts.index[len(owners) + len(second):]
        accounts.loc[idx, "created_at"] = [timeline.export_time(int(d)) - timedelta(hours=int(h) + 1)
                                           for d, h in zip(accounts.loc[idx, "first_day"], rng.integers(0, 20, len(idx)))]
    accounts["deleted_day"] = np.where(rng.random(len(accounts)) < 0.015, rng.integers(2, timeline.days + 2, len(accounts)), 99)
    accounts["has_decision"] = rng.random(len(accounts)) < 0.7
    accounts["total_spent"] = np.round(rng.gamma(1.5, 120, len(accounts)), 2)

    versions = []
    for day in range(1, timeline.days + 1):
        live = accounts[(accounts.first_day <= day) & (accounts.deleted_day > day)].copy()
        live["day"] = day
        versions.append(live)
    rows = pd.concat(versions, ignore_index=True)
    # A version changes when the account was updated since the previous export.
    export = rows["day"].map(timeline.export_time)
    previous = rows["day"].map(lambda d: timeline.export_time(d - 1) if d > 1 else None)
    p = persons.iloc[rows["person"].values]
    life_event = ((p["move_time"] > previous.values) & (p["move_time"] <= export.values)) | (
        (p["marriage_time"] > previous.values) & (p["marriage_time"] <= export.values))
    updated = (rows["day"] > 1) & ((rng.random(len(rows)) < 0.05) | life_event.values)
    rows["version"] = updated.astype(int).groupby(rows["record_id"]).cumsum()
    first_versions = rows.drop_duplicates(["record_id", "version"]).copy()
    first_versions["t_record"] = np.where(
        first_versions["version"] == 0,
        _between(rng, first_versions["created_at"], pd.Series(first_export - timedelta(hours=1), index=first_versions.index).where(first_versions["first_day"] == 1, first_versions["created_at"] + pd.Timedelta(minutes=5))),
        _between(rng, pd.Series(first_versions["day"].map(lambda d: timeline.export_time(d - 1)).values), pd.Series(first_versions["day"].map(lambda d: timeline.export_time(d) - timedelta(minutes=30)).values)),
    )
    first_versions["t_record"] = pd.to_datetime(first_versions["t_record"]).dt.floor("s")
    first_versions["t_record"] = first_versions[["t_record", "created_at"]].max(axis=1)
    decided = first_versions["has_decision"] & ((first_versions["version"] == 0) | (rng.random(len(first_versions)) < 0.3))
    first_versions["accepts"] = rng.random(len(first_versions)) < 0.45
    first_versions["consent_at"] = pd.Series(_between(rng, first_versions["created_at"], first_versions["t_record"]).values).where(decided.values).values
    # Without a new decision a version keeps the previous one.
    first_versions = first_versions.sort_values(["record_id", "version"])
    for column in ("accepts", "consent_at"):
        first_versions[column] = first_versions[column].where(decided.loc[first_versions.index])
        first_versions[column] = first_versions.groupby("record_id")[column].ffill()
    first_versions["accepts"] = first_versions["accepts"].where(first_versions["consent_at"].notna(), False)
    first_versions["total_spent"] = np.round(first_versions["total_spent"] + first_versions["version"] * rng.gamma(1.0, 40, len(first_versions)), 2)
    first_versions["birthday"] = np.where(rng.random(len(first_versions)) < 0.3, persons.iloc[first_versions["person"].values]["birth_date"].astype(str).values, None)
    first_versions = _decorate(first_versions, persons, rng, names=0.99, street=True, phone=0.4, email=0.98, salutation=0.0)
    first_versions["email_emitted"] = first_versions["email_emitted"].where(first_versions["email_emitted"].notna(), None)
    keep = ["record_id", "version"]
    rows = rows[["record_id", "version", "day"]].merge(first_versions.drop(columns=["day"]), on=keep)
    rows["source"] = "shop"
    rows["consent_decision"] = np.where(rows["consent_at"].notna(), np.where(rows["accepts"], "yes", "no"), None)
    rows["revenue"] = rows["total_spent"]
    rows["bounced"] = False
    return rows


def newsletter_records(persons: pd.DataFrame, timeline: Timeline, rng: np.random.Generator) -> pd.DataFrame:
    n = len(persons)
    person = np.flatnonzero(rng.random(n) < 0.4)
    subs = pd.DataFrame({"person": person, "record_id": _ids("NL-", len(person), rng, 1000, 6)})
    m = len(subs)
    subs["status"] = rng.choice(["subscribed", "unsubscribed", "pending", "bounced"], m, p=[0.6, 0.22, 0.06, 0.12])
    first_export = timeline.export_time(1)
    subs["opt_in"] = _times(rng, HISTORY_START, first_export - timedelta(days=2), m)
    subs["opt_out"] = _between(rng, subs["opt_in"], pd.Series([first_export - timedelta(days=1)] * m)).where(subs["status"] == "unsubscribed")
    subs.loc[subs["status"] == "pending", "opt_in"] = pd.NaT
    rows = []
    for day in range(1, timeline.days + 1):
        snap = subs.copy()
        snap["day"] = day
        rows.append(snap)
        if day < timeline.days:  # changes that show in the next snapshot
            start, end = timeline.export_time(day), timeline.export_time(day + 1) - timedelta(minutes=30)
            leave = (subs["status"] == "subscribed") & (rng.random(m) < 0.03)
            subs.loc[leave, "status"] = "unsubscribed"
            subs.loc[leave, "opt_out"] = _times(rng, start, end, int(leave.sum())).values
            confirm = (subs["status"] == "pending") & (rng.random(m) < 0.3)
            subs.loc[confirm, "status"] = "subscribed"
            subs.loc[confirm, "opt_in"] = _times(rng, start, end, int(confirm.sum())).values
    rows = pd.concat(rows, ignore_index=True)
    rows["t_record"] = rows[["opt_in", "opt_out"]].max(axis=1)
    rows["t_record"] = rows["t_record"].fillna(rows["day"].map(lambda d: timeline.dates[d - 1]))
    versions = rows.drop_duplicates(["record_id", "status", "opt_in", "opt_out"]).copy()
    versions = _decorate(versions, persons, rng, names=0.55, street=False, phone=0.0, email=1.0, salutation=0.7)
    # The subscriber's e-mail does not change between snapshots.
    versions["email_emitted"] = versions.groupby("record_id")["email_emitted"].transform("first")
    versions["email_true"] = versions.groupby("record_id")["email_true"].transform("first")
    rows = rows.merge(versions[["record_id", "status", "opt_in", "opt_out", *[c for c in versions.columns if c.endswith(("_true", "_emitted"))]]],
                      on=["record_id", "status", "opt_in", "opt_out"], how="left")
    rows["source"] = "newsletter"
    rows["bounced"] = rows["status"] == "bounced"
    rows["consent_decision"] = rows["status"].map({"subscribed": "yes", "unsubscribed": "no", "pending": "pending"})
    rows["consent_at"] = np.where(rows["status"] == "subscribed", rows["opt_in"],
                                  np.where(rows["status"] == "unsubscribed", rows["opt_out"].fillna(rows["opt_in"]), rows["opt_in"]))
    rows["consent_at"] = pd.to_datetime(rows["consent_at"]).where(rows["status"] != "bounced")
    rows["revenue"] = np.nan
    return rows


def pos_records(persons: pd.DataFrame, timeline: Timeline, rng: np.random.Generator) -> pd.DataFrame:
    domestic = np.flatnonzero((persons["country"] == "DE").values & (rng.random(len(persons)) < 0.5))
    second = domestic[rng.random(len(domestic)) < 0.03]
    late = np.flatnonzero((persons["country"] == "DE").values & (rng.random(len(persons)) < 0.01)) if timeline.days > 1 else np.array([], dtype=int)
    person = np.concatenate([domestic, second, late])
    cards = pd.DataFrame({"person": person, "record_id": _ids("K-", len(person), rng, 7_000_000, 7)})
    cards["first_day"] = 1
    cards.loc[len(domestic) + len(second):, "first_day"] = rng.integers(2, timeline.days + 1, len(late)) if len(late) else 1
    cards["umsatz"] = np.round(rng.gamma(1.2, 150, len(cards)), 2)
    cards["consent"] = rng.choice(["J", "N", ""], len(cards), p=[0.4, 0.4, 0.2])
    rows = []
    for day in range(1, timeline.days + 1):
        export = timeline.dates[day - 1]
        if day == 1:
            changed = cards["first_day"] == 1
        else:
            p = persons.iloc[cards["person"].values]
            previous, now = timeline.export_time(day - 1), timeline.export_time(day)
            event = ((p["move_time"] > previous) & (p["move_time"] <= now)) | ((p["marriage_time"] > previous) & (p["marriage_time"] <= now))
            changed = (cards["first_day"] == day) | ((cards["first_day"] < day) & ((rng.random(len(cards)) < 0.06) | event.values))
            new_decision = changed & (rng.random(len(cards)) < 0.2)
            cards.loc[new_decision, "consent"] = rng.choice(["J", "N"], int(new_decision.sum()))
            cards.loc[changed, "umsatz"] = np.round(cards.loc[changed, "umsatz"] + rng.gamma(1.0, 30, int(changed.sum())), 2)
        part = cards[changed.values].copy()
        part["day"] = day
        part["t_record"] = pd.Timestamp(export)
        part["last_purchase"] = [export - timedelta(days=int(d)) for d in rng.integers(0 if day > 1 else 1, 400 if day == 1 else 2, len(part))]
        rows.append(part)
    rows = pd.concat(rows, ignore_index=True)
    # The state at the export's time decides name and address (a move shows in the next file).
    rows = _decorate(rows.assign(t_record=rows["day"].map(timeline.export_time)), persons, rng,
                     names=1.0, street=True, phone=0.3, email=0.3, salutation=0.9)
    rows["t_record"] = rows["day"].map(lambda d: pd.Timestamp(timeline.dates[d - 1]))
    rows["source"] = "pos"
    rows["birthday"] = np.where(rng.random(len(rows)) < 0.6, persons.iloc[rows["person"].values]["birth_date"].values, None)
    rows["consent_decision"] = rows["consent"].map({"J": "yes", "N": "no", "": None})
    rows["consent_at"] = rows["t_record"].where(rows["consent_decision"].notna())
    rows["revenue"] = rows["umsatz"]
    rows["bounced"] = False
    return rows


NOTES = (
    "Paket nicht angekommen, Kunde verärgert.", 'Fragt nach Retourenlabel, "dringend".',
    "Karte verloren.\nNeue Karte angefordert.", "Rückruf erbeten; bitte nach 17 Uhr.",
    "Rechnung doppelt, Gutschrift zugesagt", "Adresse geändert? Kunde unsicher,\nbitte prüfen.",
    "Gutschein, 10 € – eingelöst?", "Beschwerde über Filiale; Ton \"unfreundlich\".",
)
TOPICS = ("Lieferung", "Retoure", "Kundenkarte", "Rechnung", "Newsletter", "Beschwerde", "Gutschein")


def hotline_records(persons: pd.DataFrame, timeline: Timeline, rng: np.random.Generator,
                    quotable: pd.DataFrame) -> pd.DataFrame:
    rows = []
    counter = 90000
    for day in range(1, timeline.days + 1):
        share = 0.12 if day == 1 else 0.06
        callers = np.flatnonzero(rng.random(len(persons)) < share)
        callers = np.concatenate([callers, callers[rng.random(len(callers)) < 0.3]])
        start = timeline.export_time(day) - timedelta(days=1)
        part = pd.DataFrame({"person": callers, "day": day})
        part["t_record"] = _times(rng, start, timeline.export_time(day) - timedelta(minutes=5), len(part))
        part["record_id"] = [f"T-{counter + i}" for i in range(len(part))]
        counter += len(part)
        rows.append(part)
    rows = pd.concat(rows, ignore_index=True)
    rows = _decorate(rows, persons, rng, names=0.9, street=False, phone=0.75, email=0.2, salutation=0.0)
    n = len(rows)
    form = rng.choice(4, n, p=[0.35, 0.35, 0.2, 0.1])
    rows["caller_name"] = [
        "" if f == 3 or l is None else (f"{l}, {fi}" if f == 0 and fi else f"{fi} {l}" if f == 1 and fi else f"{s} {l}")
        for f, fi, l, s in zip(form, rows["first_emitted"], rows["last_emitted"], rows["salutation_true"])
    ]
    rows["caller_name"] = [c.replace("Divers ", "") for c in rows["caller_name"]]
    # What the caller's name tells the staging: `Frau Müller` carries a salutation.
    rows["salutation_emitted"] = np.where(form == 2, rows["salutation_true"], None)
    rows["salutation_emitted"] = np.where(rows["salutation_emitted"] == "Divers", None, rows["salutation_emitted"])
    rows["first_emitted"] = np.where(np.isin(form, [0, 1]), rows["first_emitted"], None)
    rows["last_emitted"] = np.where(form == 3, None, rows["last_emitted"])
    # Hotline phones are shown compact by the phone system.
    compact = rows["phone_emitted"].map(lambda p: None if p is None else "".join(ch for ch in p if ch.isdigit() or ch == "+").replace("+49(0)", "+49").replace("0049", "+49"))
    rows["phone_emitted"] = compact
    rows.loc[rng.random(n) < 0.2, "phone_emitted"] = None
    own = quotable.groupby("person")["record_id"].first()
    quoted = rows["person"].map(own)
    quote = (rng.random(n) < 0.45) & quoted.notna()
    mistyped = quote & (rng.random(n) < 0.06)
    rows["customer_number"] = np.where(quote, quoted, "")
    rows.loc[mistyped, "customer_number"] = [
        q[:-2] + str((int(q[-2]) + 1) % 10) + q[-1] for q in rows.loc[mistyped, "customer_number"]
    ]
    rows["topic"] = rng.choice(TOPICS, n)
    rows["notes"] = rng.choice(NOTES, n)
    rows["source"] = "hotline"
    rows["consent_decision"] = None
    rows["consent_at"] = pd.NaT
    rows["revenue"] = np.nan
    rows["bounced"] = False
    rows["street_emitted"] = None
    return rows
