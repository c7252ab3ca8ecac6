"""Names: folding for comparison, Kölner Phonetik, and proper case for display."""

from __future__ import annotations

import re
import unicodedata

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue", "ẞ": "ss"})
_TITLES = re.compile(r"\b(dr|prof|dipl\.?-?ing|ing|mag|med|rer\.? nat|phil)\b\.?", re.IGNORECASE)

# The same folding in SQL, so set-based standardisation and Python agree.
FOLD_SQL = (
    "strip_accents(replace(replace(replace(replace(lower({x}), 'ä', 'ae'), 'ö', 'oe'), 'ü', 'ue'), 'ß', 'ss'))"
)


def fold(value: str | None) -> str | None:
    """`Müller`, `MUELLER`, ` mueller ` -> `mueller`: lower case, umlauts spelled out,
    accents dropped, whitespace collapsed."""
    if value is None:
        return None
    text = value.translate(_FOLD).lower()
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = " ".join(text.split())
    return text or None


def fold_sql(expression: str) -> str:
    return FOLD_SQL.format(x=expression)


# Kölner Phonetik (Postel 1969): German-sounding names get the same code.
_KP_SIMPLE = {
    **dict.fromkeys("aeijouy", "0"), "h": "", "b": "1", "f": "3", "v": "3", "w": "3",
    **dict.fromkeys("gkq", "4"), "l": "5", **dict.fromkeys("mn", "6"), "r": "7",
    **dict.fromkeys("sz", "8"),
}


def koelner_phonetik(value: str | None) -> str | None:
    if not value:
        return None
    word = re.sub(r"[^a-z]", "", (fold(value) or "").replace("ae", "a").replace("oe", "o").replace("ue", "u"))
    if not word:
        return None
    codes: list[str] = []
    for i, ch in enumerate(word):
        prev = word[i - 1] if i > 0 else ""
        nxt = word[i + 1] if i + 1 < len(word) else ""
        if ch in _KP_SIMPLE:
            code = _KP_SIMPLE[ch]
        elif ch == "p":
            code = "3" if nxt == "h" else "1"
        elif ch in "dt":
            code = "8" if nxt in ("c", "s", "z") else "2"
        elif ch == "c":
            if i == 0:
                code = "4" if nxt in "ahkloqrux" else "8"
            elif prev in ("s", "z"):
                code = "8"
            else:
                code = "4" if nxt in "ahkoqux" else "8"
        elif ch == "x":
            code = "8" if prev in ("c", "k", "q") else "48"
        else:
            code = ""
        codes.append(code)
    # Collapse repeats, then drop vowels (0) except at the start.
    collapsed: list[str] = []
    last = None
    for code in "".join(codes):
        if code != last:
            collapsed.append(code)
        last = code
    if not collapsed:
        return None
    result = collapsed[0] + "".join(c for c in collapsed[1:] if c != "0")
    return result or None


_LOWER_PARTICLES = {"von", "van", "der", "den", "de", "zu", "zum", "zur", "vom", "und", "di", "da", "la", "le"}


def display_name_case(value: str | None) -> str | None:
    """`hans-peter MÜLLER` -> `Hans-Peter Müller`; `VON DER HEIDE` -> `von der Heide`."""
    if value is None or not value.strip():
        return None
    words = value.strip().split()
    cased = []
    for index, word in enumerate(words):
        lower = word.lower()
        if index < len(words) - 1 and lower in _LOWER_PARTICLES and len(words) > 1:
            cased.append(lower)
            continue
        parts = re.split(r"([-'])", lower)
        cased.append("".join(p[:1].upper() + p[1:] if p not in "-'" else p for p in parts))
    return " ".join(cased)


def strip_titles(value: str | None) -> str | None:
    if value is None:
        return None
    return " ".join(_TITLES.sub(" ", value).split()) or None
