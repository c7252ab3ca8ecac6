"""The demo generator: reproducible, in the spec's formats, with truth that fits the files."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pandas as pd

from demo.generate import generate
from tests.conftest import PROJECT_ROOT


def test_same_seed_same_bytes_and_spec_formats(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    generate(a, persons=1200, seed=4, days=2)
    # The second run in a process of its own: Python's str hash differs between processes.
    subprocess.run([sys.executable, "-m", "demo.generate", "--persons", "1200", "--seed", "4", "--days", "2",
                    "--out", str(b)], cwd=PROJECT_ROOT, check=True, capture_output=True)
    files = sorted(p.relative_to(a) for p in (a / "landing").rglob("*") if p.is_file())
    assert len(files) >= 9
    for relative in files:
        assert (a / relative).read_bytes() == (b / relative).read_bytes(), relative

    landing = a / "landing"
    newsletter = next((landing / "newsletter").glob("*.csv")).read_bytes()
    assert newsletter.startswith(b"\xef\xbb\xbf")
    pos = next((landing / "pos").glob("*.csv")).read_bytes().decode("cp1252")
    assert pos.splitlines()[0].startswith("Kartennummer;Anrede;Vorname;Nachname;Strasse;PLZ;Ort")
    assert any(ch in pos for ch in "äöüß") and ";" in pos and "," in pos.splitlines()[1].split(";")[11]
    with next((landing / "hotline").glob("*.csv")).open(newline="", encoding="utf-8") as handle:
        tickets = list(csv.DictReader(handle))
    assert any("\n" in t["notes"] for t in tickets) and any(t["caller_number"] == "anonymous" for t in tickets)
    assert {"," in t["caller_name"] for t in tickets} == {True, False}
    lines = next((landing / "shop").glob("*.jsonl")).read_text(encoding="utf-8").splitlines()
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    assert len(lines) - len(parsed) >= 1  # a malformed line on purpose
    assert all(isinstance(p["address"], dict) for p in parsed)


def test_truth_fits_the_files(tmp_path):
    generate(tmp_path, persons=1500, seed=8, days=2)
    records = pd.read_csv(tmp_path / "truth" / "records.csv", dtype=str)
    persons = pd.read_csv(tmp_path / "truth" / "persons.csv", dtype=str)
    malformed = pd.read_csv(tmp_path / "truth" / "malformed.csv", dtype=str)
    text = "".join(p.read_bytes().decode("cp1252" if "pos" in p.parts else "utf-8", errors="replace")
                   for p in (tmp_path / "landing").rglob("*") if p.is_file())
    assert all(record_id in text for record_id in records["source_record_id"])
    assert set(records["person_id"]) >= set(persons["person_id"])
    assert len(malformed) >= 4 and set(malformed["source"]) == {"shop", "newsletter", "hotline", "pos"}
    # Households and namesakes: many different persons share a surname, some an address.
    assert persons["last_name"].value_counts().iloc[0] >= 5
    assert persons.duplicated(["street", "house_number", "postal_code"]).sum() > 50
    assert (persons["erased"] == "True").sum() >= 1
    assert persons["marketing_consent"].isin(["True", "False"]).all()
