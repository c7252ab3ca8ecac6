"""How real exports misspell things: typos, umlaut spellings, case, street abbreviations,
phone notations. Each function takes arrays and a seeded generator, and returns arrays."""

from __future__ import annotations

import numpy as np

_NEIGHBOURS = {
    "a": "sq", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj", "i": "uo",
    "j": "hk", "k": "jl", "l": "kö", "m": "n", "n": "bm", "o": "ip", "p": "oü", "r": "et", "s": "ad",
    "t": "rz", "u": "zi", "v": "cb", "w": "qe", "z": "tu", "ü": "pö", "ö": "lä", "ä": "ö",
}


def typo(word: str, rng: np.random.Generator) -> str:
    if len(word) < 3:
        return word
    i = int(rng.integers(1, len(word) - 1))
    kind = int(rng.integers(0, 3))
    if kind == 0:  # neighbouring key
        ch = word[i].lower()
        options = _NEIGHBOURS.get(ch)
        return word[:i] + (options[int(rng.integers(0, len(options)))] if options else ch) + word[i + 1:]
    if kind == 1:  # dropped letter
        return word[:i] + word[i + 1:]
    return word[:i - 1] + word[i] + word[i - 1] + word[i + 1:]  # transposed


def umlaut_spelling(word: str, style: int) -> str:
    """style 0: as is, 1: ue/oe/ae/ss, 2: dots dropped (u/o/a), ß kept as ss."""
    if style == 0:
        return word
    if style == 1:
        table = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
    else:
        table = {"ä": "a", "ö": "o", "ü": "u", "Ä": "A", "Ö": "O", "Ü": "U", "ß": "ss"}
    return "".join(table.get(ch, ch) for ch in word)


def noisy_names(names: np.ndarray, rng: np.random.Generator, typo_rate: float = 0.03,
                umlaut_ascii_rate: float = 0.2, case_rate: float = 0.08) -> np.ndarray:
    n = len(names)
    styles = rng.choice([0, 1, 2], size=n, p=[1 - umlaut_ascii_rate, umlaut_ascii_rate * 0.8, umlaut_ascii_rate * 0.2])
    typos = rng.random(n) < typo_rate
    cases = rng.random(n)
    out = []
    for name, style, has_typo, case in zip(names, styles, typos, cases):
        if name is None or name != name:
            out.append(None)
            continue
        value = umlaut_spelling(name, int(style))
        if has_typo:
            value = typo(value, rng)
            # One in ten misspelt names has a second typo (`Andfea` / `Amdrea`).
            if rng.random() < 0.1:
                value = typo(value, rng)
        if case < case_rate / 2:
            value = value.upper()
        elif case < case_rate:
            value = value.lower()
        elif case < case_rate * 1.3:
            value = f" {value}  "
        out.append(value)
    return np.array(out, dtype=object)


STREET_SPELLINGS = (("straße", "str."), ("straße", "strasse"), ("straße", "Str."), ("straße", "str"))


def noisy_streets(streets: np.ndarray, numbers: np.ndarray, rng: np.random.Generator, typo_rate: float = 0.02) -> np.ndarray:
    n = len(streets)
    style = rng.choice([0, 1, 2, 3, 4], size=n, p=[0.45, 0.25, 0.15, 0.1, 0.05])
    number_style = rng.integers(0, 3, n)
    typos = rng.random(n) < typo_rate
    out = []
    for street, number, s, ns, t in zip(streets, numbers, style, number_style, typos):
        value = street
        if s > 0 and value.endswith("straße"):
            old, new = STREET_SPELLINGS[s - 1]
            value = value[: -len(old)] + (" " + new if new == "Str." else new)
        if t:
            value = typo(value, rng)
        digits = "".join(ch for ch in number if ch.isdigit())
        suffix = number[len(digits):]
        if suffix:
            suffix = (suffix, " " + suffix, suffix.upper())[ns]
        out.append(f"{value} {digits}{suffix}")
    return np.array(out, dtype=object)


def phone_notation(area: str, subscriber: str, style: int) -> str:
    """One German number written the many ways people write it."""
    if area.startswith("+"):  # Austria / Switzerland: international, or national as typed there
        national = area[3:].strip()
        return (f"{area} {subscriber}", f"{area.replace(' ', '')}{subscriber}", f"0{national} {subscriber}")[style % 3]
    s = subscriber
    spaced = " ".join([s[i:i + 2] for i in range(0, len(s), 2)]) if len(s) % 2 == 0 else f"{s[:3]} {s[3:]}"
    return (
        f"0{area} {s}", f"0{area}/{s}", f"0{area}-{spaced}", f"+49 {area} {s}", f"+49 (0){area} {s}",
        f"0049{area}{s}", f"(0{area}) {s}", f"0{area} / {spaced}", f"+49{area}{s}", f"0{area}{s}",
    )[style % 10]


def phone_notations(areas: np.ndarray, subscribers: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    styles = rng.integers(0, 10, len(areas))
    return np.array(
        [None if s is None else phone_notation(a, s, int(k)) for a, s, k in zip(areas, subscribers, styles)], dtype=object
    )


def noisy_emails(emails: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    r = rng.random(len(emails))
    out = []
    for email, x in zip(emails, r):
        if email is None:
            out.append(None)
        elif x < 0.08:
            local, _, domain = email.partition("@")
            out.append(".".join(p.capitalize() for p in local.split(".")) + "@" + domain)
        elif x < 0.11:
            out.append(email + " ")
        elif x < 0.3 and email.endswith("@gmail.com"):
            out.append(email.replace("@gmail.com", "@googlemail.com"))
        else:
            out.append(email)
    return np.array(out, dtype=object)
