"""The landing sensor's bookkeeping: which files are new, and what a run must cover."""

from __future__ import annotations

import os

import dagster as dg

from pipelines.automation import landing_files, new_files, run_request_for
from pipelines.ingest_assets import raw_asset_key


def _drop(landing, relative: str, text: str) -> None:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_only_files_in_watched_folders_are_seen(tmp_path):
    _drop(tmp_path, "shop/customers_2026-11-21T0600.jsonl", "{}\n")
    _drop(tmp_path, "pos/kunden_2026-11-21.csv", "x\n")
    _drop(tmp_path, "elsewhere/notes.txt", "x\n")
    _drop(tmp_path, "pos/.partial-upload", "x\n")

    assert sorted(landing_files(tmp_path)) == ["pos/kunden_2026-11-21.csv", "shop/customers_2026-11-21T0600.jsonl"]


def test_a_file_already_seen_is_not_new_but_a_replaced_one_is(tmp_path):
    _drop(tmp_path, "hotline/calls_2026-11-20.csv", "a\n")
    first = landing_files(tmp_path)
    _drop(tmp_path, "hotline/calls_2026-11-21.csv", "b\n")
    second = landing_files(tmp_path)
    assert list(new_files(first, second)) == ["hotline/calls_2026-11-21.csv"]
    assert new_files(second, second) == {}

    path = tmp_path / "hotline/calls_2026-11-20.csv"
    path.write_text("a longer replacement\n", encoding="utf-8")
    os.utime(path, ns=(1, 1))
    assert list(new_files(second, landing_files(tmp_path))) == ["hotline/calls_2026-11-20.csv"]


def test_run_request_covers_the_changed_folders_and_everything_downstream():
    downstream = [dg.AssetKey("staged_records"), dg.AssetKey("published_golden")]
    request = run_request_for({"pos/kunden_2026-11-22.csv": "1:1", "erasure/requests_2026-11-22.csv": "2:2"}, downstream)

    assert set(request.asset_selection) == {raw_asset_key("pos"), raw_asset_key("erasure"), *downstream}
    assert raw_asset_key("shop") not in request.asset_selection
    # The same new files always give the same run key, so a re-evaluation cannot start a second run.
    again = run_request_for({"erasure/requests_2026-11-22.csv": "2:2", "pos/kunden_2026-11-22.csv": "1:1"}, downstream)
    assert again.run_key == request.run_key
