"""Scoring functions for the evaluation: answer spans, cited sentences, retrieval ranks and abstention.

Everything here is a pure function of strings and numbers (no model, no index), so each metric can be
checked by hand. Two families of answer metrics are exposed:

* ``squad_exact_match`` / ``squad_f1``: the official SQuAD definitions (evaluate-v1.1 normalisation,
  with the v2.0 rule that an unanswerable question scores only an empty prediction), for comparison with
  published numbers;
* ``exact_match`` / ``token_f1``: the same definitions computed on ``normalize_numbers`` forms, so that
  "1,200" and "1200", "four" and "4", "19%" and "19 per cent" count as the same answer.

docs/metrics.md defines every metric in plain words.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

__all__ = [
    "abstention_scores",
    "exact_match",
    "normalize_answer",
    "normalize_numbers",
    "percentile",
    "question_kind",
    "recall_at_k",
    "reciprocal_rank",
    "sentence_hit_at_k",
    "squad_exact_match",
    "squad_f1",
    "token_f1",
]

# --------------------------------------------------------------------------------------------------------
# Official SQuAD normalisation (evaluate-v1.1.py, kept step for step so scores match published ones)
# --------------------------------------------------------------------------------------------------------

_SQUAD_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(s: str) -> str:
    """Official SQuAD normalisation: lower-case, drop ASCII punctuation, drop a/an/the, collapse spaces.

    Same order as the official script: lower → remove punctuation → remove articles → fix white space.
    Note that the official script deletes punctuation without a space, so "1,200" → "1200" but also
    "99.97" → "9997" and "twenty-one" → "twentyone"; ``normalize_numbers`` handles those better.
    """
    text = s.lower()
    text = "".join(ch for ch in text if ch not in _SQUAD_PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


# --------------------------------------------------------------------------------------------------------
# Number-aware normalisation
# --------------------------------------------------------------------------------------------------------

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9,
}  # fmt: skip
_TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90,
}  # fmt: skip
_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9}

# Units of measure reported in news articles, folded to one spelling each. Kept to unambiguous ones:
# "ton(s)" is left alone because a short ton is not a tonne.
_UNIT_FORMS = {
    "kilogramme": "kg", "kilogrammes": "kg", "kilogram": "kg", "kilograms": "kg", "kilo": "kg",
    "kilos": "kg", "kg": "kg", "kgs": "kg",
    "tonne": "tonne", "tonnes": "tonne",
    "percent": "percent", "pct": "percent",
}  # fmt: skip

# Typographic characters that users and articles mix freely ("it’s" vs "it's"); folded before the ASCII
# punctuation is removed so they disappear just like their ASCII twins.
_TYPOGRAPHIC = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "−": "-"})

_THOUSANDS_SEPARATOR = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_PER_CENT = re.compile(r"\bper\s+cent\b")
_PERCENT_SIGN = re.compile(r"\s*%")
_DIGITS_THEN_UNIT = re.compile(r"(?<=\d)(kg|kgs|tonnes?)\b")
_HYPHEN_IN_WORD = re.compile(r"(?<=\w)-(?=\w)")
_DECIMAL_POINT = re.compile(r"(?<=\d)\.(?=\d)")
_DECIMAL_PLACEHOLDER = "\x00"  # not punctuation, survives the punctuation pass
_NUMBER_TOKEN = re.compile(r"\d+(?:\.\d+)?")


def _format_decimal(value: Decimal) -> str:
    """Canonical text for a number: no exponent, no trailing zeros ("1.50" → "1.5", "2.0" → "2")."""
    # normalize() drops trailing zeros but may switch to exponent form (2E+4); "f" writes it out again.
    return format(value.normalize(), "f")


def _word_value(token: str) -> tuple[str, int] | None:
    """Classify a number word: ("units"|"teens"|"tens"|"hundred"|"scale", value) or None."""
    if token in _UNITS:
        return "units", _UNITS[token]
    if token in _TENS:
        return "tens", _TENS[token]
    if token in _TEENS:
        return "teens", _TEENS[token]
    if token == "hundred":
        return "hundred", 100
    if token in _SCALES:
        return "scale", _SCALES[token]
    return None


def _read_number(tokens: list[str], i: int) -> tuple[str, int] | None:
    """Read the number that starts at tokens[i]; return (digits, tokens consumed) or None.

    Accepts spelled-out numbers ("twenty one", "two hundred and five", "two million") and digits followed
    by scale words ("1.5 million"). Deliberately strict: "five six" is two numbers, not eleven, and a lone
    "hundred" or "and" never starts one, so ordinary prose is left alone.
    """
    first = tokens[i]
    total = Decimal(0)  # completed scale groups ("two million" → 2000000)
    group = Decimal(0)  # the group being built below the next scale word
    last: str  # kind of the previous number token, drives which token may come next
    last_scale = math.inf
    if _NUMBER_TOKEN.fullmatch(first):
        group = Decimal(first)
        last = "digits"
    else:
        kind = _word_value(first)
        if kind is None or kind[0] in ("hundred", "scale"):
            return None
        last, value = kind
        group = Decimal(value)
    j = i + 1
    while j < len(tokens):
        token = tokens[j]
        if token == "and" and last in ("hundred", "scale") and j + 1 < len(tokens):
            after = _word_value(tokens[j + 1])
            if after is not None and after[0] in ("units", "teens", "tens"):
                j += 1  # "two hundred and five": this "and" belongs to the number
                continue
            break
        kind = _word_value(token)
        if kind is None:
            break
        word_kind, value = kind
        if last == "digits" and word_kind != "scale":
            break  # "20 five" is not a number; "1.5 million" is
        if word_kind == "units" and last not in ("tens", "hundred", "scale"):
            break  # "five six" stays two numbers; "twenty one", "hundred one", "thousand one" join
        if word_kind in ("teens", "tens") and last not in ("hundred", "scale"):
            break
        if word_kind == "hundred":
            if last not in ("units", "teens", "tens") or group >= 100:
                break
            group *= 100
        elif word_kind == "scale":
            if value >= last_scale:
                break  # "two thousand million" is not read as one number
            total += group * value
            group = Decimal(0)
            last_scale = value
        else:
            group += value
        last = word_kind
        j += 1
    value_out = total + group
    if last == "digits":
        return None  # a bare digit token: nothing to rewrite
    return _format_decimal(value_out), j - i


def _rewrite_numbers(tokens: list[str]) -> list[str]:
    """Replace spelled-out numbers by digits and fold unit spellings, token by token."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        read = _read_number(tokens, i)
        if read is not None:
            digits, used = read
            out.append(digits)
            i += used
            continue
        token = tokens[i]
        if _NUMBER_TOKEN.fullmatch(token):
            token = _format_decimal(Decimal(token))  # the regex admits only valid decimals
        out.append(_UNIT_FORMS.get(token, token))
        i += 1
    return out


def normalize_numbers(s: str) -> str:
    """SQuAD normalisation plus conservative number and unit folding; returns space-separated tokens.

    On top of ``normalize_answer`` (lower-case, punctuation, articles, white space):

    * typographic quotes and dashes count as their ASCII forms;
    * thousands separators go ("1,200" → "1200") but decimal points stay ("99.97" stays, it does not
      become "9997" as in the official script); trailing decimal zeros go ("1.50" → "1.5");
    * percentages: "19%", "19 per cent", "19 pct" → "19 percent";
    * hyphens inside words split them ("twenty-one" → "twenty one", "small-scale" → "small scale");
    * number words zero..twenty, thirty..ninety, hundred, thousand, million, billion → digits
      ("four" → "4", "twenty one" → "21", "two million" → "2000000", "1.5 million" → "1500000");
    * units: kilogramme(s)/kilogram(s)/kilo(s)/kg(s) → "kg", tonne(s) → "tonne" ("12kg" → "12 kg").

    Nothing else changes: ordinals, fractions, currencies and dates are compared as text.
    """
    text = unicodedata.normalize("NFKC", s).translate(_TYPOGRAPHIC).lower()
    text = _THOUSANDS_SEPARATOR.sub("", text)
    text = _PER_CENT.sub("percent", text)
    text = _PERCENT_SIGN.sub(" percent ", text)
    text = _DIGITS_THEN_UNIT.sub(r" \1", text)
    text = _HYPHEN_IN_WORD.sub(" ", text)
    text = _DECIMAL_POINT.sub(_DECIMAL_PLACEHOLDER, text)
    text = "".join(ch for ch in text if ch not in _SQUAD_PUNCTUATION)
    text = text.replace(_DECIMAL_PLACEHOLDER, ".")
    text = _ARTICLES.sub(" ", text)
    return " ".join(_rewrite_numbers(text.split()))


# --------------------------------------------------------------------------------------------------------
# Span metrics
# --------------------------------------------------------------------------------------------------------


def _f1_tokens(prediction_tokens: list[str], gold_tokens: list[str]) -> float:
    """SQuAD token F1 between two token lists; v2.0 rule when either side is empty."""
    if not prediction_tokens or not gold_tokens:
        return float(prediction_tokens == gold_tokens)
    common = Counter(prediction_tokens) & Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(prediction_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def _best_over_golds(prediction: str, golds: Sequence[str], normalize: Callable[[str], str], exact: bool) -> float:
    """Best score over the gold answers; an empty gold list means "unanswerable"."""
    predicted = normalize(prediction)
    if not golds:
        # Unanswerable: only an empty prediction is right (SQuAD v2.0 scores it against gold "").
        return float(predicted == "")
    best = 0.0
    for gold in golds:
        expected = normalize(gold)
        score = float(predicted == expected) if exact else _f1_tokens(predicted.split(), expected.split())
        best = max(best, score)
    return best


def squad_exact_match(prediction: str, golds: Sequence[str]) -> float:
    """Official SQuAD exact match (1.0 or 0.0), best over ``golds``; ``[]`` gold = unanswerable."""
    return _best_over_golds(prediction, golds, normalize_answer, exact=True)


def squad_f1(prediction: str, golds: Sequence[str]) -> float:
    """Official SQuAD token F1 in [0, 1], best over ``golds``; ``[]`` gold = unanswerable."""
    return _best_over_golds(prediction, golds, normalize_answer, exact=False)


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """SQuAD exact match on ``normalize_numbers`` forms ("1,200 kg" matches "1200 kilogrammes")."""
    return _best_over_golds(prediction, golds, normalize_numbers, exact=True)


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """SQuAD token F1 on ``normalize_numbers`` forms, best over ``golds``."""
    return _best_over_golds(prediction, golds, normalize_numbers, exact=False)


def sentence_hit_at_k(sentences: Sequence[str], golds: Sequence[str], k: int) -> bool:
    """True if a gold answer appears, on token boundaries, inside one of the first ``k`` sentences.

    Both sides go through ``normalize_numbers``; matching whole tokens means gold "20" does not hit
    "2019" nor "20,000". An empty gold list (unanswerable) never hits.
    """
    expected = [f" {g} " for g in (normalize_numbers(gold) for gold in golds) if g]
    if not expected:
        return False
    for sentence in sentences[: max(k, 0)]:
        padded = f" {normalize_numbers(sentence)} "
        if any(g in padded for g in expected):
            return True
    return False


# --------------------------------------------------------------------------------------------------------
# Retrieval metrics
# --------------------------------------------------------------------------------------------------------


def _gold_set(gold_id: str | Iterable[str]) -> set[str]:
    # A single id is the common case; several ids cover chunk-level scoring, where the answer can sit
    # in more than one chunk.
    return {gold_id} if isinstance(gold_id, str) else set(gold_id)


def reciprocal_rank(ranked_ids: Sequence[str], gold_id: str | Iterable[str]) -> float:
    """1 / (1-based rank of the first relevant id) in ``ranked_ids``; 0.0 if none is retrieved.

    ``gold_id`` is one id or a collection of ids that all count as relevant.
    """
    relevant = _gold_set(gold_id)
    for rank, candidate in enumerate(ranked_ids, start=1):
        if candidate in relevant:
            return 1.0 / rank
    return 0.0


def recall_at_k(ranked_ids: Sequence[str], gold_id: str | Iterable[str], k: int) -> bool:
    """True if a relevant id is among the first ``k`` of ``ranked_ids`` (one gold per question)."""
    relevant = _gold_set(gold_id)
    return any(candidate in relevant for candidate in ranked_ids[: max(k, 0)])


# --------------------------------------------------------------------------------------------------------
# Abstention, latency, breakdowns
# --------------------------------------------------------------------------------------------------------


def _field(record: Any, name: str) -> bool:
    if isinstance(record, Mapping):
        return bool(record[name])
    return bool(getattr(record, name))


def abstention_scores(records: Iterable[Any]) -> dict[str, float]:
    """Precision, recall and F1 of abstaining, plus how often answerable questions got an answer.

    Each record has boolean ``answerable`` (the gold set has an answer) and ``abstained`` (the system
    refused), as mapping keys or attributes. The positive class is "should abstain" (unanswerable):

    * precision: of the questions the system refused, the share that were unanswerable;
    * recall: of the unanswerable questions, the share the system refused;
    * f1: their harmonic mean;
    * answered_rate: of the answerable questions, the share the system did answer.

    A ratio with an empty denominator is 0.0 (as in scikit-learn); the counts are returned too
    (``n_answerable``, ``n_unanswerable``, ``n_abstained``, ``true_abstentions``) so a report can tell
    "0 of 0" from "0 of 10".
    """
    true_abstain = false_abstain = missed_abstain = answered = n_answerable = n_unanswerable = 0
    for record in records:
        answerable = _field(record, "answerable")
        abstained = _field(record, "abstained")
        if answerable:
            n_answerable += 1
            if abstained:
                false_abstain += 1
            else:
                answered += 1
        else:
            n_unanswerable += 1
            if abstained:
                true_abstain += 1
            else:
                missed_abstain += 1
    n_abstained = true_abstain + false_abstain
    precision = true_abstain / n_abstained if n_abstained else 0.0
    recall = true_abstain / n_unanswerable if n_unanswerable else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "answered_rate": answered / n_answerable if n_answerable else 0.0,
        "n_answerable": float(n_answerable),
        "n_unanswerable": float(n_unanswerable),
        "n_abstained": float(n_abstained),
        "true_abstentions": float(true_abstain),
    }


def percentile(values: Iterable[float], p: float) -> float:
    """The ``p``-th percentile (0..100) with linear interpolation between ranks (numpy's default).

    Raises ValueError for no values or ``p`` outside [0, 100], so an empty latency list is noticed
    rather than reported as 0 ms.
    """
    ordered = sorted(float(v) for v in values)
    if not ordered:
        raise ValueError("percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile p must be in [0, 100], got {p}")
    position = (len(ordered) - 1) * p / 100
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    fraction = position - lower
    return ordered[lower] + (ordered[upper] - ordered[lower]) * fraction


QUESTION_KINDS = ("how many/much", "when", "who", "where", "what/which", "why", "how", "other")

# "what year", "which month"... ask for a date, so they are reported with "when".
_WHEN_NOUNS = frozenset({"year", "years", "date", "day", "month", "time", "decade", "century"})
_WORD = re.compile(r"[a-z]+")


def question_kind(question: str) -> str:
    """Coarse question category for per-type breakdowns; one of ``QUESTION_KINDS``.

    The first question word decides ("In which year…" → "when", "By how much…" → "how many/much");
    a question without one ("and in 2018?") is "other".
    """
    words = _WORD.findall(question.lower().replace("’", "'"))
    for i, word in enumerate(words):
        following = words[i + 1] if i + 1 < len(words) else ""
        if word == "how":
            return "how many/much" if following in ("many", "much") else "how"
        if word == "when":
            return "when"
        if word in ("who", "whom", "whose"):
            return "who"
        if word == "where":
            return "where"
        if word == "why":
            return "why"
        if word in ("what", "which"):
            return "when" if following in _WHEN_NOUNS else "what/which"
    return "other"
