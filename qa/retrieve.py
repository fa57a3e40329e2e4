"""Hybrid retrieval: dense chunks, dense sentences and BM25 chunks, fused by reciprocal rank, giving the
candidate sentences (every sentence of the best chunks) that the scorer then ranks."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from index.storage import ChunkRef, Filter, SentenceRef, StoreReader, TimePreference
from qa.models import SearchFilter
from qa.question import Question

RRF_K = 60


@dataclass
class Retrieved:
    """What retrieval found for one question."""

    chunks: list[ChunkRef]
    chunk_scores: dict[ChunkRef, float]
    chunk_rank: dict[ChunkRef, int]
    sentences: list[SentenceRef]
    dense_chunk: dict[ChunkRef, float] = field(default_factory=dict)
    bm25_chunk: dict[ChunkRef, float] = field(default_factory=dict)
    dense_sentence: dict[SentenceRef, float] = field(default_factory=dict)


def store_filter(search_filter: SearchFilter | None) -> Filter | None:
    """The store's filter for a question's `SearchFilter` (None: search everything)."""
    if search_filter is None:
        return None
    where = search_filter.to_storage_filter()
    return None if where.is_empty() else where


def retrieve(
    store: StoreReader,
    question: Question,
    vector: np.ndarray,
    *,
    chunks: int,
    depth: int,
    search_filter: SearchFilter | None = None,
    prefer: TimePreference | None = None,
) -> Retrieved:
    """Fuse three rankings of `depth` hits each and return the top `chunks` chunks with all their sentences
    (the answer path takes both from its settings, `AnsweringSettings`).

    `prefer` (the articles of the time the question asks about, see qa/when.py) adds two more rankings, dense
    and BM25 within those articles, so that the right period's report competes with every other report on the
    same subject; it prefers, it does not filter.
    """
    where = store_filter(search_filter)
    dense_chunks = store.search_chunks(vector, depth, where)
    lexical = store.search_words(question.terms, depth, where)
    dense_sentences = store.search_sentences(vector, depth, where)
    chunk_of = {record.ref: record.chunk for record in store.sentences([h.ref for h in dense_sentences])}

    rankings = [
        [h.ref for h in dense_chunks],
        [h.ref for h in lexical],
        list(dict.fromkeys(chunk_of[h.ref] for h in dense_sentences if h.ref in chunk_of)),  # type: ignore[index]
    ]
    if prefer is not None:
        rankings.append([h.ref for h in store.search_chunks(vector, depth, where, prefer)])
        rankings.append([h.ref for h in store.search_words(question.terms, depth, where, prefer)])
    fused: dict[ChunkRef, float] = {}
    for ranking in rankings:
        for rank, ref in enumerate(ranking):
            fused[ref] = fused.get(ref, 0.0) + 1.0 / (RRF_K + rank + 1)  # type: ignore[index]
    ordered = sorted(fused, key=lambda r: -fused[r])[:chunks]
    members = {record.ref: record.sentences for record in store.chunks(ordered)}
    sentences = [s for c in ordered for s in members.get(c, ())]
    return Retrieved(
        chunks=ordered,
        chunk_scores={r: fused[r] for r in ordered},
        chunk_rank={r: i for i, r in enumerate(ordered)},
        sentences=sentences,
        dense_chunk={h.ref: h.score for h in dense_chunks},  # type: ignore[misc]
        bm25_chunk={h.ref: h.score for h in lexical},  # type: ignore[misc]
        dense_sentence={h.ref: h.score for h in dense_sentences},  # type: ignore[misc]
    )
