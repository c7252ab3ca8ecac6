"""The expectation suites as data: what is checked, on which frame, and whether a failure
blocks publishing (marketing depends on it) or only warns (analysts look into it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import great_expectations.expectations as gxe

EMAIL = r"^[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}$"
E164 = r"^\+[1-9][0-9]{6,14}$"
GERMAN_POSTCODE = r"^[0-9]{5}$"


@dataclass(frozen=True)
class Check:
    expectation: gxe.Expectation
    blocking: bool
    why: str


def staged_checks(now: datetime) -> list[Check]:
    return [
        Check(gxe.ExpectColumnValuesToNotBeNull(column="source_record_id"), False, "every record has its source id"),
        Check(gxe.ExpectColumnValuesToBeUnique(column="source_record_id"), False, "one current row per source record"),
        Check(gxe.ExpectColumnValuesToMatchRegex(column="email", regex=EMAIL, mostly=0.95), False, "e-mail addresses look like e-mail addresses"),
        Check(gxe.ExpectColumnValuesToMatchRegex(column="postal_code_de", regex=GERMAN_POSTCODE, mostly=0.95), False, "German postcodes have five digits"),
        Check(gxe.ExpectColumnValuesToBeBetween(column="first_seen_at", min_value=datetime(1990, 1, 1), max_value=now + timedelta(days=1)),
              False, "activity dates are plausible"),
        Check(gxe.ExpectColumnValuesToBeInSet(column="consent_decision", value_set=["yes", "no", "pending"]), False, "known consent values"),
    ]


def golden_checks() -> dict[str, list[Check]]:
    """Checks per frame: `customers` (the table to publish), `coverage` (source records
    not linked exactly once) and `privacy` (sensitive values or columns found)."""
    return {
        "customers": [
            Check(gxe.ExpectColumnValuesToNotBeNull(column="golden_id"), True, "every person has an id"),
            Check(gxe.ExpectColumnValuesToBeUnique(column="golden_id"), True, "one row per person"),
            Check(gxe.ExpectColumnValuesToNotBeNull(column="marketing_consent"), True, "consent is never unknown"),
            Check(gxe.ExpectColumnValuesToBeInSet(column="consent_without_decision", value_set=[False]), True,
                  "consent is true only with a recorded decision behind it"),
            Check(gxe.ExpectColumnValuesToBeInSet(column="consent_agrees_with_latest_decision", value_set=[True]), True,
                  "consent equals the latest explicit decision in the person's records"),
            Check(gxe.ExpectColumnValuesToBeInSet(column="consent_not_suppressed", value_set=[True]), True,
                  "no yes for an e-mail address that opted out later anywhere in the data"),
            Check(gxe.ExpectColumnValuesToMatchRegex(column="phone", regex=E164), False, "phones are E.164"),
            Check(gxe.ExpectColumnValuesToMatchRegex(column="email", regex=EMAIL), False, "e-mail addresses are well-formed"),
            Check(gxe.ExpectColumnValuesToMatchRegex(column="postal_code_de", regex=GERMAN_POSTCODE, mostly=0.99), False,
                  "German postcodes have five digits"),
        ],
        "coverage": [
            Check(gxe.ExpectTableRowCountToEqual(value=0), True, "every staged record is in customer_sources exactly once"),
        ],
        "privacy": [
            Check(gxe.ExpectTableRowCountToEqual(value=0), True,
                  "no birthday, interest or hotline note (nor a column for one) in what is published"),
        ],
    }
