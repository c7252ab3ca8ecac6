"""Finding a customer by whatever the caller says, over the `lookup_*` tables.

What was typed is normalised with the project's own rules, the same ones the index was
built with (warehouse/search_index.py): `sources.identifiers` for e-mail and phone,
`linkage.names` for folding and Kölner Phonetik. Then everything is an equality lookup.

Scores (1.0 = certain): an e-mail, phone or number exactly 1.0, a number with one typo
0.8; a name scores the mean of how well the surname and the first name(s) match (exact
1.0, one typo 0.85, sounds alike 0.7), in either order, a lone name at most 0.6.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from linkage.names import fold, koelner_phonetik
from sources.identifiers import normalise_email, to_e164

MAX_RESULTS = 20
EXACT, TYPO, SOUNDS_ALIKE = 1.0, 0.85, 0.7
NUMBER_TYPO = 0.8
# Below this a name hit is noise: one first name that merely sounds alike, no surname.
MIN_NAME_SCORE = 0.4
# A typed number is a customer or card number when it has this many digits at least.
MIN_NUMBER_DIGITS = 4
_POSTCODE = re.compile(r"^\d{4,5}$")


@dataclass(frozen=True)
class Hit:
    golden_id: str
    score: float
    kind: str


def _one_deletions(word: str) -> set[str]:
    """The word and each word with one character left out (as lookup_*_variants holds them)."""
    return {word} | {word[:i] + word[i + 1:] for i in range(len(word))}


def name_tokens(text: str) -> list[str]:
    """`Müller-Lüdenscheidt, Jürgen` -> ['mueller', 'luedenscheidt', 'juergen']."""
    folded = fold(text) or ""
    return [t for t in re.split(r"[^a-z]+", folded) if len(t) >= 2]


def _email_hits(cur: duckdb.DuckDBPyConnection, text: str) -> list[Hit]:
    email = normalise_email(text)
    if not email:
        return []
    rows = cur.execute("SELECT DISTINCT golden_id FROM lookup_emails WHERE email = ?", [email]).fetchall()
    return [Hit(r[0], EXACT, "email") for r in rows]


def _phone_hits(cur: duckdb.DuckDBPyConnection, text: str) -> list[Hit]:
    # The very rule linkage standardises with (`e164` maps it over a column); called on the
    # one value, as a Series it cost ten times the lookup in pandas overhead.
    phone = to_e164(text)
    if phone is None:
        return []
    rows = cur.execute("SELECT DISTINCT golden_id FROM lookup_phones WHERE phone = ?", [phone]).fetchall()
    return [Hit(r[0], EXACT, "phone") for r in rows]


def _lookup(cur: duckdb.DuckDBPyConnection, select: str, column: str, values: list) -> list[tuple]:
    """`select ... WHERE column IN (?, …)` for the distinct values: one query, one index scan.

    The DuckDB of our pins (2.0) plans an `IN` list of constants on a column with an ART
    index (warehouse/search_index.py) as an Index Scan of exactly those keys (EXPLAIN
    ANALYZE: `Type: Index Scan`, no row group read). The earlier way round, a `UNION ALL` of
    one `= ?` lookup per value, planned and ran one subquery per value: 20 of them took
    10-40 ms on 100,000 persons, the one list 2-5 ms.
    """
    distinct = sorted(set(values))
    if not distinct:
        return []
    return cur.execute(f"{select} WHERE {column} IN ({', '.join('?' for _ in distinct)})", distinct).fetchall()


def _number_hits(cur: duckdb.DuckDBPyConnection, digits: str) -> list[Hit]:
    """Customer and card numbers without their prefix; one wrong, missing, extra or swapped digit."""
    if not MIN_NUMBER_DIGITS <= len(digits) <= 16:
        return []
    best: dict[str, float] = {}
    for number, golden_id in _lookup(cur, "SELECT number, golden_id FROM lookup_number_variants", "variant",
                                     list(_one_deletions(digits))):
        if _one_edit(number, digits):
            score = EXACT if number == digits else NUMBER_TYPO
            best[golden_id] = max(best.get(golden_id, 0.0), score)
    return [Hit(g, score, "number") for g, score in best.items()]


def _name_score_sql(n: int) -> str:
    """Best reading of n typed words as first name(s) and one surname, in either order."""
    f = [f"coalesce(f{i}, 0)" for i in range(n)]
    l = [f"coalesce(l{i}, 0)" for i in range(n)]
    if n == 1:
        return f"0.6 * greatest({l[0]}, 0.9 * {f[0]})"
    readings = []
    for j in range(n):
        firsts = " + ".join(f[i] for i in range(n) if i != j)
        # The surname last is the usual order; first (`Müller, Sabine`) costs a hair.
        penalty = 0 if j == n - 1 else 0.01
        readings.append(f"({l[j]} + ({firsts}) / {n - 1}) / 2 - {penalty}")
    return f"greatest({', '.join(readings)})"


def _matching_words(cur: duckdb.DuckDBPyConnection, tokens: list[str]) -> dict[tuple[int, str], float]:
    """(typed word's position, indexed word) -> how well they match."""
    matched: dict[tuple[int, str], float] = {}
    # Which typed words each variant (and each sound code) came from.
    variants: dict[str, list[int]] = {}
    for i, t in enumerate(tokens):
        for v in _one_deletions(t):
            if len(v) >= 2:
                variants.setdefault(v, []).append(i)
    for variant, token in _lookup(cur, "SELECT variant, token FROM lookup_token_variants", "variant", list(variants)):
        for i in variants[variant]:
            typed = tokens[i]
            quality = EXACT if token == typed else TYPO
            if quality == EXACT or _one_edit(token, typed):
                matched[(i, token)] = max(matched.get((i, token), 0.0), quality)
    codes: dict[str, list[int]] = {}
    for i, t in enumerate(tokens):
        code = koelner_phonetik(t)
        if code and len(code) >= 2:
            codes.setdefault(code, []).append(i)
    for code, token in _lookup(cur, "SELECT code, token FROM lookup_token_phonetics", "code", list(codes)):
        for i in codes[code]:
            matched[(i, token)] = max(matched.get((i, token), 0.0), SOUNDS_ALIKE)
    return matched


def _one_edit(a: str, b: str) -> bool:
    """At most one character wrong, missing, extra, or two neighbours swapped."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [k for k in range(len(a)) if a[k] != b[k]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = sorted((a, b), key=len)
    return any(long_[:k] + long_[k + 1:] == short for k in range(len(long_)))


def _place_filter(near: str | None) -> tuple[str, dict]:
    """SQL condition on `golden_id` (and its parameters): a record at this postcode (or postcode prefix) or city."""
    near = (near or "").strip()
    if not near:
        return "true", {}
    digits = re.sub(r"\D", "", near)
    city = " ".join(name_tokens(near)) or None
    return (
        "golden_id IN (SELECT golden_id FROM lookup_places WHERE "
        "($digits <> '' AND starts_with(postal_code, $digits)) OR ($city IS NOT NULL AND city = $city))",
        {"digits": digits, "city": city},
    )


def _name_hits(cur: duckdb.DuckDBPyConnection, tokens: list[str], near: str | None, limit: int) -> list[Hit]:
    """The best `limit` customers for the typed name words (narrowed to `near`), best first."""
    tokens = tokens[:4]
    n = len(tokens)
    if n == 0:
        return []
    matched = _matching_words(cur, tokens)
    if not matched:
        return []
    pivot = ", ".join(
        f"max(quality) FILTER (WHERE i = {i} AND role = 'first') AS f{i}, "
        f"max(quality) FILTER (WHERE i = {i} AND role = 'last') AS l{i}"
        for i in range(n)
    )
    positions, words, qualities = zip(*((i, t, q) for (i, t), q in sorted(matched.items())))
    distinct = sorted(set(words))
    place, place_params = _place_filter(near)
    rows = cur.execute(
        f"""
        WITH best AS (
            SELECT unnest($positions) AS i, unnest($words) AS token, unnest($qualities) AS quality
        ), p AS (
            -- The matched words' rows through the index on token (constants: an Index Scan).
            SELECT token, first_ids, last_ids FROM lookup_name_postings
            WHERE token IN ({", ".join(f"$w{k}" for k in range(len(distinct)))})
        ), postings AS (
            SELECT b.i, b.quality, 'first' AS role, unnest(string_split(p.first_ids, ' ')) AS golden_id
            FROM best b JOIN p USING (token)
            UNION ALL
            SELECT b.i, b.quality, 'last', unnest(string_split(p.last_ids, ' ')) FROM best b JOIN p USING (token)
        ), per_customer AS (
            SELECT golden_id, {pivot} FROM postings GROUP BY golden_id
        )
        SELECT golden_id, score FROM (SELECT golden_id, {_name_score_sql(n)} AS score FROM per_customer)
        WHERE score >= {MIN_NAME_SCORE} AND {place}
        ORDER BY score DESC, golden_id LIMIT {int(limit)}
        """,
        {"positions": list(positions), "words": list(words), "qualities": list(qualities),
         **{f"w{k}": w for k, w in enumerate(distinct)}, **place_params},
    ).fetchall()
    return [Hit(r[0], float(r[1]), "name") for r in rows]


def _narrow(cur: duckdb.DuckDBPyConnection, hits: dict[str, Hit], near: str | None) -> dict[str, Hit]:
    """Keep the customers with a record at this postcode (or postcode prefix) or city."""
    if not (near or "").strip() or not hits:
        return hits
    place, params = _place_filter(near)
    rows = cur.execute(f"SELECT golden_id FROM (SELECT unnest($ids) AS golden_id) WHERE {place}",
                       {"ids": list(hits), **params}).fetchall()
    keep = {r[0] for r in rows}
    return {k: v for k, v in hits.items() if k in keep}


def search(cur: duckdb.DuckDBPyConnection, text: str, near: str | None = None, limit: int = MAX_RESULTS) -> list[dict]:
    """`[{golden_id, first_name, last_name, city, score}]`, best first, at most `limit`."""
    text = (text or "").strip()[:200]
    if not text:
        return []
    found: list[Hit] = []
    letters = re.sub(r"[^A-Za-zÄÖÜäöüß]", "", text)
    digits = re.sub(r"\D", "", text)
    if "@" in text:
        found += _email_hits(cur, text)
    elif digits and len(letters) <= 2:
        # A phone number or a customer/card number (`S-100234`, `K 7000196`): try both.
        found += _phone_hits(cur, text)
        found += _number_hits(cur, digits)
    else:
        words = text.split()
        postcodes = [w for w in words if _POSTCODE.match(w)]
        if postcodes and not near:
            near = postcodes[0]
        # Narrowed and cut to the best `limit` in its query: a common name has thousands of hits.
        found += _name_hits(cur, name_tokens(" ".join(w for w in words if not _POSTCODE.match(w))), near, limit)
        near = None
    best: dict[str, Hit] = {}
    for hit in found:
        if hit.golden_id not in best or hit.score > best[hit.golden_id].score:
            best[hit.golden_id] = hit
    best = _narrow(cur, best, near)
    top = sorted(best.values(), key=lambda h: (-h.score, h.golden_id))[:limit]
    rows = {r[0]: r for r in _lookup(cur, "SELECT golden_id, first_name, last_name, city FROM customers", "golden_id",
                                     [h.golden_id for h in top])}
    return [{"golden_id": h.golden_id, "first_name": rows[h.golden_id][1], "last_name": rows[h.golden_id][2],
             "city": rows[h.golden_id][3], "score": round(h.score, 3)} for h in top if h.golden_id in rows]
