"""Words for BM25 and for lexical scoring: one tokenizer for the index and the questions alike.

Lower-cased, stop words dropped, English Snowball stems; thousands separators are removed first so
"20,000" and "20000" are one token, and decimals stay whole ("99.97").
The local store's BM25 engine over these terms is `index.storage.local.postings`.
"""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[^\W\d_]+", re.UNICODE)

STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are aren't as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me more
    most my myself no nor not of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves s t don shall may might must also said says say
    """.split()
)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return str(_stemmer().stemWord(word))


def words(text: str) -> list[str]:
    """Lower-cased word and number tokens of `text`, stop words included, not stemmed."""
    return _TOKEN.findall(_THOUSANDS.sub("", text.lower()))


def tokenize(text: str) -> list[str]:
    """Index terms of `text`: stop words dropped, words stemmed, numbers kept as written."""
    return [w if w[0].isdigit() else stem(w) for w in words(text) if w not in STOPWORDS]
