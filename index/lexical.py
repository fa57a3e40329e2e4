"""Words for BM25 and for lexical scoring: one tokenizer for the index and the questions alike.

Lower-cased, stop words dropped, English Snowball stems; thousands separators are removed first so
"20,000" and "20000" are one token, and decimals stay whole ("99.97").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
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


class LexicalIndex:
    """BM25 over a list of documents (here: chunks), plus document frequencies for IDF weighting."""

    def __init__(self, retriever: bm25s.BM25) -> None:
        self.retriever = retriever
        self.vocab: dict[str, int] = dict(retriever.vocab_dict)
        indptr = np.asarray(retriever.scores["indptr"])
        self._df = np.diff(indptr)
        self.num_docs = int(retriever.scores["num_docs"])

    @classmethod
    def build(cls, documents: Sequence[Sequence[str]]) -> LexicalIndex:
        """Index pre-tokenised documents (use `tokenize`)."""
        retriever = bm25s.BM25()
        # An empty document still needs a row so rows line up with the dense index.
        retriever.index([list(d) for d in documents], show_progress=False)
        return cls(retriever)

    def save(self, folder: Path) -> None:
        self.retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, mmap: bool = True) -> LexicalIndex:
        retriever = bm25s.BM25.load(str(folder), mmap=mmap, show_progress=False)
        return cls(retriever)

    def df(self, term: str) -> int:
        """Number of documents containing `term` (0 when unseen)."""
        idx = self.vocab.get(term)
        return int(self._df[idx]) if idx is not None else 0

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency, the same shape BM25 uses (always > 0)."""
        n = max(self.num_docs, 1)
        df = self.df(term)
        return float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))

    def search(self, terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        """Top `k` (document row, BM25 score) for the query terms; unknown terms are ignored."""
        known = [t for t in terms if t in self.vocab]
        if not known or self.num_docs == 0:
            return []
        k = min(k, self.num_docs)
        docs, scores = self.retriever.retrieve([known], k=k, show_progress=False, n_threads=1)
        return [(int(d), float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]
