"""How a published golden file compares with the demo generator's ground truth.

Used by the end-to-end tests and by the benchmarks, so both judge the same way:
- linkage: pairwise and B-cubed scores of `customer_sources` against the true persons;
- consent: errors in the unsafe direction (published true, truth false) are counted apart;
- fields: per column, the share of correctly linked persons whose value is the expected one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd

from linkage.evaluation import LinkageScores, score_clusters

FIELD_COLUMNS = (
    "salutation", "first_name", "last_name", "email", "phone", "street", "house_number",
    "postal_code", "city", "country", "marketing_consent", "total_revenue",
)


@dataclass
class GoldenAccuracy:
    persons_expected: int
    golden_rows: int
    linkage: LinkageScores
    correctly_linked_persons: int
    consent_unsafe_errors: int
    consent_safe_errors: int
    # Of the unsafe errors, those on persons whose records were linked exactly right: these
    # are survivorship's own; the others come from linkage mistakes.
    consent_unsafe_errors_correctly_linked: int
    erased_records_published: int
    truth_records_missing: int
    field_accuracy: dict[str, float] = field(default_factory=dict)


def load_truth(truth_dir: Path, day: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    truth_dir = Path(truth_dir)
    records = pd.read_csv(truth_dir / "records.csv", dtype=str, keep_default_na=False, na_values=[""])
    persons_file = truth_dir / "persons.csv" if day is None else truth_dir / "expected_by_day" / f"day{day}_persons.csv"
    persons = pd.read_csv(persons_file, dtype=str, keep_default_na=False, na_values=[""])
    if day is not None:
        # The records a correct pipeline holds after that day's deliveries.
        records = records[(records["first_day"].astype(int) <= day) & (records["last_day"].astype(int) >= day)]
    return records, persons


def _truthy(value) -> bool:
    return str(value).strip().lower() in {"true", "1", "yes", "t"}


def _same(column: str, got, expected) -> bool:
    if pd.isna(got) and pd.isna(expected):
        return True
    if pd.isna(got) or pd.isna(expected):
        return False
    if column == "marketing_consent":
        return _truthy(got) == _truthy(expected)
    if column == "total_revenue":
        return abs(Decimal(str(got)) - Decimal(str(expected))) < Decimal("0.005")
    return str(got).strip() == str(expected).strip()


def compare_golden_to_truth(published_path: Path, truth_dir: Path, day: int | None = None) -> GoldenAccuracy:
    records, persons = load_truth(truth_dir, day)
    with duckdb.connect(str(published_path), read_only=True) as con:
        customers = con.execute("SELECT * FROM customers").df()
        sources = con.execute("SELECT golden_id, source, source_record_id FROM customer_sources").df()

    erased_persons = set(persons.loc[persons["erased"].map(_truthy), "person_id"]) if "erased" in persons else set()
    live_persons = persons[~persons["person_id"].isin(erased_persons)]
    # Only records of persons that should be published can be judged.
    records = records[records["person_id"].isin(set(persons["person_id"]))]
    linked = sources.merge(records, on=["source", "source_record_id"], how="left")

    erased_published = int(linked["person_id"].isin(erased_persons).sum())
    live_records = records[~records["person_id"].isin(erased_persons)]
    key = lambda frame: frame["source"] + ":" + frame["source_record_id"]
    truth = pd.Series(live_records["person_id"].values, index=key(live_records))
    predicted = pd.Series(linked["golden_id"].values, index=key(linked))
    missing = int((~truth.index.isin(predicted.index)).sum())
    linkage = score_clusters(predicted[~predicted.index.duplicated()], truth)

    # A person is correctly linked when exactly their published records form one golden row.
    judged = linked.dropna(subset=["person_id"])
    judged = judged[~judged["person_id"].isin(erased_persons)]
    per_golden = judged.groupby("golden_id")["person_id"].agg(["nunique", "first", "size"])
    per_golden = per_golden[per_golden["nunique"] == 1]
    per_golden["golden_rows_of_person"] = per_golden["first"].map(judged.groupby("person_id")["golden_id"].nunique())
    exact = per_golden[per_golden["golden_rows_of_person"] == 1]
    pairs = pd.DataFrame({"golden_id": exact.index, "person_id": exact["first"].values})

    # Consent is judged on every golden row by the person most of its records belong to.
    majority = judged.groupby("golden_id")["person_id"].agg(lambda s: s.value_counts().index[0]).rename("person_id")
    consent = customers[["golden_id", "marketing_consent"]].merge(majority.reset_index(), on="golden_id")
    consent = consent.merge(live_persons[["person_id", "marketing_consent"]], on="person_id", suffixes=("", "_expected"))
    got = consent["marketing_consent"].map(_truthy)
    want = consent["marketing_consent_expected"].map(_truthy)

    exact_ids = set(pairs["golden_id"])
    unsafe = got & ~want
    unsafe_exact = int((unsafe & consent["golden_id"].isin(exact_ids)).sum())

    compared = pairs.merge(customers, on="golden_id").merge(live_persons, on="person_id", suffixes=("", "_expected"))
    accuracy = {}
    for column in FIELD_COLUMNS:
        if column in customers and f"{column}_expected" in compared:
            # An expected value the exports never carried correctly cannot be judged.
            judged = compared if column in ("marketing_consent", "total_revenue", "salutation", "email", "phone") \
                else compared[compared[f"{column}_expected"].notna()]
            hits = [_same(column, g, e) for g, e in zip(judged[column], judged[f"{column}_expected"])]
            accuracy[column] = sum(hits) / len(hits) if hits else 1.0

    return GoldenAccuracy(
        persons_expected=len(live_persons),
        golden_rows=len(customers),
        linkage=linkage,
        correctly_linked_persons=len(pairs),
        consent_unsafe_errors=int((got & ~want).sum()),
        consent_safe_errors=int((~got & want).sum()),
        consent_unsafe_errors_correctly_linked=unsafe_exact,
        erased_records_published=erased_published,
        truth_records_missing=missing,
        field_accuracy=accuracy,
    )


def field_mismatches(published_path: Path, truth_dir: Path, column: str, day: int | None = None, limit: int = 20) -> pd.DataFrame:
    """Examples of wrong values in one column, for looking into a low field accuracy."""
    records, persons = load_truth(truth_dir, day)
    with duckdb.connect(str(published_path), read_only=True) as con:
        customers = con.execute("SELECT * FROM customers").df()
        sources = con.execute("SELECT golden_id, source, source_record_id FROM customer_sources").df()
    linked = sources.merge(records, on=["source", "source_record_id"])
    majority = linked.groupby("golden_id")["person_id"].agg(lambda s: s.value_counts().index[0]).rename("person_id")
    frame = customers.merge(majority.reset_index(), on="golden_id").merge(persons, on="person_id", suffixes=("", "_expected"))
    wrong = [not _same(column, g, e) for g, e in zip(frame[column], frame[f"{column}_expected"])]
    return frame.loc[wrong, ["golden_id", "person_id", column, f"{column}_expected"]].head(limit)
