"""Call-center tickets: CSV increments with multi-line quoted notes; tickets accumulate."""

from sources.spec import SourceSpec, required, timestamp_check

SPEC = SourceSpec(
    name="hotline",
    id_column="ticket_id",
    email_column="email",
    phone_column="caller_number",
    pattern="*.csv",
    format="csv",
    multiline_columns=("notes",),
    free_text_columns=("notes",),
    columns=("ticket_id", "opened_at", "caller_number", "caller_name", "customer_number",
             "email", "topic", "notes"),
    required_columns=("ticket_id", "opened_at", "caller_number", "caller_name", "customer_number", "email"),
    row_checks=(required("ticket_id"), timestamp_check("opened_at")),
)

# caller_name is typed by an agent as `Müller, Hans`, `Hans Müller`, `Frau Müller` or left
# empty; titles and name particles (`von der Heide`) are handled so the split is usable.
STAGED_SQL = r"""
WITH tickets AS (
    SELECT * FROM raw_hotline
    -- The first delivery of a ticket, by the files' dates and names, not by when they were
    -- loaded: files read in another order give the same ticket.
    QUALIFY row_number() OVER (PARTITION BY trim(ticket_id)
                               ORDER BY _file_date NULLS LAST, _file_name, _loaded_at, _record_number) = 1
), names AS (
    SELECT *,
        nullif(trim(regexp_replace(coalesce(caller_name, ''), '\s+', ' ', 'g')), '') AS name_clean
    FROM tickets
), parts AS (
    SELECT *,
        CASE WHEN regexp_matches(name_clean, '^(herr|hr\.)\s', 'i') THEN 'Herr'
             WHEN regexp_matches(name_clean, '^(frau|fr\.)\s', 'i') THEN 'Frau' END AS salutation_parsed,
        trim(regexp_replace(regexp_replace(name_clean, '^(herr|hr\.|frau|fr\.)\s+', '', 'i'),
                            '^((dr|prof|dipl\.-ing)\.?\s+)+', '', 'i')) AS name_rest
    FROM names
), split AS (
    SELECT *,
        CASE
            WHEN name_rest IS NULL OR name_rest = '' THEN NULL
            WHEN contains(name_rest, ',') THEN nullif(trim(split_part(name_rest, ',', 2)), '')
            WHEN NOT contains(name_rest, ' ') THEN NULL
            ELSE nullif(trim(regexp_extract(name_rest, '^(.*?)\s+((?:(?:von|van|de|der|den|zu|zum|vom|zur)\s+)*\S+)$', 1)), '')
        END AS first_parsed,
        CASE
            WHEN name_rest IS NULL OR name_rest = '' THEN NULL
            WHEN contains(name_rest, ',') THEN nullif(trim(split_part(name_rest, ',', 1)), '')
            WHEN NOT contains(name_rest, ' ') THEN name_rest
            ELSE nullif(trim(regexp_extract(name_rest, '^(.*?)\s+((?:(?:von|van|de|der|den|zu|zum|vom|zur)\s+)*\S+)$', 2)), '')
        END AS last_parsed
    FROM parts
)
SELECT
    'hotline' AS source,
    trim(ticket_id) AS source_record_id,
    salutation_parsed AS salutation,
    first_parsed AS first_name,
    last_parsed AS last_name,
    NULL AS company,
    nullif(trim(email), '') AS email,
    false AS email_bounced,
    CASE WHEN lower(trim(caller_number)) IN ('', 'anonymous', 'anonym', 'unbekannt') THEN NULL
         ELSE trim(caller_number) END AS phone,
    NULL AS street, NULL AS postal_code, NULL AS city, NULL AS country,
    nullif(upper(regexp_replace(coalesce(customer_number, ''), '\s', '', 'g')), '') AS customer_number_ref,
    NULL AS consent_decision,
    NULL::TIMESTAMP AS consent_at,
    NULL::DECIMAL(12,2) AS revenue,
    CAST(try_cast(opened_at AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP) AS first_seen_at,
    CAST(try_cast(opened_at AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP) AS last_seen_at,
    CAST(try_cast(opened_at AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP) AS record_updated_at,
    NULL::DATE AS birth_date,
    NULL AS interests,
    notes AS notes,
    _file_hash AS file_hash, _file_name AS file_name, _line_hint AS line_number
FROM split
"""
