"""BM25 over segments: the scores of the textbook formula with collection-wide statistics, wherever a document is
stored, with deleted documents never returned."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest

from index.storage.local.postings import K1, B, Lexical, Postings
from index.text.tokenize import tokenize

DOCS = [
    tokenize("Police seized 720 kilogrammes of drugs in 2019."),
    tokenize("The harbour ferry ran late on Monday."),
    tokenize("Drugs seized at the harbour: 12 kilogrammes of cocaine."),
    [],
    tokenize("The ferry crossing resumed; the harbour master said the ferry was repaired."),
]


def reference(docs: list[list[str]], query: list[str]) -> dict[int, float]:
    """BM25 (Lucene's idf and term-frequency saturation) written out directly from its formula."""
    n = len(docs)
    mean = sum(len(d) for d in docs) / n
    scores = {}
    for number, doc in enumerate(docs):
        total = 0.0
        for term in dict.fromkeys(query):
            tf = doc.count(term)
            df = sum(term in d for d in docs)
            if tf and df:
                idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                total += idf * tf / (tf + K1 * (1 - B + B * len(doc) / mean))
        if total > 0:
            scores[number] = total
    return scores


@pytest.mark.parametrize("split", [[5], [2, 3], [1, 1, 1, 1, 1]], ids=["one", "two", "five"])
def test_scores_are_bm25_over_the_whole_collection_however_it_is_split(split: list[int], tmp_path: Path) -> None:
    parts, start = [], 0
    for number, size in enumerate(split):
        postings = Postings.build(DOCS[start : start + size])
        postings.save(tmp_path / str(number))
        parts.append(Postings.load(tmp_path / str(number)))
        start += size
    lexical = Lexical(parts)
    assert lexical.num_docs == 5 and lexical.df("harbour") == 3
    for query in (tokenize("harbour ferry"), tokenize("kilogrammes of drugs seized"), tokenize("ferry ferry")):
        expected = reference(DOCS, query)
        found = lexical.search(query, 10)
        assert [row for row, _ in found] == sorted(expected, key=lambda r: (-expected[r], r))
        for row, score in found:
            assert score == pytest.approx(expected[row], rel=1e-5)
    assert lexical.search(tokenize("unheard-of words"), 10) == []


def test_many_random_documents_match_the_formula() -> None:
    rng = random.Random(3)
    vocabulary = [f"w{i}" for i in range(60)]
    docs = [[rng.choice(vocabulary[: rng.randint(3, 60)]) for _ in range(rng.randint(0, 30))] for _ in range(200)]
    lexical = Lexical([Postings.build(docs[:70]), Postings.build(docs[70:150]), Postings.build(docs[150:])])
    for _ in range(20):
        query = rng.sample(vocabulary, 3)
        expected = reference(docs, query)
        top = sorted(expected, key=lambda r: (-expected[r], r))[:10]
        found = lexical.search(query, 10)
        assert [r for r, _ in found] == top
        np.testing.assert_allclose([s for _, s in found], [expected[r] for r in top], rtol=1e-5)


def test_deleted_documents_are_never_returned() -> None:
    lexical = Lexical([Postings.build(DOCS[:2]), Postings.build(DOCS[2:])], [np.array([1]), np.array([0])])
    rows = [row for row, _ in lexical.search(tokenize("harbour ferry drugs"), 10)]
    assert 1 not in rows and 2 not in rows and set(rows) == {0, 4}
