"""The change feed marketing reads: a row per changed column with old and new value,
consent changes typed, and the README's consent query working as written."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import duckdb

from demo.generate import generate
from pipelines.steps import run_all_steps
from warehouse.settings import Settings

from tests.conftest import PROJECT_ROOT
from tests.generated import deliver, delivery_days


def readme_consent_query() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index("whose consent\nchanged since yesterday"):]
    return re.search(r'\.sql\("""(.*?)"""\)', block, re.S).group(1)


def shown(value) -> str | None:
    """A golden value as the change feed writes it (VARCHAR)."""
    if value is None:
        return None
    return str(value).lower() if isinstance(value, bool) else str(value)


def test_changed_columns_carry_old_and_new_values_and_the_readme_query_lists_consent_changes(tmp_path):
    generate(tmp_path / "demo", persons=600, seed=41, days=2)
    settings = Settings(landing_dir=tmp_path / "landing", warehouse_path=tmp_path / "warehouse.duckdb",
                        published_path=tmp_path / "golden.duckdb", reports_dir=tmp_path / "reports")
    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    snapshots = []
    for day, run_at in zip(delivery_days(tmp_path / "demo" / "landing"), (now - timedelta(days=2), now)):
        deliver(tmp_path / "demo" / "landing", settings.landing_dir, day)
        run_all_steps(settings, run_at)
        with duckdb.connect(str(settings.published_path), read_only=True) as con:
            snapshots.append({r[0]: r for r in con.execute(
                "SELECT golden_id, first_name, last_name, email, city, marketing_consent FROM customers").fetchall()})
    day1, day2 = snapshots
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        rows = con.execute("SELECT golden_id, change_type, column_name, old_value, new_value FROM customer_changes "
                           "WHERE run_at = ? AND column_name IS NOT NULL", [now]).fetchall()
        consent_rows = con.execute(readme_consent_query()).fetchall()
    assert rows
    position = {"first_name": 1, "last_name": 2, "email": 3, "city": 4, "marketing_consent": 5}
    for golden_id, change_type, column, old, new in rows:
        assert old != new
        if column in position and golden_id in day1 and golden_id in day2:
            assert (old, new) == (shown(day1[golden_id][position[column]]), shown(day2[golden_id][position[column]]))
        expected = {"true": "consent_given", "false": "consent_withdrawn"}[new] if column == "marketing_consent" else "updated"
        assert change_type == expected
    consent_changes = {(g, t) for g, t, c, _, _ in rows if c == "marketing_consent"}
    assert consent_changes, "the generated second day changes some consent decisions"
    assert {(r[2], r[1]) for r in consent_rows} == consent_changes
    assert all(r[0] == now for r in consent_rows)
