"""Analysts' decisions on pairs from the review queue.

Format: `landing/reviews/*.csv`, UTF-8, comma-separated, header
`key_l,key_r,decision,reviewer,decided_at`; keys as in the review queue
(`shop:S-100234`, `pos:K-7781234`), decision `same` or `different`, decided_at ISO 8601.
A later decision on the same pair replaces an earlier one.
"""

from sources.spec import RowCheck, SourceSpec, required, timestamp_check

SPEC = SourceSpec(
    name="reviews",
    pattern="*.csv",
    format="csv",
    other_delimiters=(";", "\t"),
    columns=("key_l", "key_r", "decision", "reviewer", "decided_at"),
    required_columns=("key_l", "key_r", "decision"),
    row_checks=(
        required("key_l"),
        required("key_r"),
        RowCheck("lower(trim(coalesce(decision, ''))) NOT IN ('same', 'different')",
                 "'decision must be same or different, not: ' || coalesce(decision, '(empty)')"),
        timestamp_check("decided_at"),
    ),
)
