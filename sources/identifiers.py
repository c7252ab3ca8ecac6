"""Normalised identifiers and their one-way hashes (to keep erased persons out)."""

from __future__ import annotations

import hashlib

import pandas as pd
import phonenumbers

DEFAULT_REGION = "DE"


def normalise_email(value: str | None) -> str | None:
    if value is None:
        return None
    email = value.strip().lower()
    if "@" not in email:
        return None
    local, _, domain = email.rpartition("@")
    if domain == "googlemail.com":
        domain = "gmail.com"
    return f"{local}@{domain}"


def email_key_sql(column: str) -> str:
    """`normalise_email` in SQL (erasure hashes it, linkage compares it; linkage then keeps
    only what looks like an address)."""
    return f"regexp_replace(lower(trim({column})), '@googlemail[.]com$', '@gmail.com')"


def written_email_sql(column: str) -> str:
    """The e-mail as written, only case and surrounding spaces aside: the address a mail
    would go to, also where linkage cannot standardise it (one with a space in it)."""
    return f"nullif(lower(trim({column})), '')"


def hash_identifier(value: str) -> str:
    """sha256 hex of the normalised identifier; the same in SQL as `sha256(value)`."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """E.164 of one phone number as typed, None if invalid (`e164` applies it to a Series)."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def e164(values: pd.Series, regions: pd.Series | None = None) -> pd.Series:
    """E.164 for each phone number as typed, None if invalid.

    A number in national notation (`0681 1417616`) belongs to the region it was typed
    in: `regions` (ISO alpha-2, aligned with `values`; missing -> German) gives it, so an
    Austrian customer's number does not become German. Parses each distinct pair once:
    real exports repeat the same numbers a lot.
    """
    if regions is None:
        regions = pd.Series(DEFAULT_REGION, index=values.index)
    regions = regions.where(regions.notna() & (regions.astype(str).str.len() == 2), DEFAULT_REGION).astype(str).str.upper()
    pairs = pd.DataFrame({"value": values, "region": regions}).dropna(subset=["value"]).drop_duplicates()
    mapping = {(v, r): to_e164(v, r) for v, r in zip(pairs["value"], pairs["region"])}
    return pd.Series([mapping.get((v, r)) if isinstance(v, str) else None for v, r in zip(values, regions)],
                     index=values.index, dtype=object)
