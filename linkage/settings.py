"""Linkage settings as data: blocking rules and comparisons, each a few SQL snippets.

The engine (blocking.py, comparisons.py, model.py) knows nothing of German customers;
everything specific to a data set lives in a `LinkageSettings` value like the ones below.
Comparison levels are SQL conditions over the two records `l` and `r`; the first level
that holds decides. Level 0 is the best agreement, the last level is "everything else".
"""

from __future__ import annotations

from dataclasses import dataclass, field


# The match probability at or above which two records are linked. The model's
# probabilities are calibrated (the prior is re-estimated over the full evidence), so this
# reads as "at least 70 % sure"; pairs between the review bounds also go to an analyst.
MATCH_THRESHOLD = 0.7


@dataclass(frozen=True)
class Level:
    label: str
    condition: str
    # Levels on skewed values weigh by the value's frequency: agreeing on `mueller` says
    # less than agreeing on `wojciechowski`. The first level weighed by one column alone
    # (`exact`) is that column's reference; any other level weighed by it (a typo, a
    # swap of two names, which names both columns) moves by as much as the reference would
    # for the more frequent of the two records' values (`linkage.model.term_frequency_weight`).
    term_frequency_columns: tuple[str, ...] = ()

    def __post_init__(self):
        if isinstance(self.term_frequency_columns, str):
            raise TypeError(f"level {self.label}: term_frequency_columns is a tuple of column names")


@dataclass(frozen=True)
class Comparison:
    name: str
    # When this holds, the comparison says nothing (weight 0), e.g. a value is missing.
    null_condition: str
    levels: tuple[Level, ...]
    # Columns shown side by side when a pair is explained.
    columns: tuple[str, ...] = ()
    # How an analyst reads its name in an explanation (default: the name, spaced).
    title: str = ""
    # Built on a detail that is never published (a birthday): explained without naming it.
    private: bool = False

    @property
    def shown_name(self) -> str:
        return self.title or self.name.replace("_", " ")

    def __post_init__(self):
        if self.levels[-1].condition.strip().upper() != "TRUE":
            raise ValueError(f"comparison {self.name}: the last level must be the catch-all 'TRUE'")


@dataclass(frozen=True)
class BlockingRule:
    """Records meet when a key of one equals a key of the other.

    `key` is an SQL expression over one record (a value or a LIST of values). For
    asymmetric rules (a quoted customer number against the account's own number),
    `other_key` is what the second record must have.
    """

    name: str
    key: str
    other_key: str | None = None
    # Keys shared by more records than this are not made into all their pairs: a
    # placeholder phone or a shop's test e-mail would make the pair count quadratic.
    max_block_size: int = 200
    # A key over the cap is split by each of these (SQL over one record) in turn, and
    # the parts within the cap make their pairs: two thousand `thomas|mueller` become
    # small blocks by region and by birth year. Without refinements it is skipped.
    refine_by: tuple[str, ...] = ()
    # The pair budget (LinkageSettings) may lower the cap of a refinable rule to this.
    min_block_size: int = 20


@dataclass(frozen=True)
class TrainingSession:
    """EM over the candidate pairs that reached `agree_on` (comparison, level label) pairs;
    those comparisons' own parameters are not estimated in this session.

    Condition sessions on what belongs to one person (a birth date, a mobile number, the
    full name), not on what a household shares (address, landline, family e-mail):
    otherwise household members look like matches and first names stop mattering.
    """

    agree_on: tuple[tuple[str, str], ...]

    @property
    def comparisons(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.agree_on)


@dataclass(frozen=True)
class LinkageSettings:
    blocking_rules: tuple[BlockingRule, ...]
    comparisons: tuple[Comparison, ...]
    training_sessions: tuple[TrainingSession, ...] = ()
    table: str = "linkage_features"
    # All blocking rules together make at most about this many pairs per record; the
    # caps of refinable rules are lowered until they fit (blocking.py, plan_blocking).
    pairs_per_record_budget: float = 25.0
    # Random pairs used to estimate u (how often levels occur between non-matches): this
    # many per record, at least the minimum, at most the maximum.
    # Comparing a random pair costs about as much as a candidate; beyond two million
    # pairs the estimates hardly move, while ten million took minutes at a million records.
    u_sample_pairs_per_record: int = 20
    u_sample_pairs_min: int = 1_000_000
    u_sample_pairs: int = 2_000_000
    em_max_iterations: int = 50
    em_tolerance: float = 1e-6
    # Rounds of EM over the pairs themselves, term frequencies included (model.py), on
    # a repeatable sample of at most this many candidate pairs.
    full_evidence_iterations: int = 10
    em_sample_pairs: int = 2_000_000
    # (comparison, level label): two records whose own pair reached such a level and did
    # not link are kept apart by the clustering even when a chain of links joins them, so
    # a family e-mail cannot merge mother and son.
    contradictions: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    # (comparison, level label) that no amount of other agreement outweighs: two known,
    # different birth dates are two people (father and son with the same name and address).
    vetoes: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    # (comparison, level label) that only pairs sharing a blocking rule's key can reach
    # (the same e-mail address, the same mobile): blocking proposes them all, so their u
    # is counted over the candidates instead of sampled (model.py, `_counted_u`).
    exhaustive_levels: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    # Hysteresis: a pair the previous run linked stays linked while its match weight is at
    # most this many bits (log2 odds) below the threshold's, so a re-estimated model does
    # not undo yesterday's links of unchanged records (clustering.py, `linked_pairs`).
    # Four bits: with the first names graded and the identifiers' u counted, the daily
    # re-fit moves weights by more than two (id stability at 100,000 persons: 99.84 % kept
    # with 2 bits, 99.935 % with 4; benchmarks/id_stability.py).
    keep_link_margin_bits: float = 4.0

    def comparison(self, name: str) -> Comparison:
        return next(c for c in self.comparisons if c.name == name)

    def gamma_of(self, comparison: str, label: str) -> int:
        levels = self.comparison(comparison).levels
        return next(i for i, level in enumerate(levels) if level.label == label)


def _jw(a: str, b: str, threshold: float) -> str:
    return f"jaro_winkler_similarity({a}, {b}) >= {threshold}"


def _missing(*columns: str) -> str:
    return " OR ".join(f"l.{c} IS NULL OR r.{c} IS NULL" for c in columns)


# Symmetric-deletion neighbourhood: two ids one typo apart share a variant with one
# character deleted, so equality on variants finds them without comparing all pairs.
def deletion_variants(column: str) -> str:
    return (
        f"CASE WHEN {column} IS NOT NULL THEN list_concat([{column}], "
        f"list_transform(range(1, length({column}) + 1), lambda i: left({column}, i - 1) || substring({column}, i + 1))) END"
    )


def _quotes_comparable(caller: str, account: str) -> str:
    ref, own = f"{caller}.customer_number_ref", f"{account}.own_customer_number"
    return (f"({ref} IS NOT NULL AND {own} IS NOT NULL "
            f"AND ({ref}_shape = {own}_shape OR levenshtein({ref}, {own}) <= 1))")


# A household shares surname and address; counted as independent the two would add up
# to a match for any two members. When both agree, only their joint level counts.
SAME_ADDRESS = ("jaro_winkler_similarity(l.street_key, r.street_key) >= 0.88 "
                "AND l.house_number IS NOT DISTINCT FROM r.house_number AND l.postal_code = r.postal_code")
# A mailbox is usually made of the person's names: `thomas.meier@` and `thomas.mayer@` are
# alike because the surnames sound alike, which the surname comparison already counts.
SURNAMES_ALIKE = ("coalesce(l.last_name_std = r.last_name_std OR l.last_name_phon = r.last_name_phon "
                  "OR jaro_winkler_similarity(l.last_name_std, r.last_name_std) >= 0.92, false)")
NAME_FROM_MAILBOX = "l.names_from_mailbox OR r.names_from_mailbox"
# Two first names (or two surnames) each read from its own mailbox, the mailboxes different
# (`thomas.mueller@` and `thomas.mueller77@`): a reading of two addresses the records do not
# share, which the e-mail comparison already counts as saying nothing either way; counted
# as two typed names, such pairs linked thousands of namesakes' subscriptions at a million
# persons. A name typed on either side still counts.
def names_of_two_mailboxes(role: str) -> str:
    return f"l.{role}_from_mailbox AND r.{role}_from_mailbox AND l.email_std <> r.email_std"


SAME_HOUSEHOLD = f"jaro_winkler_similarity(l.last_name_std, r.last_name_std) >= 0.92 AND {SAME_ADDRESS}"

# A hotline ticket's quoted customer number against a record's own number, either way round.
QUOTES_EXACTLY = "l.customer_number_ref = r.own_customer_number OR r.customer_number_ref = l.own_customer_number"
QUOTES_ONE_TYPO = ("levenshtein(l.customer_number_ref, r.own_customer_number) <= 1 "
                   "OR levenshtein(r.customer_number_ref, l.own_customer_number) <= 1")

# Two first names, both given, that no first-name level would call alike or forms of one
# name (the levels' cheaper tests: spelling, sound, a prefix or initial, a short form or a
# variant the data shows, a swap with the surname).
FIRST_NAMES_CONTRADICT = (
    "coalesce(l.first_name_key <> r.first_name_key "
    f"AND NOT {_jw('l.first_name_std', 'r.first_name_std', 0.8)} AND l.first_name_phon <> r.first_name_phon "
    "AND NOT starts_with(l.first_name_std, r.first_name_std) AND NOT starts_with(r.first_name_std, l.first_name_std) "
    "AND NOT coalesce(list_has_any(l.first_name_forms, r.first_name_forms), false) "
    "AND NOT coalesce(list_contains(l.first_name_variants, r.first_name_key), false) "
    "AND NOT coalesce(list_contains(r.first_name_variants, l.first_name_key), false) "
    "AND NOT coalesce(l.first_name_std = r.last_name_std OR l.last_name_std = r.first_name_std, false), false)"
)


def _name_or_part(a: str, b: str) -> str:
    """`a` and `b` are alike, or one is a part of the other (`Seifert-Meyer` / `Meyer`)."""
    return (f"({_jw(a, b, 0.9)} OR list_contains(string_split(replace({a}, '-', ' '), ' '), {b}) "
            f"OR list_contains(string_split(replace({b}, '-', ' '), ' '), {a}))")


# `Seifert-Meyer, Evelyn` at the till is `Evelyn Meyer` in the shop: a swap, part by part.
NAMES_SWAPPED = (f"{_name_or_part('l.first_name_std', 'r.last_name_std')} AND {_name_or_part('l.last_name_std', 'r.first_name_std')} "
                 "AND l.first_name_std <> r.first_name_std")

# The mailbox holds the other record's first name (at least four letters, so `ann` in
# `hannelore` does not count).
MAILBOX_SPELLS_FIRST_NAME = (
    "(length(r.first_name_key) >= 4 AND contains(l.email_letters, r.first_name_key) AND NOT l.names_from_mailbox) "
    "OR (length(l.first_name_key) >= 4 AND contains(r.email_letters, l.first_name_key) AND NOT r.names_from_mailbox)")
SURNAME_CHANGED = (
    "l.first_name_key = r.first_name_key AND ("
    "(l.email_std = r.email_std AND NOT l.email_shared) OR (l.phone_e164 = r.phone_e164 AND l.phone_is_mobile) "
    "OR (length(r.last_name_key) >= 4 AND contains(l.email_letters, r.last_name_key)) "
    "OR (length(l.last_name_key) >= 4 AND contains(r.email_letters, l.last_name_key)))")

# What splits a common name's block into parts one person's records still share: the
# region (two postcode digits), the birth year, the mailbox's provider, the mobile.
NAME_REFINEMENTS = ("left(postal_code, 2)", "year(birth_date)", "email_domain",
                    "CASE WHEN phone_is_mobile THEN phone_e164 END")

GERMAN_SETTINGS = LinkageSettings(
    blocking_rules=(
        BlockingRule("email", "email_std", max_block_size=50),
        BlockingRule("phone", "phone_e164", max_block_size=50),
        BlockingRule("surname_sound_postcode", "last_name_phon || '|' || postal_code",
                     refine_by=("left(first_name_key, 1)", "house_number")),
        BlockingRule("first_name_birth_date", "first_name_std || '|' || birth_date::VARCHAR"),
        BlockingRule("address", "street_phon || '|' || house_number || '|' || postal_code", max_block_size=60),
        # A street misspelt beyond its sound (`Schillestr.`) still shares number and postcode.
        BlockingRule("house_number_postcode", "house_number || '|' || postal_code", max_block_size=40),
        BlockingRule("full_name", "first_name_std || '|' || last_name_std", max_block_size=200,
                     refine_by=NAME_REFINEMENTS),
        # Sounds are coarser than spellings: their blocks fill with namesakes sooner.
        BlockingRule("full_name_sound", "first_name_phon || '|' || last_name_phon", max_block_size=80,
                     refine_by=NAME_REFINEMENTS),
        BlockingRule("birth_date_surname_sound", "birth_date::VARCHAR || '|' || last_name_phon"),
        BlockingRule("email_local_surname", "email_local || '|' || last_name_phon"),
        # A rare surname alone: records with no address or phone, and a first name typed
        # beyond its sound (`Adbullah`), still meet. Common surnames exceed the block size.
        BlockingRule("rare_surname", "last_name_std", max_block_size=8, min_block_size=8,
                     refine_by=("left(first_name_key, 2)", "left(email_letters, 3)")),
        # `holzbeck.susanne@` meets Susanne Holzbeck, whatever name its own record gives.
        BlockingRule("mailbox_spells_name", "email_letters", other_key="name_spellings", max_block_size=3),
        BlockingRule("swapped_names", "first_name_phon || '|' || last_name_phon",
                     other_key="last_name_phon || '|' || first_name_phon"),
        BlockingRule("quoted_customer_number", deletion_variants("customer_number_ref"),
                     other_key=deletion_variants("own_customer_number"), max_block_size=20),
    ),
    comparisons=(
        Comparison(
            "first_name",
            f"{_missing('first_name_std')} OR ({names_of_two_mailboxes('first')})",
            (
                # `Hans-Werner`, `Hans Werner` and the mailbox's `hanswerner` are one name.
                Level("exact", "l.first_name_key = r.first_name_key", ("first_name_std",)),
                # As telling as the two names are rare (the first-name field's value is
                # looked up as a first name, the surname field's as a surname, the greater
                # frequency of the two records each: the swapped record's are the rare ones).
                Level("swapped with surname", NAMES_SWAPPED, ("first_name_std", "last_name_std")),
                # Not by frequency, unlike a surname's typo: `Christian`/`Christiane`, `Jan`/`Jana`
                # are a household's two people, and the rarer the surname the more the name
                # would count (measured: own generator +414 true, +266 false links).
                Level("jaro-winkler >= 0.92", _jw("l.first_name_std", "r.first_name_std", 0.92)),
                Level("same sound", "l.first_name_phon = r.first_name_phon"),
                Level("one is a prefix of the other",
                      "starts_with(l.first_name_std, r.first_name_std) OR starts_with(r.first_name_std, l.first_name_std)"),
                # Short names take one typo badly in Jaro-Winkler (`Uee`/`Uwe` is 0.8, `Irza`/`Riza` 0.917).
                Level("one typo", "abs(length(l.first_name_std) - length(r.first_name_std)) <= 1 "
                                  "AND damerau_levenshtein(l.first_name_std, r.first_name_std) <= 1"),
                Level("a usual short form", "list_has_any(l.first_name_forms, r.first_name_forms)"),
                # Learned from the data: many contact points given under both names (name_variants.py).
                Level("a variant the data shows", "list_contains(l.first_name_variants, r.first_name_key)"),
                Level("initials of the other's double name",
                      "l.first_name_key = r.first_name_initials OR r.first_name_key = l.first_name_initials"),
                # `Hans Peter` is often just `Peter`.
                Level("one part of a double first name",
                      "(contains(l.first_name_std, ' ') OR contains(r.first_name_std, ' ')) "
                      "AND list_has_any(string_split(l.first_name_std, ' '), string_split(r.first_name_std, ' '))"),
                # `Andi`/`Andreas`, `Susi`/`Susanne`: a weak sign, weighed as the data says.
                Level("same first three letters", "length(l.first_name_key) >= 3 AND length(r.first_name_key) >= 3 "
                                                  "AND left(l.first_name_key, 3) = left(r.first_name_key, 3)"),
                # `holzbeck.susanne@` under the name `Susi`: the mailbox names the person.
                Level("the other's mailbox spells it", MAILBOX_SPELLS_FIRST_NAME),
                Level("two typos", "least(length(l.first_name_key), length(r.first_name_key)) >= 5 "
                                   "AND damerau_levenshtein(l.first_name_key, r.first_name_key) <= 2"),
                # A mailbox read wrongly (`heinz-joachim@` as Joachim Heinz) says little against.
                Level("different, one read from a mailbox", NAME_FROM_MAILBOX),
                Level("different", "TRUE"),
            ),
            ("first_name_std",),
        ),
        Comparison(
            "last_name",
            # A swap is one fact: the first-name comparison counts it, this one says nothing.
            f"{_missing('last_name_std')} OR ({SAME_HOUSEHOLD}) OR ({NAMES_SWAPPED}) OR ({names_of_two_mailboxes('last')})",
            (
                Level("exact", "l.last_name_std = r.last_name_std", ("last_name_std",)),
                # A misspelt rare surname is nearly as telling as the name, a misspelt `Schmidt` not.
                Level("jaro-winkler >= 0.92", _jw("l.last_name_std", "r.last_name_std", 0.92), ("last_name_std",)),
                # Not by frequency: `Meier`/`Mayer` of the same sound are mostly namesakes
                # whatever the name (measured: +11 true, +22 false links on foreign exports).
                Level("same sound", "l.last_name_phon = r.last_name_phon"),
                Level("shares part of a double name",
                      "l.last_name_part1 IN (r.last_name_part1, r.last_name_part2) "
                      "OR l.last_name_part2 IN (r.last_name_part1, r.last_name_part2)"),
                # Married or maiden name: the same first name, and the person's own contact
                # point or a mailbox that still spells the other surname (`berit.schomber@`).
                Level("other surname, same first name and own contact", SURNAME_CHANGED),
                # A lone name (`Herr Günter`, `Patick` on a ticket) is as often a first name
                # or half a name as a surname: beside it, another surname contradicts less.
                Level("different, beside a lone name", "l.first_name_std IS NULL OR r.first_name_std IS NULL"),
                Level("different", "TRUE"),
            ),
            ("last_name_std",),
        ),
        Comparison(
            "birth_date",
            _missing("birth_date"),
            (
                Level("exact", "l.birth_date = r.birth_date"),
                Level("one typo or day/month swapped",
                      "levenshtein(l.birth_date::VARCHAR, r.birth_date::VARCHAR) <= 1 "
                      "OR (year(l.birth_date) = year(r.birth_date) AND month(l.birth_date) = day(r.birth_date) "
                      "AND day(l.birth_date) = month(r.birth_date))"),
                Level("different", "TRUE"),
            ),
            ("birth_date",),
            private=True,
        ),
        Comparison(
            "email",
            # Names read from a mailbox already carry what that mailbox says of the person.
            f"{_missing('email_std')} OR (({NAME_FROM_MAILBOX}) AND l.email_std <> r.email_std) "
            # A household's mailbox (features.py) is counted by the household, not here.
            "OR (l.email_std = r.email_std AND l.email_shared) "
            # `thomas.mueller@gmx.de` and `thomas.mueller77@web.de` for two Thomas Müllers are
            # alike because of their names: for or against, the names have said it.
            f"OR (l.email_std <> r.email_std AND {_jw('l.email_local', 'r.email_local', 0.9)} AND {SURNAMES_ALIKE})",
            (
                Level("exact", "l.email_std = r.email_std"),
                Level("same mailbox name, other provider", "l.email_local = r.email_local"),
                Level("alike mailbox name",
                      f"{_jw('l.email_local', 'r.email_local', 0.9)} "
                      # familie.sager115 and familie.sager139 are two mailboxes; cgrossing and
                      # cgrossing68 may well be one person's two.
                      "AND NOT (regexp_matches(l.email_local, '[0-9]') AND regexp_matches(r.email_local, '[0-9]') "
                      "AND regexp_replace(l.email_local, '[0-9]', '', 'g') = regexp_replace(r.email_local, '[0-9]', '', 'g'))"),
                Level("different", "TRUE"),
            ),
            ("email_std",),
        ),
        Comparison(
            "mailbox_spells_name",
            # Only for a record without a name of its own: otherwise the names say it already.
            "NOT ((l.last_name_std IS NULL AND l.email_letters IS NOT NULL AND r.name_spellings IS NOT NULL) "
            "OR (r.last_name_std IS NULL AND r.email_letters IS NOT NULL AND l.name_spellings IS NOT NULL))",
            (
                Level("mailbox spells the other's name",
                      "list_contains(r.name_spellings, l.email_letters) OR list_contains(l.name_spellings, r.email_letters)"),
                Level("different", "TRUE"),
            ),
            ("email_std", "first_name_std", "last_name_std"),
            title="e-mail spells the name",
        ),
        Comparison(
            "phone",
            # A landline shared at the same address is the household's, already counted
            # by the address: it says nothing more about the person. Nor beside two first
            # names that contradict each other: the landline rings for the whole household
            # (a caller from home beside the partner's card), so it says "same household",
            # which the surname already says, not "same person". Likewise beside a `Herr` and
            # a `Frau` (`Herr Lindqvist` calling from home, his wife's card).
            f"{_missing('phone_e164')} OR (l.phone_e164 = r.phone_e164 AND NOT l.phone_is_mobile "
            f"AND ((l.street_key = r.street_key AND l.postal_code = r.postal_code) OR {FIRST_NAMES_CONTRADICT} "
            "OR coalesce(l.gender <> r.gender, false)))",
            (
                Level("same mobile", "l.phone_e164 = r.phone_e164 AND l.phone_is_mobile"),
                Level("same landline", "l.phone_e164 = r.phone_e164"),
                # A person has a mobile and a line at home: the card has one, the shop the
                # other. Two different mobiles contradict; a mobile beside a landline hardly.
                Level("different, a mobile beside a landline", "l.phone_is_mobile <> r.phone_is_mobile"),
                Level("different", "TRUE"),
            ),
            ("phone_e164",),
        ),
        Comparison(
            "household",
            f"{_missing('last_name_std', 'street_std', 'postal_code')}",
            (
                Level("same surname at the same address", SAME_HOUSEHOLD),
                Level("not both", "TRUE"),
            ),
            ("last_name_std", "street_std", "house_number", "postal_code"),
            title="same household (surname and address)",
        ),
        Comparison(
            "address",
            f"l.postal_code IS NULL OR r.postal_code IS NULL OR l.street_std IS NULL OR r.street_std IS NULL OR ({SAME_HOUSEHOLD})",
            (
                Level("same street, number and postcode",
                      "l.street_key = r.street_key AND l.house_number IS NOT DISTINCT FROM r.house_number "
                      "AND l.postal_code = r.postal_code"),
                Level("similar street, same number and postcode",
                      f"{_jw('l.street_key', 'r.street_key', 0.88)} AND l.house_number IS NOT DISTINCT FROM r.house_number "
                      "AND l.postal_code = r.postal_code"),
                Level("same postcode", "l.postal_code = r.postal_code"),
                Level("same city", "l.city_std = r.city_std"),
                Level("different", "TRUE"),
            ),
            ("street_std", "house_number", "postal_code", "city_std"),
        ),
        Comparison(
            "quoted_customer_number",
            # A caller who quotes a loyalty card number says nothing about a shop account:
            # only a number of the same shape (or one typo away) is comparable. Nor does a
            # number one typo away beside two first names that contradict: numbers are given
            # out in sequence, a household's often together, so the neighbouring number is
            # the partner's or a stranger's account, not the caller's (on three generators,
            # 21 of 625,000 such pairs were one person).
            f"NOT ({_quotes_comparable('l', 'r')} OR {_quotes_comparable('r', 'l')}) "
            f"OR (NOT coalesce({QUOTES_EXACTLY}, false) AND coalesce({QUOTES_ONE_TYPO}, false) AND {FIRST_NAMES_CONTRADICT})",
            (
                Level("quotes the other's number", QUOTES_EXACTLY),
                Level("quotes it with one typo", QUOTES_ONE_TYPO),
                Level("quotes another number", "TRUE"),
            ),
            ("customer_number_ref", "own_customer_number"),
            title="customer number quoted to the hotline",
        ),
        Comparison(
            "gender",
            _missing("gender"),
            (
                Level("same", "l.gender = r.gender"),
                Level("different", "TRUE"),
            ),
            ("salutation_std",),
            title="salutation",
        ),
    ),
    training_sessions=(
        TrainingSession((("first_name", "exact"), ("last_name", "exact"))),
        TrainingSession((("birth_date", "exact"),)),
        TrainingSession((("phone", "same mobile"),)),
    ),
    contradictions=(("gender", "different"),),
    # One person's identifiers only: an address or a landline is a household's, and
    # counted like a personal one it would outweigh a first-name difference between
    # mother and son (the sample's coarser u keeps them below).
    exhaustive_levels=(("email", "exact"), ("phone", "same mobile"),
                       ("quoted_customer_number", "quotes the other's number")),
    # First names that differ weigh against a match with the weight the model learns; an
    # identical personal mailbox or mobile can outweigh them (a nickname no list knows).
    vetoes=(("birth_date", "different"),),
)
