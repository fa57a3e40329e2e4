"""BM25 over an index made of several segments (the local store's word search).

Each segment stores its postings (`Postings`: term → documents and term counts, plus document lengths); a
question is scored over all segments at once with collection-wide statistics (`Lexical`: document frequencies,
document count and mean length summed over the segments), so adding a segment never rewrites the others and a
document scores the same whichever segment holds it. The scoring is BM25 as Lucene computes it (k1 1.5, b 0.75),
over the terms of `index.text.tokenize.tokenize`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

K1 = 1.5
B = 0.75
_FILES = ("indptr", "docs", "counts", "lengths")


@dataclass
class Postings:
    """One segment's inverted index: for term i, documents `docs[indptr[i]:indptr[i+1]]` (ascending) holding it
    `counts[...]` times; `lengths[d]` is document d's number of terms."""

    terms: dict[str, int]
    indptr: np.ndarray
    docs: np.ndarray
    counts: np.ndarray
    lengths: np.ndarray

    @classmethod
    def build(cls, documents: Sequence[Sequence[str]]) -> Postings:
        """Index pre-tokenised documents (use `tokenize`); an empty document still gets its row."""
        by_term: dict[str, list[tuple[int, int]]] = {}
        for number, document in enumerate(documents):
            counted: dict[str, int] = {}
            for term in document:
                counted[term] = counted.get(term, 0) + 1
            for term, count in counted.items():
                by_term.setdefault(term, []).append((number, count))
        terms = sorted(by_term)
        sizes = np.array([len(by_term[t]) for t in terms], dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        pairs = [p for t in terms for p in by_term[t]]
        docs = np.array([d for d, _ in pairs], dtype=np.int32)
        counts = np.array([min(c, 65_535) for _, c in pairs], dtype=np.uint16)
        lengths = np.array([len(d) for d in documents], dtype=np.int32)
        return cls({t: i for i, t in enumerate(terms)}, indptr, docs, counts, lengths)

    @property
    def num_docs(self) -> int:
        return len(self.lengths)

    def df(self, term: str) -> int:
        i = self.terms.get(term)
        return 0 if i is None else int(self.indptr[i + 1] - self.indptr[i])

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "terms.json").write_text(json.dumps(list(self.terms)), encoding="utf-8")
        for name in _FILES:
            np.save(folder / f"{name}.npy", getattr(self, name), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> Postings:
        terms = json.loads((folder / "terms.json").read_text(encoding="utf-8"))
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in _FILES}
        if len(arrays["indptr"]) != len(terms) + 1 or arrays["indptr"][-1] != len(arrays["docs"]):
            raise ValueError("the postings do not match their term list")
        return cls({t: i for i, t in enumerate(terms)}, **arrays)


class Lexical:
    """BM25 over segments taken together; documents are numbered across them (segment i's document d is row
    `offsets[i] + d`). `dead` marks rows that are never returned (deleted articles); they still count in the
    statistics until their segment is compacted, as in Lucene."""

    def __init__(self, segments: Sequence[Postings], dead: Sequence[np.ndarray] | None = None) -> None:
        self.segments = list(segments)
        self.offsets = np.concatenate([[0], np.cumsum([p.num_docs for p in self.segments])]).astype(np.int64)
        self.dead = list(dead) if dead is not None else [np.zeros(0, dtype=np.int64) for _ in self.segments]
        self.num_docs = int(self.offsets[-1])
        total_length = sum(int(np.asarray(p.lengths, dtype=np.int64).sum()) for p in self.segments)
        self.mean_length = total_length / max(self.num_docs, 1)
        self._norms = [
            K1 * ((1 - B) + B * np.asarray(p.lengths, dtype=np.float32) / max(self.mean_length, 1e-9))
            for p in self.segments
        ]

    def df(self, term: str) -> int:
        """Number of documents containing `term` (0 when unseen)."""
        return sum(p.df(term) for p in self.segments)

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency, the same shape BM25 uses (always > 0)."""
        n = max(self.num_docs, 1)
        df = self.df(term)
        return float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))

    def search(self, terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        """Top `k` (document row, BM25 score) for the query terms, best first; unknown terms are ignored."""
        weights = {t: self.idf(t) for t in dict.fromkeys(terms) if self.df(t)}
        if not weights or k <= 0:
            return []
        found: list[tuple[int, float]] = []
        for number, postings in enumerate(self.segments):
            scores = np.zeros(postings.num_docs, dtype=np.float32)
            for term, idf in weights.items():
                i = postings.terms.get(term)
                if i is None:
                    continue
                lo, hi = int(postings.indptr[i]), int(postings.indptr[i + 1])
                docs = np.asarray(postings.docs[lo:hi])
                counts = np.asarray(postings.counts[lo:hi], dtype=np.float32)
                scores[docs] += idf * counts / (self._norms[number][docs] + counts)
            if len(self.dead[number]):
                scores[self.dead[number]] = 0.0
            top = np.flatnonzero(scores > 0)
            if len(top) > k:
                top = top[np.argpartition(-scores[top], k - 1)[:k]]
            offset = int(self.offsets[number])
            found.extend((offset + int(d), float(scores[d])) for d in top)
        found.sort(key=lambda pair: (-pair[1], pair[0]))
        return found[:k]
