"""Loyalty cards at the tills: Windows-1252, `;`, German dates and amounts; increments
in which a card's newest row supersedes its older ones."""

from sources.spec import RowCheck, SourceSpec, missing, postal_code_sql, required


def german_date(column: str) -> str:
    return f"try_strptime(trim({column}), '%d.%m.%Y')"


def german_amount(column: str) -> str:
    # 1.234,56 -> 1234.56
    return f"try_cast(replace(replace(trim({column}), '.', ''), ',', '.') AS DECIMAL(12,2))"


def _date_check(column: str) -> RowCheck:
    return RowCheck(f"NOT {missing(column)} AND {german_date(column)} IS NULL",
                    f"'{column} is not a TT.MM.JJJJ date: ' || {column}")


SPEC = SourceSpec(
    name="pos",
    id_column="Kartennummer",
    email_column="E-Mail",
    phone_column="Telefon",
    pattern="*.csv",
    format="csv",
    dated=True,
    encoding="cp1252",
    delimiter=";",
    columns=("Kartennummer", "Anrede", "Vorname", "Nachname", "Strasse", "PLZ", "Ort", "Telefon",
             "E-Mail", "Geburtsdatum", "Filiale", "Umsatz", "Letzter_Einkauf", "Werbung_erlaubt"),
    required_columns=("Kartennummer", "Vorname", "Nachname", "Strasse", "PLZ", "Ort", "Werbung_erlaubt"),
    row_checks=(
        required("Kartennummer"),
        _date_check("Geburtsdatum"),
        _date_check("Letzter_Einkauf"),
        RowCheck(f"NOT {missing('Umsatz')} AND {german_amount('Umsatz')} IS NULL",
                 "'Umsatz is not an amount like 1.234,56: ' || Umsatz"),
        RowCheck("upper(trim(coalesce(Werbung_erlaubt, ''))) NOT IN ('J', 'N', 'JA', 'NEIN', '')",
                 "'Werbung_erlaubt is not J or N: ' || Werbung_erlaubt"),
    ),
)

STAGED_SQL = f"""
WITH history AS (
    SELECT trim(Kartennummer) AS card,
           min(_file_date) AS first_export,
           min({german_date('Letzter_Einkauf')}) AS first_purchase
    FROM raw_pos GROUP BY 1
), shop_places AS (
    -- Where the shop's customers say a place is: a card has no country, and a four-digit
    -- postcode is Austrian or Swiss (`1010 Wien`) as often as a German one that lost its
    -- leading zero (`1067 Dresden`).
    SELECT trim(address_zip) AS zip, lower(trim(address_city)) AS city,
           coalesce(upper(nullif(trim(address_country), '')), 'DE') AS country, count(*) AS records
    FROM raw_shop WHERE nullif(trim(address_city), '') IS NOT NULL GROUP BY ALL
), newest AS (
    SELECT * FROM raw_pos
    QUALIFY row_number() OVER (PARTITION BY trim(Kartennummer)
                               ORDER BY _file_date DESC NULLS LAST, _file_name DESC, _loaded_at DESC, _record_number DESC) = 1
), four_digits AS (
    SELECT trim(Kartennummer) AS card, trim(PLZ) AS plz, lower(trim(Ort)) AS city
    FROM newest WHERE regexp_matches(trim(PLZ), '^[0-9]{{4}}$')
), by_postcode AS (
    -- A four-digit postcode is in the country the shop's records give for that postcode
    -- and place (ties: the more records, then DE, AT, CH, then the name) ...
    SELECT f.card, arg_max(p.country, (p.records * 4 + CASE p.country WHEN 'DE' THEN 3 WHEN 'AT' THEN 2 ELSE 1 END,
                                       p.country)) AS country
    FROM four_digits f JOIN shop_places p ON p.city = f.city AND (p.zip = f.plz OR p.zip = '0' || f.plz)
    GROUP BY f.card
), by_place AS (
    -- ... or, failing that, for that place across the border; German otherwise.
    SELECT f.card, arg_max(p.country, (p.records * 4 + CASE p.country WHEN 'AT' THEN 2 ELSE 1 END, p.country)) AS country
    FROM four_digits f JOIN shop_places p ON p.city = f.city AND p.country <> 'DE' AND regexp_matches(p.zip, '^[0-9]{{4}}$')
    GROUP BY f.card
), card_country AS (
    SELECT trim(n.Kartennummer) AS card, coalesce(z.country, b.country, 'DE') AS country
    FROM newest n LEFT JOIN by_postcode z ON z.card = trim(n.Kartennummer)
    LEFT JOIN by_place b ON b.card = trim(n.Kartennummer)
)
SELECT
    'pos' AS source,
    trim(n.Kartennummer) AS source_record_id,
    CASE lower(trim(Anrede)) WHEN 'herr' THEN 'Herr' WHEN 'frau' THEN 'Frau' WHEN 'divers' THEN 'Divers' END AS salutation,
    nullif(trim(Vorname), '') AS first_name,
    nullif(trim(Nachname), '') AS last_name,
    NULL AS company,
    nullif(trim("E-Mail"), '') AS email,
    false AS email_bounced,
    nullif(trim(Telefon), '') AS phone,
    nullif(trim(Strasse), '') AS street,
    {postal_code_sql('PLZ', 'c.country')} AS postal_code,
    nullif(trim(Ort), '') AS city,
    c.country,
    NULL AS customer_number_ref,
    CASE WHEN upper(trim(Werbung_erlaubt)) IN ('J', 'JA') THEN 'yes' WHEN upper(trim(Werbung_erlaubt)) IN ('N', 'NEIN') THEN 'no' END
        AS consent_decision,
    CASE WHEN upper(trim(Werbung_erlaubt)) IN ('J', 'JA', 'N', 'NEIN') THEN n._file_date END AS consent_at,
    {german_amount('Umsatz')} AS revenue,
    least(h.first_export, h.first_purchase) AS first_seen_at,
    coalesce({german_date('Letzter_Einkauf')}, n._file_date) AS last_seen_at,
    n._file_date AS record_updated_at,
    CAST({german_date('Geburtsdatum')} AS DATE) AS birth_date,
    NULL AS interests,
    NULL AS notes,
    _file_hash AS file_hash, _file_name AS file_name, _line_hint AS line_number
FROM newest n JOIN history h ON h.card = trim(n.Kartennummer)
JOIN card_country c ON c.card = trim(n.Kartennummer)
"""
