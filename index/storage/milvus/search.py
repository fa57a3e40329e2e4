"""Searches of the Milvus index: dense searches of chunks and sentences, BM25 over chunks' words, each narrowed
by one filter expression (`expressions`), and the term statistics of the words.

Scores: cosine similarity for vectors (inner product of unit vectors). Words are BM25 over each chunk's terms
(`index.text.tokenize.tokenize`, so both stores search the same words) with k1 1.5 and b 0.75, scaled to
the local store's Lucene form. Milvus keeps the BM25 statistics itself: a Milvus server over the live rows of
a collection; milvus-lite per stored segment (a commit flushes what it wrote into one), and, for rows not yet
flushed, over those that pass the search's filter. On one segment the scores equal the local store's.
`term_weights` counts each term's document frequency as the hits of a BM25 search for it alone, so it
reflects the live rows when counted (the counts are kept for the reader's life, as its facts are).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np

from index.storage.api import ChunkRef, Filter, Hit, SentenceRef, TimePreference
from index.storage.milvus.connection import reaching
from index.storage.milvus.expressions import both, dated_expression, filter_expression, literal, one_of, told_expression
from index.storage.milvus.rows import QUERY_LIMIT, CollectionRows
from index.storage.milvus.schema import CHUNKS, SENTENCES, TIMES, bm25_score, word_token


class CollectionSearch(CollectionRows):
    """The searches and term statistics of a `MilvusReader` (a mixin of it)."""

    _document_frequency: dict[str, int]  # term → chunks holding it ("" → all chunks)

    @reaching
    def search_chunks(
        self, vector: np.ndarray, k: int, where: Filter | None = None, prefer: TimePreference | None = None
    ) -> list[Hit]:
        return self._dense(CHUNKS, ChunkRef, vector, k, where, prefer)

    @reaching
    def search_sentences(
        self, vector: np.ndarray, k: int, where: Filter | None = None, prefer: TimePreference | None = None
    ) -> list[Hit]:
        return self._dense(SENTENCES, SentenceRef, vector, k, where, prefer)

    def _dense(
        self, collection: str, ref: type, vector: np.ndarray, k: int, where: Filter | None,
        prefer: TimePreference | None,
    ) -> list[Hit]:  # fmt: skip
        if k <= 0:
            return []
        query = np.asarray(vector, dtype=np.float32).reshape(-1).tolist()
        results = self.client.search(
            collection, data=[query], anns_field="vector", limit=min(k, QUERY_LIMIT),
            filter=self._expression(where, prefer), output_fields=["article_id", "number"],
            search_params={"metric_type": "IP"},
        )  # fmt: skip
        return _best(((ref(h["entity"]["article_id"], int(h["entity"]["number"])), float(h["distance"]))
                      for h in results[0]), k)  # fmt: skip

    @reaching
    def search_words(
        self, terms: Sequence[str], k: int, where: Filter | None = None, prefer: TimePreference | None = None
    ) -> list[Hit]:
        text = " ".join(word_token(t) for t in dict.fromkeys(terms) if t)
        if k <= 0 or not text.strip():
            return []
        results = self.client.search(
            CHUNKS, data=[text], anns_field="sparse", limit=min(k, QUERY_LIMIT), filter=self._expression(where, prefer),
            output_fields=["article_id", "number"], search_params={"metric_type": "BM25"},
        )  # fmt: skip
        return _best(((ChunkRef(h["entity"]["article_id"], int(h["entity"]["number"])), bm25_score(h["distance"]))
                      for h in results[0]), k)  # fmt: skip

    def term_weights(self, terms: Sequence[str]) -> dict[str, float]:
        """BM25's IDF of each term, log(1 + (N - df + 0.5) / (df + 0.5)), N the live chunks and df those whose
        words hold the term."""
        frequencies = self.document_frequencies(terms)
        total = self._document_frequency.get("", 0)
        return {t: float(math.log(1.0 + (total - df + 0.5) / (df + 0.5))) for t, df in frequencies.items()}

    @reaching
    def document_frequencies(self, terms: Sequence[str]) -> dict[str, int]:
        unique = [t for t in dict.fromkeys(terms) if t]
        if not unique:
            return {}
        counted = self._document_frequency  # kept for the reader's life, like its facts
        if "" not in counted:
            counted[""] = self._count(CHUNKS)
        new = [term for term in unique if term not in counted]
        if new:
            counted.update(zip(new, self._chunks_holding(new), strict=True))
        return {term: counted[term] for term in unique}

    def _chunks_holding(self, terms: list[str]) -> list[int]:
        """How many chunks hold each term: the hits of a BM25 search for the term alone (every chunk holding it
        scores above zero), served by the sparse index; a `TEXT_MATCH` count only for a term in more chunks
        than one search returns (milvus-lite evaluates `TEXT_MATCH` row by row, a server from its own index).
        One request per term: milvus-lite answers a batch of queries slower than the same queries apart."""
        counts = []
        for token in (word_token(t) for t in terms):
            hits = self.client.search(
                CHUNKS, data=[token], anns_field="sparse", limit=QUERY_LIMIT, output_fields=[],
                search_params={"metric_type": "BM25"},
            )[0]  # fmt: skip
            found = len(hits)
            counts.append(found if found < QUERY_LIMIT else self._count(CHUNKS, f"TEXT_MATCH(words, {literal(token)})"))
        return counts

    def _expression(self, where: Filter | None, prefer: TimePreference | None) -> str:
        return both(filter_expression(where), self._prefer_expression(prefer))

    def _prefer_expression(self, prefer: TimePreference | None) -> str | None:
        if prefer is None:
            return None
        told = told_expression(prefer)
        if told is None:
            return dated_expression(prefer)
        mentioned = sorted({row["article_id"] for row in self._scan(TIMES, told, ["article_id"])})
        if not mentioned:
            return dated_expression(prefer)
        return f"{dated_expression(prefer)} or {one_of('article_id', mentioned)}"


def _best(hits: Iterator[tuple[ChunkRef | SentenceRef, float]], k: int) -> list[Hit]:
    """One hit per record (its best score), best first, ties by ref."""
    best: dict[ChunkRef | SentenceRef, float] = {}
    for ref, score in hits:
        if ref not in best or score > best[ref]:
            best[ref] = score
    return [Hit(ref, score) for ref, score in sorted(best.items(), key=lambda pair: (-pair[1], pair[0]))[:k]]
