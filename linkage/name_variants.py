"""First-name variants learned from the data itself: `Tina` and `Martina`, `Andi` and
`Andreas`, `Kathi` and `Katharina` are one person's names when many different e-mail
addresses and mobile numbers are given under both.

The fixed list of usual short forms (`data/first_name_forms.csv`) knows the classic
pairs; real customers also use forms no list holds. Two names that share one contact
point prove nothing (a couple shares a family mailbox, a typo makes a name of its own),
so a pair counts only when it shares several contact points and far more often than the
two names' frequencies on shared contact points would make it by chance: a couple's
`Thomas`/`Sabine` is as common as the two names are, a nickname's pair is not.
"""

from __future__ import annotations

import duckdb

from linkage.engine import as_engine

# A pair of names must share at least this many distinct contact points...
MIN_SHARED_CONTACTS = 3
# ...and this many times more than two names of their frequencies would by chance.
MIN_LIFT = 10.0
# A contact point given under more distinct first names than this is a shop's or a
# family's catch-all, not one person's.
MAX_NAMES_PER_CONTACT = 4

LEARNED_VARIANTS_SQL = f"""
CREATE OR REPLACE TABLE first_name_variants AS
WITH given AS (
    -- Contact points of one person: an e-mail address (not a household's) or a mobile.
    SELECT DISTINCT contact, name FROM (
        SELECT 'e:' || email_std AS contact, first_name_key AS name FROM linkage_features
        WHERE email_std IS NOT NULL AND first_name_key IS NOT NULL AND NOT names_from_mailbox
        UNION ALL
        SELECT 'p:' || phone_e164, first_name_key FROM linkage_features
        WHERE phone_is_mobile AND first_name_key IS NOT NULL AND NOT names_from_mailbox
    )
), shared AS (
    SELECT g.* FROM given g JOIN (
        SELECT contact FROM given GROUP BY contact HAVING count(*) BETWEEN 2 AND {MAX_NAMES_PER_CONTACT}
    ) USING (contact)
), per_name AS (SELECT name, count(*) AS contacts FROM shared GROUP BY name),
together AS (
    SELECT a.name AS name_a, b.name AS name_b, count(*) AS contacts
    FROM shared a JOIN shared b ON a.contact = b.contact AND a.name < b.name
    GROUP BY ALL
)
SELECT t.name_a, t.name_b, t.contacts AS shared_contacts,
       t.contacts * (SELECT count(DISTINCT contact) FROM shared) / (na.contacts * nb.contacts) AS lift
FROM together t JOIN per_name na ON na.name = t.name_a JOIN per_name nb ON nb.name = t.name_b
WHERE t.contacts >= {MIN_SHARED_CONTACTS}
  AND t.contacts * (SELECT count(DISTINCT contact) FROM shared) >= {MIN_LIFT} * na.contacts * nb.contacts
ORDER BY name_a, name_b
"""


# The variants the model in force was fitted with (linkage.model_store.save_model).
STORED_VARIANTS = "linkage_model_first_name_variants"


def stored_variants_exist(con: duckdb.DuckDBPyConnection) -> bool:
    return as_engine(con).has_table(STORED_VARIANTS)


# Each name's learned variants, as the list a features row holds (from `first_name_variants`).
VARIANTS_OF_SQL = """
    SELECT name, list(other ORDER BY other) AS names FROM (
        SELECT name_a AS name, name_b AS other FROM first_name_variants
        UNION ALL SELECT name_b, name_a FROM first_name_variants) GROUP BY name
"""


def learn_variant_pairs(con: duckdb.DuckDBPyConnection, use_stored: bool = True) -> int:
    """`first_name_variants(name_a, name_b, shared_contacts, lift)` from `linkage_features`;
    returns the number of pairs learned.

    The variants are learned like the model's parameters, and kept with them: while a
    model is in force (`use_stored` and `STORED_VARIANTS` there), its variants are used as
    they are, and learned anew on the re-fit (`linkage.delta.plan_linkage`). Learned anew
    on every run, one more shared mailbox moved a pair of common names over the bar and
    changed the feature row of every record with either name (at a million persons 99,464
    records, 6 % of all, on a quiet day): a delta that was no delta."""
    if use_stored and stored_variants_exist(con):
        con.execute(f"CREATE OR REPLACE TABLE first_name_variants AS SELECT * FROM {STORED_VARIANTS}")
    else:
        con.execute(LEARNED_VARIANTS_SQL)
    return con.execute("SELECT count(*) FROM first_name_variants").fetchall()[0][0]


def learn_first_name_variants(con: duckdb.DuckDBPyConnection, use_stored: bool = True) -> int:
    """`learn_variant_pairs`, and each row of `linkage_features` given its `first_name_variants`
    list (the names learned to be its own's variants). Returns the number of pairs learned.
    (`linkage.features.build_features` joins the lists into the row it builds instead.)"""
    learned = learn_variant_pairs(con, use_stored)
    con.execute(
        f"""
        ALTER TABLE linkage_features ADD COLUMN IF NOT EXISTS first_name_variants VARCHAR[];
        UPDATE linkage_features f SET first_name_variants = v.names FROM ({VARIANTS_OF_SQL}) v
        WHERE f.first_name_key = v.name
        """
    )
    return learned
