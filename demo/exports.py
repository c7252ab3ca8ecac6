"""Writing record versions as the source systems export them, with a few broken rows."""

from __future__ import annotations

import csv
import io
import json
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

POS_SAFE = str.maketrans({"ı": "i", "ć": "c", "ł": "l", "ś": "s", "ń": "n", "ą": "a", "ę": "e", "ž": "z", "č": "c", "š": "s"})


def _iso(value) -> str | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT else str(value)


def _german_amount(value: float) -> str:
    whole, cents = f"{value:.2f}".split(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return ".".join(groups) + "," + cents


def _broken_rows(n: int, rng: np.random.Generator) -> set[int]:
    if n < 10:
        return set()
    return set(rng.choice(n, size=max(1, n // 2000), replace=False).tolist())


def _write_csv(path: Path, header: list[str], rows: list[list[str]], delimiter: str, encoding: str) -> list[int]:
    """Writes the rows and returns the physical line each row starts on."""
    row_buffer = io.StringIO()
    writer = csv.writer(row_buffer, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    chunks, starts, line = [], [], 2
    writer.writerow(header)
    for row in [None, *rows]:
        if row is not None:
            starts.append(line)
            writer.writerow(row)
        text = row_buffer.getvalue()
        row_buffer.seek(0)
        row_buffer.truncate()
        if row is not None:
            line += text.count("\n")
        chunks.append(text)
    data = "".join(chunks)
    if encoding == "cp1252":
        path.write_bytes(data.translate(POS_SAFE).encode("cp1252", errors="replace"))
    else:
        path.write_text(data, encoding=encoding)
    return starts


def write_shop(rows: pd.DataFrame, path: Path, rng: np.random.Generator) -> list[dict]:
    broken = _broken_rows(len(rows), rng)
    lines, malformed = [], []
    for i, r in enumerate(rows.itertuples(index=False)):
        account = {
            "customer_id": r.record_id, "email": r.email_emitted, "first_name": r.first_emitted,
            "last_name": r.last_emitted, "company": None, "phone": r.phone_emitted, "birthday": r.birthday,
            "address": {"street": r.street_emitted, "zip": r.postal_true, "city": r.city_true, "country": r.country_true},
            "accepts_marketing": bool(r.accepts), "accepts_marketing_updated_at": _iso(r.consent_at),
            "created_at": _iso(r.created_at), "updated_at": _iso(r.t_record),
            "orders_count": int(max(r.revenue // 60, 0)), "total_spent": float(r.revenue),
        }
        line = json.dumps(account, ensure_ascii=False)
        if i in broken:
            line = line[: len(line) // 2]
            malformed.append({"source": "shop", "file_name": path.name, "line_number": i + 1, "kind": "truncated JSON", "record_id": r.record_id})
        lines.append(line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return malformed


def write_newsletter(rows: pd.DataFrame, path: Path, rng: np.random.Generator, interests: np.ndarray) -> list[dict]:
    header = ["subscriber_id", "email", "salutation", "first_name", "last_name", "status", "opt_in_at", "opt_out_at", "interests"]
    out = [[r.record_id, _text(r.email_emitted), _text(r.salutation_emitted), _text(r.first_emitted), _text(r.last_emitted),
            r.status, _text(_iso(r.opt_in)), _text(_iso(r.opt_out)), interest]
           for r, interest in zip(rows.itertuples(index=False), interests)]
    broken = _broken_rows(len(out), rng)
    malformed = []
    for i in broken:
        out[i] = out[i][:4]
        malformed.append({"source": "newsletter", "file_name": path.name, "line_number": i + 2, "kind": "missing fields", "record_id": rows.iloc[i]["record_id"]})
    _write_csv(path, header, out, ",", "utf-8-sig")
    return malformed


def write_pos(rows: pd.DataFrame, path: Path, rng: np.random.Generator) -> list[dict]:
    header = ["Kartennummer", "Anrede", "Vorname", "Nachname", "Strasse", "PLZ", "Ort", "Telefon", "E-Mail",
              "Geburtsdatum", "Filiale", "Umsatz", "Letzter_Einkauf", "Werbung_erlaubt"]
    out = [[r.record_id, _text(r.salutation_emitted if r.salutation_emitted != "Divers" else None), _text(r.first_emitted),
            _text(r.last_emitted), _text(r.street_emitted), r.postal_true, r.city_true, _text(r.phone_emitted),
            _text(r.email_emitted), "" if r.birthday is None else pd.Timestamp(r.birthday).strftime("%d.%m.%Y"),
            f"{r.city_true}-{('Mitte', 'Nord', 'Süd', 'West', 'Ost')[zlib.crc32(r.record_id.encode()) % 5]}", _german_amount(r.revenue),
            pd.Timestamp(r.last_purchase).strftime("%d.%m.%Y"), r.consent]
           for r in rows.itertuples(index=False)]
    broken = _broken_rows(len(out), rng)
    malformed = []
    for k, i in enumerate(sorted(broken)):
        kind = ("impossible date", "bad amount", "missing fields")[k % 3]
        if kind == "impossible date":
            out[i][12] = "31.02.2026"
        elif kind == "bad amount":
            out[i][11] = "zwölf"
        else:
            out[i] = out[i][:5]
        malformed.append({"source": "pos", "file_name": path.name, "line_number": i + 2, "kind": kind, "record_id": rows.iloc[i]["record_id"]})
    _write_csv(path, header, out, ";", "cp1252")
    return malformed


def write_hotline(rows: pd.DataFrame, path: Path, rng: np.random.Generator) -> list[dict]:
    header = ["ticket_id", "opened_at", "caller_number", "caller_name", "customer_number", "email", "topic", "notes"]
    opened = (rows["t_record"] + pd.Timedelta(hours=1)).dt.strftime("%Y-%m-%dT%H:%M:%S+01:00")
    out = [[r.record_id, o, r.phone_emitted or "anonymous", r.caller_name, r.customer_number, _text(r.email_emitted), r.topic, r.notes]
           for r, o in zip(rows.itertuples(index=False), opened)]
    broken = sorted(_broken_rows(len(out), rng))
    for i in broken:
        out[i][0] = ""
    starts = _write_csv(path, header, out, ",", "utf-8")
    return [{"source": "hotline", "file_name": path.name, "line_number": starts[i], "kind": "missing ticket_id",
             "record_id": rows.iloc[i]["record_id"]} for i in broken]


def write_erasure(requests: pd.DataFrame, path: Path) -> None:
    _write_csv(path, ["request_id", "received_at", "email", "phone", "golden_id"],
               [[r.request_id, r.received_at, _text(r.email), _text(r.phone), ""] for r in requests.itertuples(index=False)],
               ",", "utf-8")
