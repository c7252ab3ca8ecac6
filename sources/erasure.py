"""Data-protection erasure requests (GDPR Art. 17)."""

from sources.spec import RowCheck, SourceSpec, missing, required, timestamp_check

SPEC = SourceSpec(
    name="erasure",
    pattern="*.csv",
    format="csv",
    columns=("request_id", "received_at", "email", "phone", "golden_id"),
    required_columns=("request_id", "received_at", "email", "phone", "golden_id"),
    row_checks=(
        required("request_id"),
        timestamp_check("received_at"),
        RowCheck(f"{missing('email')} AND {missing('phone')} AND {missing('golden_id')}",
                 "'names nobody: email, phone and golden_id are all empty'"),
    ),
)
