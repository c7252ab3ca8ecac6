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


def hash_identifier(value: str) -> str:
    """sha256 hex of the normalised identifier; the same in SQL as `sha256(value)`."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _to_e164(raw: str) -> str | None:
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def e164(values: pd.Series) -> pd.Series:
    """E.164 for each phone number as typed (German notation by default), None if invalid.

    Parses each distinct value once: real exports repeat the same numbers a lot.
    """
    distinct = pd.Series(values.dropna().unique())
    mapping = dict(zip(distinct, distinct.map(_to_e164)))
    return values.map(mapping)
