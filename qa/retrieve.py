"""Hybrid retrieval: dense chunks, dense sentences and BM25 chunks, fused by reciprocal rank, giving the
candidate sentences (every sentence of the best chunks) that the scorer then ranks."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from index.store import IndexStore
from qa.models import SearchFilter
from qa.question import Question

RRF_K = 60


@dataclass
class Retrieved:
    """What retrieval found for one question."""

    chunk_rows: list[int]
    chunk_scores: dict[int, float]
    chunk_rank: dict[int, int]
    sentence_rows: list[int]
    dense_chunk: dict[int, float] = field(default_factory=dict)
    bm25_chunk: dict[int, float] = field(default_factory=dict)
    dense_sentence: dict[int, float] = field(default_factory=dict)


def retrieve(
    store: IndexStore,
    question: Question,
    vector: np.ndarray,
    *,
    chunks: int = 8,
    depth: int = 40,
    search_filter: SearchFilter | None = None,
    prefer: np.ndarray | None = None,
) -> Retrieved:
    """Fuse three rankings and return the top `chunks` chunks with all their sentences.

    `prefer` (chunk rows of the articles of the time the question asks about, see qa/when.py) adds two more
    rankings, dense and BM25 within those rows, so that the right period's report competes with every other
    report on the same subject; it prefers, it does not filter.
    """
    allowed = None
    allowed_sentences = None
    if search_filter is not None:
        allowed = store.allowed_chunk_rows(search_filter.sources, search_filter.date_from, search_filter.date_to)
        if allowed is not None:
            allowed_sentences = store.sentence_rows_of_chunks(allowed)
    dense_chunks = store.search_chunks(vector, depth, allowed)
    lexical = store.lexical.search(question.terms, depth * 4 if allowed is not None else depth)
    if allowed is not None:
        keep = set(allowed.tolist())
        lexical = [(r, s) for r, s in lexical if r in keep][:depth]
    dense_sentences = store.search_sentences(vector, depth, allowed_sentences)
    sentence_rows = store.sentences([r for r, _ in dense_sentences])
    chunk_of = {row["row"]: row["chunk_row"] for row in sentence_rows}

    rankings = [
        [r for r, _ in dense_chunks],
        [r for r, _ in lexical],
        list(dict.fromkeys(chunk_of[r] for r, _ in dense_sentences if r in chunk_of)),
    ]
    if prefer is not None and len(prefer):
        if allowed is not None:
            prefer = np.intersect1d(prefer, allowed)
        rankings.append([r for r, _ in store.search_chunks(vector, depth, prefer)])
        within = set(prefer.tolist())
        rankings.append([r for r, _ in store.lexical.search(question.terms, depth * 4) if r in within][:depth])
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, row in enumerate(ranking):
            fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
    ordered = sorted(fused, key=lambda r: -fused[r])[:chunks]
    members = store.chunk_sentence_rows(ordered)
    sentences = [s for c in ordered for s in members[c]]
    return Retrieved(
        chunk_rows=ordered,
        chunk_scores={r: fused[r] for r in ordered},
        chunk_rank={r: i for i, r in enumerate(ordered)},
        sentence_rows=sentences,
        dense_chunk=dict(dense_chunks),
        bm25_chunk=dict(lexical),
        dense_sentence=dict(dense_sentences),
    )
