"""Answer normalisation before comparing a prediction with its gold answers.

* ``normalize_answer``: the official SQuAD normalisation (evaluate-v1.1.py, step for step, so scores match
  published ones);
* ``normalize_numbers``: the same plus conservative number and unit folding, so that "1,200" and "1200", "four"
  and "4", "19%" and "19 per cent" read alike.

Pure functions of strings; evaluation/metrics.py scores with them and docs/metrics.md describes both.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from decimal import Decimal

__all__ = ["normalize_answer", "normalize_numbers"]

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
