"""Score candidate sentences against a question with more than raw similarity.

Each sentence gets a feature vector — dense similarity of the sentence and of its chunk, fused retrieval
rank, BM25, IDF-weighted overlap of the question's terms in the sentence and in its neighbours, word-pair
overlap, whether the numbers and years the question names are there (or contradicted), and how well the
sentence's best answer of the asked type fits — combined by a logistic model whose weights ship in
`scorer_weights.json` (trained by `qa train-scorer`, see docs/answering.md). The output is a probability that
the sentence answers the question, which also drives abstention.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

from index.storage import ChunkRef, SentenceRecord, SentenceRef, StoreReader
from index.text.tokenize import tokenize
from qa.question import Question, years_in
from qa.retrieve import Retrieved
from qa.spans import answer_type_fit

if TYPE_CHECKING:
    from qa.cross_encoder import Reading

FEATURES = (
    "dense_sentence",
    "dense_chunk",
    "fused_rank",
    "bm25_chunk",
    "overlap",
    "window_overlap",
    "bigram_overlap",
    "numbers_present",
    "year_conflict",
    "answer_type_fit",
    "missing_terms",
    "log_length",
)


@dataclass
class ScoredSentence:
    ref: SentenceRef
    article_id: str
    number: int
    start: int
    end: int
    text: str
    chunk: ChunkRef
    features: np.ndarray
    score: float = 0.0
    reading: Reading | None = None  # set when the reader rescored this sentence (qa/reader.py)


@dataclass(frozen=True)
class ScorerWeights:
    """A logistic model over FEATURES: probability = sigmoid(bias + weights · features)."""

    weights: tuple[float, ...]
    bias: float
    threshold: float
    provenance: str = ""

    def probability(self, features: np.ndarray) -> np.ndarray:
        z = features @ np.asarray(self.weights) + self.bias
        return 1.0 / (1.0 + np.exp(-z))


@lru_cache(maxsize=1)
def default_weights() -> ScorerWeights:
    """The shipped weights (qa/scorer_weights.json)."""
    data = json.loads(resources.files("qa").joinpath("scorer_weights.json").read_text(encoding="utf-8"))
    return weights_from_dict(data)


def weights_from_dict(data: dict) -> ScorerWeights:
    if list(data["features"]) != list(FEATURES):
        raise ValueError("scorer weights were trained on other features; retrain with qa train-scorer")
    return ScorerWeights(
        weights=tuple(float(w) for w in data["weights"]),
        bias=float(data["bias"]),
        threshold=float(data["threshold"]),
        provenance=str(data.get("provenance", "")),
    )


def _weighted_overlap(terms: list[str], present: set[str], idf_of: dict[str, float]) -> tuple[float, float]:
    unique = list(dict.fromkeys(terms))
    if not unique:
        return 0.0, 0.0
    idf = [idf_of[t] for t in unique]
    total = sum(idf)
    hit = sum(w for t, w in zip(unique, idf, strict=True) if t in present)
    missing = sum(1 for t in unique if t not in present) / len(unique)
    return hit / total if total else 0.0, missing


def _bigrams(terms: list[str]) -> set[tuple[str, str]]:
    return set(itertools.pairwise(terms))


def sentence_features(
    store: StoreReader, question: Question, vector: np.ndarray, retrieved: Retrieved
) -> list[ScoredSentence]:
    """Feature vectors (in the order of FEATURES) for every candidate sentence of `retrieved`, in retrieval
    order."""
    rows, by_ref = _read_candidates(store, retrieved)
    if not rows:
        return []
    dense_sentence, dense_chunk = _dense_similarities(store, rows, vector)
    best_fused = max(retrieved.chunk_scores.values()) if retrieved.chunk_scores else 1.0
    best_bm25 = max(retrieved.bm25_chunk.values(), default=0.0) or 1.0
    idf_of = store.term_weights(question.terms)
    question_bigrams = _bigrams(question.terms)
    out = []
    for i, row in enumerate(rows):
        values = {
            "dense_sentence": float(dense_sentence[i]),
            "dense_chunk": float(dense_chunk[i]),
            "fused_rank": retrieved.chunk_scores.get(row.chunk, 0.0) / best_fused,
            "bm25_chunk": retrieved.bm25_chunk.get(row.chunk, 0.0) / best_bm25,
            **_text_features(question, row, _neighbour_terms(row, by_ref), idf_of, question_bigrams),
        }
        features = np.array([values[name] for name in FEATURES], dtype=np.float64)
        out.append(
            ScoredSentence(
                ref=row.ref,
                article_id=row.article_id,
                number=row.number,
                start=row.start,
                end=row.end,
                text=row.text,
                chunk=row.chunk,
                features=features,
            )
        )
    return out


def _read_candidates(
    store: StoreReader, retrieved: Retrieved
) -> tuple[list[SentenceRecord], dict[SentenceRef, SentenceRecord]]:
    """The candidate sentences (with their vectors), in retrieval order, and every sentence read by its ref: the
    candidates and their neighbours, whose words count in a candidate's window, in one read of the store."""
    asked = set(retrieved.sentences)
    neighbours = sorted({SentenceRef(r.article_id, r.number + d) for r in asked for d in (-1, 1)} - asked)
    read = store.sentences([*retrieved.sentences, *neighbours], vectors=True)
    return [r for r in read if r.ref in asked], {r.ref: r for r in read}


def _dense_similarities(
    store: StoreReader, rows: list[SentenceRecord], vector: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each candidate's similarity to the question's `vector`, and its chunk's (one read of the chunks)."""
    dense_sentence = np.stack([r.vector for r in rows]) @ vector  # type: ignore[misc]
    chunk_vectors = {c.ref: c.vector for c in store.chunks(list(dict.fromkeys(r.chunk for r in rows)), vectors=True)}
    dense_chunk = np.stack([chunk_vectors[r.chunk] for r in rows]) @ vector  # type: ignore[misc]
    return dense_sentence, dense_chunk


def _neighbour_terms(row: SentenceRecord, by_ref: dict[SentenceRef, SentenceRecord]) -> list[str]:
    """The terms of the sentences either side of `row` (those that were read)."""
    terms: list[str] = []
    for d in (-1, 1):
        near = by_ref.get(SentenceRef(row.article_id, row.number + d))
        if near is not None:
            terms += tokenize(near.text)
    return terms


def _text_features(
    question: Question,
    row: SentenceRecord,
    neighbour_terms: list[str],
    idf_of: dict[str, float],
    question_bigrams: set[tuple[str, str]],
) -> dict[str, float]:
    """The features of a candidate's words (and its neighbours'), by name: the question's terms found, word
    pairs, numbers and years, the answer type's fit and the sentence's length."""
    terms = tokenize(row.text)
    present = set(terms)
    overlap, missing = _weighted_overlap(question.terms, present, idf_of)
    window_overlap, _ = _weighted_overlap(question.terms, present | set(neighbour_terms), idf_of)
    numbers = question.numbers
    sentence_years = years_in(row.text)
    return {
        "overlap": overlap,
        "window_overlap": window_overlap,
        "bigram_overlap": (
            len(question_bigrams & _bigrams(terms)) / len(question_bigrams) if question_bigrams else 0.0
        ),
        "numbers_present": len(numbers & present) / len(numbers) if numbers else 0.0,
        "year_conflict": float(bool(question.years and sentence_years and not (question.years & sentence_years))),
        "answer_type_fit": answer_type_fit(row.text, question),
        "missing_terms": missing,
        "log_length": math.log1p(len(terms)),
    }


def score_sentences(
    store: StoreReader,
    question: Question,
    vector: np.ndarray,
    retrieved: Retrieved,
    weights: ScorerWeights | None = None,
) -> list[ScoredSentence]:
    """Candidate sentences with their probability of answering the question, best first."""
    return weigh(sentence_features(store, question, vector, retrieved), weights)


def weigh(scored: list[ScoredSentence], weights: ScorerWeights | None = None) -> list[ScoredSentence]:
    """Set each sentence's probability of answering from its features; the sentences best first (a new list:
    `scored` keeps its order)."""
    weights = weights or default_weights()
    if not scored:
        return []
    probabilities = weights.probability(np.stack([s.features for s in scored]))
    for s, p in zip(scored, probabilities, strict=True):
        s.score = float(p)
    return sorted(scored, key=lambda s: -s.score)
