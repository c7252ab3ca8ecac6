"""Online-shop customer accounts: JSON Lines, full snapshots; the newest snapshot wins."""

from sources.snapshots import snapshot_rows_sql
from sources.spec import RowCheck, SourceSpec, postal_code_sql, required, timestamp_check

SPEC = SourceSpec(
    name="shop",
    id_column="customer_id",
    email_column="email",
    phone_column="phone",
    pattern="*.jsonl",
    format="jsonl",
    snapshot=True,
    dated=True,
    columns=(
        "customer_id", "email", "first_name", "last_name", "company", "phone", "birthday",
        "address_street", "address_zip", "address_city", "address_country",
        "accepts_marketing", "accepts_marketing_updated_at", "created_at", "updated_at",
        "orders_count", "total_spent",
    ),
    required_columns=("customer_id",),
    json_paths={
        "address_street": "$.address.street",
        "address_zip": "$.address.zip",
        "address_city": "$.address.city",
        "address_country": "$.address.country",
    },
    row_checks=(
        required("customer_id"),
        timestamp_check("accepts_marketing_updated_at"),
        timestamp_check("created_at"),
        timestamp_check("updated_at"),
        RowCheck(
            "accepts_marketing IS NOT NULL AND lower(accepts_marketing) NOT IN ('true', 'false')",
            "'accepts_marketing is not true/false: ' || accepts_marketing",
        ),
        RowCheck(
            "total_spent IS NOT NULL AND try_cast(total_spent AS DECIMAL(12,2)) IS NULL",
            "'total_spent is not a number: ' || total_spent",
        ),
        RowCheck(
            "birthday IS NOT NULL AND try_cast(birthday AS DATE) IS NULL",
            "'birthday is not a YYYY-MM-DD date'",
        ),
    ),
)

# The snapshot in force is the whole truth (see sources.snapshots for which one that is);
# older snapshots only matter for lineage.
STAGED_SQL = f"""
WITH rows AS (
    SELECT * FROM ({snapshot_rows_sql(SPEC)})
    QUALIFY row_number() OVER (PARTITION BY trim(customer_id) ORDER BY _loaded_at DESC, _record_number DESC) = 1
)
SELECT
    'shop' AS source,
    trim(customer_id) AS source_record_id,
    NULL AS salutation,
    nullif(trim(first_name), '') AS first_name,
    nullif(trim(last_name), '') AS last_name,
    nullif(trim(company), '') AS company,
    nullif(trim(email), '') AS email,
    false AS email_bounced,
    nullif(trim(phone), '') AS phone,
    nullif(trim(address_street), '') AS street,
    {postal_code_sql('address_zip', 'address_country')} AS postal_code,
    nullif(trim(address_city), '') AS city,
    coalesce(upper(nullif(trim(address_country), '')), 'DE') AS country,
    NULL AS customer_number_ref,
    CASE WHEN nullif(trim(accepts_marketing_updated_at), '') IS NULL THEN NULL
         WHEN lower(accepts_marketing) = 'true' THEN 'yes'
         WHEN lower(accepts_marketing) = 'false' THEN 'no' END AS consent_decision,
    CASE WHEN lower(accepts_marketing) IN ('true', 'false')
         THEN CAST(try_cast(accepts_marketing_updated_at AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP) END AS consent_at,
    try_cast(total_spent AS DECIMAL(12,2)) AS revenue,
    CAST(try_cast(created_at AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP) AS first_seen_at,
    CAST(try_cast(coalesce(updated_at, created_at) AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP) AS last_seen_at,
    CAST(try_cast(coalesce(updated_at, created_at) AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP) AS record_updated_at,
    try_cast(birthday AS DATE) AS birth_date,
    NULL AS interests,
    NULL AS notes,
    _file_hash AS file_hash, _file_name AS file_name, _line_hint AS line_number
FROM rows
"""
