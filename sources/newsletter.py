"""Newsletter subscribers: UTF-8 CSV with a byte-order mark, full snapshots incl. unsubscribed."""

from sources.snapshots import snapshot_rows_sql
from sources.spec import RowCheck, SourceSpec, required, timestamp_check

SPEC = SourceSpec(
    name="newsletter",
    id_column="subscriber_id",
    email_column="email",
    pattern="*.csv",
    format="csv",
    snapshot=True,
    dated=True,
    free_text_columns=("interests",),
    columns=("subscriber_id", "email", "salutation", "first_name", "last_name", "status",
             "opt_in_at", "opt_out_at", "interests"),
    required_columns=("subscriber_id", "email", "status"),
    row_checks=(
        required("subscriber_id"),
        timestamp_check("opt_in_at"),
        timestamp_check("opt_out_at"),
        RowCheck(
            "lower(trim(coalesce(status, ''))) NOT IN ('subscribed', 'pending', 'unsubscribed', 'bounced')",
            "'unknown status: ' || coalesce(status, '(empty)')",
        ),
    ),
)

# The snapshot in force is the whole truth (see sources.snapshots for which one that is).
STAGED_SQL = f"""
WITH rows AS (
    SELECT *, lower(trim(status)) AS status_norm,
           CAST(try_cast(opt_in_at AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP) AS opt_in,
           CAST(try_cast(opt_out_at AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP) AS opt_out
    FROM ({snapshot_rows_sql(SPEC)})
    QUALIFY row_number() OVER (PARTITION BY trim(subscriber_id) ORDER BY _loaded_at DESC, _record_number DESC) = 1
)
SELECT
    'newsletter' AS source,
    trim(subscriber_id) AS source_record_id,
    CASE lower(trim(salutation)) WHEN 'herr' THEN 'Herr' WHEN 'frau' THEN 'Frau' WHEN 'divers' THEN 'Divers' END AS salutation,
    nullif(trim(first_name), '') AS first_name,
    nullif(trim(last_name), '') AS last_name,
    NULL AS company,
    nullif(trim(email), '') AS email,
    status_norm = 'bounced' AS email_bounced,
    NULL AS phone, NULL AS street, NULL AS postal_code, NULL AS city, NULL AS country,
    NULL AS customer_number_ref,
    -- A bounce says the address is dead, not what the person wants.
    CASE status_norm WHEN 'subscribed' THEN 'yes' WHEN 'unsubscribed' THEN 'no' WHEN 'pending' THEN 'pending' END
        AS consent_decision,
    CASE status_norm WHEN 'subscribed' THEN opt_in WHEN 'unsubscribed' THEN coalesce(opt_out, opt_in)
                     WHEN 'pending' THEN opt_in END AS consent_at,
    NULL::DECIMAL(12,2) AS revenue,
    opt_in AS first_seen_at,
    greatest(opt_in, opt_out) AS last_seen_at,
    coalesce(greatest(opt_in, opt_out), _file_date) AS record_updated_at,
    NULL::DATE AS birth_date,
    nullif(trim(interests), '') AS interests,
    NULL AS notes,
    _file_hash AS file_hash, _file_name AS file_name, _line_hint AS line_number
FROM rows
"""
