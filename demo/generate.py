"""Demo exports with known answers.

    python -m demo.generate --persons 10000 --seed 42 --days 2 --out data/demo

writes `<out>/landing/<source>/...` in exactly the formats of the source-exports spec,
one delivery per day, and the ground truth in `<out>/truth/`:
- `records.csv`: source, source_record_id, person_id, first_day, last_day (the days on
  which a correct pipeline holds the record);
- `persons.csv` and `expected_by_day/day<N>_persons.csv`: the expected golden values;
- `malformed.csv`: rows broken on purpose (they must land in `rejects`).
"""

from __future__ import annotations

import argparse
import shutil
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from demo.exports import write_erasure, write_hotline, write_newsletter, write_pos, write_shop
from demo.population import make_persons
from demo.records import Timeline, hotline_records, newsletter_records, person_events, pos_records, shop_records
from demo.truth import expected_persons, live_records, record_lifetimes
from sources.identifiers import e164

INTERESTS = ("Angeln", "Garten", "Grillen", "Mode", "Kochen", "Reisen", "Heimwerken", "Sport", "Technik")


@dataclass
class GenerationSummary:
    persons: int
    records: int
    files_by_day: dict[int, list[str]] = field(default_factory=dict)
    malformed_rows: int = 0
    erased_persons: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        files = sum(len(v) for v in self.files_by_day.values())
        return (f"{self.persons} persons, {self.records} source records in {files} files over "
                f"{len(self.files_by_day)} days, {self.malformed_rows} malformed rows, "
                f"{self.erased_persons} erasure requests ({self.seconds:.1f} s)")


def _erasure_requests(persons: pd.DataFrame, versions: pd.DataFrame, timeline: Timeline, rng: np.random.Generator) -> dict[int, pd.DataFrame]:
    requests: dict[int, pd.DataFrame] = {}
    if timeline.days < 2:
        return requests
    with_mail = versions[versions["email_true"].notna() & ~versions["email_true"].fillna("").str.startswith("familie.")]
    candidates = np.unique(with_mail["person"].values)
    count = max(1, len(persons) // 1000)
    chosen = rng.choice(candidates, size=min(count, len(candidates)), replace=False)
    # A request names an address or number the company has on file for the person.
    mail_of = with_mail.groupby("person")["email_true"].first()
    phoned = versions[versions["phone_emitted"].notna()].groupby("person")["phone_emitted"].first()
    for k, person in enumerate(chosen):
        day = int(rng.integers(2, timeline.days + 1))
        p = persons.iloc[person]
        by_phone = person in phoned.index and k % 3 == 2
        row = {"request_id": f"DSR-{1000 + k}", "received_at": f"{timeline.dates[day - 1].date()}T05:00:00Z",
               "email": None if by_phone else mail_of[person], "phone": phoned[person] if by_phone else None,
               "person_id": p["person_id"]}
        requests.setdefault(day, []).append(row)
    return {d: pd.DataFrame(rows) for d, rows in requests.items()}


def generate(out_dir: Path, persons: int, seed: int = 42, days: int = 2, start_date: date = date(2026, 11, 20),
             landing_dir: Path | None = None) -> GenerationSummary:
    started = time.perf_counter()
    out_dir = Path(out_dir)
    landing = Path(landing_dir) if landing_dir else out_dir / "landing"
    truth_dir = out_dir / "truth"
    rng = np.random.default_rng(seed)
    timeline = Timeline(start_date, days)

    people = person_events(make_persons(persons, rng), timeline, rng)
    shop = shop_records(people, timeline, rng)
    newsletter = newsletter_records(people, timeline, rng)
    pos = pos_records(people, timeline, rng)
    hotline = hotline_records(people, timeline, rng, pd.concat([shop[["person", "record_id"]], pos[["person", "record_id"]]]))

    for folder in ("shop", "newsletter", "hotline", "pos", "erasure"):
        (landing / folder).mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    (truth_dir / "expected_by_day").mkdir(exist_ok=True)

    summary = GenerationSummary(persons, 0)
    malformed: list[dict] = []
    requests = _erasure_requests(people, pd.concat([shop, newsletter, pos]), timeline, rng)
    for day in range(1, days + 1):
        stamp = timeline.dates[day - 1].date().isoformat()
        names = []
        path = landing / "shop" / f"customers_{stamp}T0600.jsonl"
        malformed += write_shop(shop[shop["day"] == day], path, rng)
        names.append(path.name)
        path = landing / "newsletter" / f"subscribers_{stamp}.csv"
        today = newsletter[newsletter["day"] == day]
        picks = rng.integers(0, len(INTERESTS), (len(today), 2))
        interests = [";".join(sorted({INTERESTS[a], INTERESTS[b]})) if a % 3 else "" for a, b in picks]
        malformed += write_newsletter(today, path, rng, np.array(interests, dtype=object))
        names.append(path.name)
        path = landing / "hotline" / f"calls_{stamp}.csv"
        malformed += write_hotline(hotline[hotline["day"] == day], path, rng)
        names.append(path.name)
        path = landing / "pos" / f"kunden_{stamp}.csv"
        malformed += write_pos(pos[pos["day"] == day], path, rng)
        names.append(path.name)
        if day in requests:
            path = landing / "erasure" / f"requests_{stamp}.csv"
            write_erasure(requests[day], path)
            names.append(path.name)
        summary.files_by_day[day] = names

    broken = pd.DataFrame(malformed, columns=["source", "file_name", "line_number", "kind", "record_id"])
    broken.to_csv(truth_dir / "malformed.csv", index=False)
    versions = pd.concat([shop, newsletter, pos, hotline], ignore_index=True)
    day_of_file = {name: d for d, files in summary.files_by_day.items() for name in files}
    broken_keys = {(r.source, r.record_id, day_of_file[r.file_name]) for r in broken.itertuples()}
    versions["malformed"] = [(s, r, d) in broken_keys for s, r, d in zip(versions["source"], versions["record_id"], versions["day"])]

    # Each phone as written is parsed once, not once per day, in the region of the
    # person's address (the contract: an Austrian number in national notation is +43).
    versions["phone_e164"] = e164(versions["phone_emitted"], versions["country_true"])
    erased: set[str] = set()
    for day in range(1, days + 1):
        if day in requests:
            erased |= set(requests[day]["person_id"])
        expected = expected_persons(live_records(versions, day), people, erased)
        expected.to_csv(truth_dir / "expected_by_day" / f"day{day}_persons.csv", index=False)
    shutil.copyfile(truth_dir / "expected_by_day" / f"day{days}_persons.csv", truth_dir / "persons.csv")
    lifetimes = record_lifetimes(versions, people, days)
    lifetimes.to_csv(truth_dir / "records.csv", index=False)
    pd.concat(requests.values()).to_csv(truth_dir / "erasure_requests.csv", index=False) if requests else None

    summary.records = len(lifetimes)
    summary.malformed_rows = len(broken)
    summary.erased_persons = len(erased)
    summary.seconds = time.perf_counter() - started
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.generate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("data/demo"))
    parser.add_argument("--landing", type=Path, default=None, help="write the exports into this landing folder instead")
    args = parser.parse_args(argv)
    print(generate(args.out, args.persons, args.seed, args.days, landing_dir=args.landing))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
