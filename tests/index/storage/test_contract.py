"""The storage contract: every backend, given the same prepared articles (the bundled corpus and ~200 Reuters
articles, made by the real pipeline and encoder), gives the same answers.

Each backend is checked against a reference computed here from the prepared articles themselves (exact cosine
over the vectors, BM25 written out here over the chunks' terms, the articles' own metadata and time
expressions), so two backends that pass agree with each other; `test_both_backends_give_the_same_answers`
also compares them directly.

BM25: both stores score the same terms with k1 1.5 and b 0.75 on one scale, and on a freshly written index
their word searches, filtered or not, agree hit for hit and score for score. They may differ where their
statistics do: the local store counts deleted chunks until a merge (as Lucene does), Milvus counts live rows
only; and milvus-lite keeps statistics per stored segment (a commit flushes the written rows into one), and over
only the rows that pass a filter for rows not flushed yet, where the local store and a Milvus server use the
whole collection's. After several commits with replacements the two stores' word scores can therefore drift
apart slightly, so only a fresh index is compared score for score.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from index.encoder import Encoder
from index.models import Article
from index.readers import RawArticle
from index.storage import (
    TITLE,
    ChunkRef,
    Filter,
    Hit,
    ModelStamp,
    PreparedArticle,
    SentenceRef,
    StoreReader,
    TimePreference,
    open_store,
    open_writer,
)
from index.text.tokenize import tokenize
from newsqa.settings import Settings
from tests.index.storage.conftest import prepare

BACKENDS = ["local", "milvus"]
K = 10
VECTOR_TOLERANCE = 1e-3  # float16, as the local store keeps vectors, is exact to about 5e-4 below 1
QUESTIONS = [
    "cocoa harvest prospects in Bahia",
    "should suspects in minor drug crimes be released",
    "oil prices and OPEC output",
    "central bank interest rates",
    "wheat and grain exports",
    "quarterly profit of the company",
    "takeover bid for the shares",
    "dollar against the yen",
]
FILTERS = [
    Filter(sources=("Khmer Times",)),
    Filter(sources=("Reuters",), date_from="1987-03-01", date_to="1987-03-31"),
    Filter(date_from="1987-06-01"),
    Filter(date_to="1987-03-02"),
    Filter(sources=("Reuters", "Khmer Times"), date_from="1987-04-01", date_to="1987-09-30"),
    Filter(sources=("",)),  # articles without a source: none here
]
PREFERENCES = [
    (TimePreference(dated=("1987-03-01", "1987-03-31")), None),
    (TimePreference(dated=("1987-04-01", "1987-04-30"), told=("1987-01-01", "1987-01-31")), None),
    (TimePreference(dated=("1987-04-01", "1987-04-30"), told=("1987-01-01", "1987-01-31"), relative_only=True), None),
    (
        TimePreference(dated=("1987-03-01", "1987-05-31"), told=("1986-01-01", "1986-12-31")),
        Filter(sources=("Reuters",)),
    ),
]


@dataclass
class Built:
    backend: str
    settings: Settings
    reader: StoreReader


def build(backend: str, folder: Path, items: list[PreparedArticle], model: ModelStamp) -> Built:
    settings = Settings(index_dir=folder, store=backend)  # type: ignore[arg-type]
    with open_writer(settings, model) as writer:
        writer.add(items)
        writer.commit()
    return Built(backend, settings, open_store(settings, model))


@pytest.fixture(scope="session", params=BACKENDS)
def built(
    request: pytest.FixtureRequest,
    prepared: list[PreparedArticle],
    model: ModelStamp,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Built]:
    store = build(request.param, tmp_path_factory.mktemp(f"contract-{request.param}"), prepared, model)
    yield store
    store.reader.close()


class Reference:
    """What any store must answer for the prepared articles, computed from them directly."""

    def __init__(self, items: list[PreparedArticle]) -> None:
        self.items = items
        self.articles = {i.article.id: i.article for i in items}
        self.chunk_refs = [ChunkRef(i.article.id, c.number) for i in items for c in i.chunks]
        self.chunk_vectors = np.vstack([i.chunk_vectors for i in items])
        self.sentence_refs = [SentenceRef(i.article.id, s.number) for i in items for s in i.sentences]
        self.sentence_vectors = np.vstack([i.sentence_vectors for i in items])
        self.bm25 = BM25([tokenize(c.text) for i in items for c in i.chunks])

    def allowed(self, where: Filter | None, prefer: TimePreference | None) -> set[str]:
        return {a for a, article in self.articles.items() if _passes(article, where) and self._preferred(a, prefer)}

    def _preferred(self, article_id: str, prefer: TimePreference | None) -> bool:
        if prefer is None:
            return True
        dated = self.articles[article_id].date
        if dated and prefer.dated[0] <= dated <= prefer.dated[1]:
            return True
        if prefer.told is None:
            return False
        first, last = (date.fromisoformat(d) for d in prefer.told)
        item = next(i for i in self.items if i.article.id == article_id)
        mentions = [*item.title_times, *(m for s in item.sentences for m in s.times)]
        return any(m.overlaps(first, last) and not (prefer.relative_only and m.says_its_year) for m in mentions)

    def dense(self, kind: str, vector: np.ndarray, k: int, allowed: set[str] | None = None) -> list[Hit]:
        refs: Sequence[ChunkRef | SentenceRef] = self.chunk_refs if kind == "chunks" else self.sentence_refs
        matrix = self.chunk_vectors if kind == "chunks" else self.sentence_vectors
        scores = matrix @ vector
        hits = [
            Hit(r, float(s)) for r, s in zip(refs, scores, strict=True) if allowed is None or r.article_id in allowed
        ]
        return sorted(hits, key=lambda h: (-h.score, h.ref))[:k]

    def words(self, terms: list[str], k: int, allowed: set[str] | None = None) -> list[Hit]:
        scores = self.bm25.scores(terms)
        hits = [Hit(r, s) for r, s in zip(self.chunk_refs, scores, strict=True) if s > 0]
        hits = [h for h in hits if allowed is None or h.ref.article_id in allowed]
        return sorted(hits, key=lambda h: (-h.score, h.ref))[:k]


class BM25:
    """BM25 written out from its definition, as Lucene scores it (k1 1.5, b 0.75, no (k1 + 1) factor): the
    reference both stores' word searches are held to."""

    k1, b = 1.5, 0.75

    def __init__(self, documents: list[list[str]]) -> None:
        self.counts = [Counter(d) for d in documents]
        self.lengths = np.array([len(d) for d in documents], dtype=np.float64)
        self.mean_length = float(self.lengths.mean())
        self.df = Counter(term for counted in self.counts for term in counted)

    def idf(self, term: str) -> float:
        n, df = len(self.counts), self.df[term]
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def scores(self, terms: list[str]) -> list[float]:
        norms = self.k1 * (1 - self.b + self.b * self.lengths / self.mean_length)
        found = [0.0] * len(self.counts)
        for term in dict.fromkeys(terms):
            if not self.df[term]:
                continue
            weight = self.idf(term)
            for row, counted in enumerate(self.counts):
                if tf := counted[term]:
                    found[row] += weight * tf / (norms[row] + tf)
        return found


def _passes(article: Article, where: Filter | None) -> bool:
    if where is None:
        return True
    if where.sources and (article.source or "") not in where.sources:
        return False
    if (where.date_from or where.date_to) and not article.date:
        return False
    if where.date_from and article.date < where.date_from:  # type: ignore[operator]
        return False
    if where.date_to and article.date > where.date_to:  # type: ignore[operator]
        return False
    return all((getattr(article, "fields", None) or {}).get(name) == value for name, value in where.fields)


@pytest.fixture(scope="session")
def reference(prepared: list[PreparedArticle]) -> Reference:
    return Reference(prepared)


@pytest.fixture(scope="session")
def question_vectors(encoder: Encoder) -> np.ndarray:
    return encoder.encode(QUESTIONS)


def assert_same_hits(found: list[Hit], expected: list[Hit], *, tolerance: float = 1e-3) -> None:
    assert [h.ref for h in found] == [h.ref for h in expected]
    assert np.allclose([h.score for h in found], [h.score for h in expected], atol=tolerance)


def assert_best_allowed_words(built: Built, found: list[Hit], expected: list[Hit]) -> None:
    """A narrowed word search gives the best allowed chunks, in order, with their scores. The local store ranks
    the collection's best `WORDS_OVERFETCH` × k chunks and keeps the allowed ones, so it may give fewer than k
    where the allowed chunks rank low; Milvus filters inside the search and gives all k."""
    assert_same_hits(found, expected[: len(found)])
    assert len(found) >= min(len(expected), 1)
    if built.backend == "milvus":
        assert len(found) == len(expected)


# --- what the store holds ---------------------------------------------------------------------------------
def test_facts_count_what_was_written(built: Built, prepared: list[PreparedArticle]) -> None:
    facts = built.reader.facts()
    assert facts.backend == built.backend
    assert (facts.articles, facts.sentences, facts.chunks) == (
        len(prepared),
        sum(len(i.sentences) for i in prepared),
        sum(len(i.chunks) for i in prepared),
    )
    sources: dict[str, int] = {}
    for item in prepared:
        sources[item.article.source or ""] = sources.get(item.article.source or "", 0) + 1
    assert facts.sources == sorted(sources.items(), key=lambda pair: (-pair[1], pair[0]))
    dates = sorted(i.article.date for i in prepared if i.article.date)
    assert (facts.date_from, facts.date_to) == (dates[0], dates[-1])
    assert facts.version and facts.version == built.reader.current_version()
    assert facts.warning is None


def test_articles_read_back_exactly_in_ingest_order(built: Built, prepared: list[PreparedArticle]) -> None:
    assert [a.model_dump() for a in built.reader.articles()] == [i.article.model_dump() for i in prepared]
    some = [prepared[5].article.id, prepared[0].article.id, "no-such-article"]
    found = {a.id: a for a in built.reader.articles(some, text=False)}
    assert set(found) == set(some[:2])
    for article_id in some[:2]:
        expected = next(i.article for i in prepared if i.article.id == article_id)
        assert found[article_id] == expected.model_copy(update={"text": ""})


def test_sentences_and_chunks_read_back_with_exact_offsets(built: Built, prepared: list[PreparedArticle]) -> None:
    for item in prepared:
        sentences, chunks = built.reader.article_parts(item.article.id)
        chunk_of = {n: c.number for c in item.chunks for n in range(c.first_sentence, c.last_sentence + 1)}
        assert [(s.number, s.start, s.end, s.text, s.chunk.number) for s in sentences] == [
            (s.number, s.start, s.end, s.text, chunk_of[s.number]) for s in item.sentences
        ]
        assert all(item.article.text[s.start : s.end] == s.text for s in sentences)
        assert [(c.ref.number, c.start, c.end, [r.number for r in c.sentences]) for c in chunks] == [
            (c.number, c.start, c.end, list(range(c.first_sentence, c.last_sentence + 1))) for c in item.chunks
        ]
    assert built.reader.article_parts("no-such-article") == ([], [])


def test_records_come_back_in_the_order_asked_with_their_vectors(built: Built, reference: Reference) -> None:
    picked = random.Random(7).sample(reference.sentence_refs, 40)
    records = built.reader.sentences([*picked[:20], SentenceRef("no-such-article", 0), *picked[20:]], vectors=True)
    assert [r.ref for r in records] == picked
    rows = [reference.sentence_refs.index(r) for r in picked]
    # The local store keeps vectors as float16 (3 significant digits), Milvus as float32.
    vectors = np.vstack([r.vector for r in records if r.vector is not None])
    assert np.allclose(vectors, reference.sentence_vectors[rows], atol=VECTOR_TOLERANCE)
    assert all(r.vector is None for r in built.reader.sentences(picked[:3]))
    chunks = random.Random(8).sample(reference.chunk_refs, 20)
    chunk_records = built.reader.chunks([ChunkRef("no-such-article", 3), *chunks], vectors=True)
    assert [r.ref for r in chunk_records] == chunks
    rows = [reference.chunk_refs.index(r) for r in chunks]
    vectors = np.vstack([r.vector for r in chunk_records if r.vector is not None])
    assert np.allclose(vectors, reference.chunk_vectors[rows], atol=VECTOR_TOLERANCE)


def test_time_expressions_read_back(built: Built, prepared: list[PreparedArticle]) -> None:
    expected = {}
    for item in prepared:
        by_sentence = {TITLE: item.title_times} if item.title_times else {}
        by_sentence.update({s.number: s.times for s in item.sentences if s.times})
        if by_sentence:
            expected[item.article.id] = by_sentence
    assert len(expected) > 50  # the newswire is full of dates: a real test of the round trip
    assert built.reader.times([i.article.id for i in prepared] + ["no-such-article"]) == expected


def test_articles_are_found_by_the_file_they_were_read_from(built: Built, prepared: list[PreparedArticle]) -> None:
    item = prepared[7]
    assert [a.id for a in built.reader.find_articles(origin=item.article.origin)] == [item.article.id]
    assert built.reader.find_articles(origin="nowhere.jsonl:1") == []
    assert built.reader.find_articles(url="https://nowhere.example/") == []


# --- searches ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["chunks", "sentences"])
def test_dense_search_finds_the_exact_nearest(
    built: Built, reference: Reference, question_vectors: np.ndarray, kind: str
) -> None:
    search = built.reader.search_chunks if kind == "chunks" else built.reader.search_sentences
    for vector in question_vectors:
        assert_same_hits(search(vector, K), reference.dense(kind, vector, K))


def test_word_search_ranks_by_bm25_over_the_chunks_terms(built: Built, reference: Reference) -> None:
    for question in QUESTIONS:
        terms = tokenize(question)
        expected = reference.words(terms, K)
        assert expected, question
        assert_same_hits(built.reader.search_words(terms, K), expected)
    assert built.reader.search_words([], K) == []
    assert built.reader.search_words(["zzzunseenword"], K) == []


def test_term_weights_are_bm25_idf(built: Built, reference: Reference) -> None:
    terms = tokenize("cocoa Bahia oil prices the 1987 zzzunseenword 1.5")
    weights = built.reader.term_weights(terms)
    assert set(weights) == set(terms)
    for term in terms:
        assert weights[term] == pytest.approx(reference.bm25.idf(term), abs=1e-6), term


def test_document_frequencies_count_the_chunks_holding_each_term(built: Built, reference: Reference) -> None:
    terms = tokenize("cocoa Bahia oil prices the 1987 zzzunseenword 1.5")
    frequencies = built.reader.document_frequencies(terms)
    assert frequencies == {term: reference.bm25.df[term] for term in terms}
    assert frequencies["zzzunseenword"] == 0 and frequencies["oil"] > 1
    assert built.reader.document_frequencies([]) == {}


@pytest.mark.parametrize("where", FILTERS, ids=str)
def test_filtered_searches_return_only_allowed_articles(
    built: Built, reference: Reference, question_vectors: np.ndarray, where: Filter
) -> None:
    allowed = reference.allowed(where, None)
    for question, vector in zip(QUESTIONS[:4], question_vectors[:4], strict=True):
        chunks = built.reader.search_chunks(vector, K, where)
        assert_same_hits(chunks, reference.dense("chunks", vector, K, allowed))
        assert_same_hits(
            built.reader.search_sentences(vector, K, where), reference.dense("sentences", vector, K, allowed)
        )
        words = built.reader.search_words(tokenize(question), K, where)
        assert_best_allowed_words(built, words, reference.words(tokenize(question), K, allowed))
        assert {h.ref.article_id for h in [*chunks, *words]} <= allowed


@pytest.mark.parametrize(
    "where",
    [
        Filter(fields=(("topics", "cocoa"),)),
        Filter(sources=("Reuters",), date_from="1987-03-01", fields=(("lewissplit", "TEST"),)),
        Filter(fields=(("category", "business"),)),  # a field no article here has: nothing passes
    ],
    ids=str,
)
def test_a_metadata_field_filter_keeps_only_articles_with_that_value(
    built: Built, reference: Reference, question_vectors: np.ndarray, where: Filter
) -> None:
    allowed = reference.allowed(where, None)
    try:
        found = built.reader.search_chunks(question_vectors[0], K, where)
    except NotImplementedError as exc:  # a backend that keeps no fields must say so, not ignore the filter
        pytest.xfail(f"{built.backend}: {exc}")
    assert_same_hits(found, reference.dense("chunks", question_vectors[0], K, allowed))
    assert_same_hits(
        built.reader.search_sentences(question_vectors[0], K, where),
        reference.dense("sentences", question_vectors[0], K, allowed),
    )
    assert_best_allowed_words(
        built,
        built.reader.search_words(tokenize(QUESTIONS[0]), K, where),
        reference.words(tokenize(QUESTIONS[0]), K, allowed),
    )


@pytest.mark.parametrize(("prefer", "where"), PREFERENCES, ids=str)
def test_time_preferences_narrow_to_the_articles_of_that_time(
    built: Built, reference: Reference, question_vectors: np.ndarray, prefer: TimePreference, where: Filter | None
) -> None:
    allowed = reference.allowed(where, prefer)
    assert 0 < len(allowed) < len(reference.articles)  # each preference really narrows
    for question, vector in zip(QUESTIONS, question_vectors, strict=True):
        assert_same_hits(
            built.reader.search_chunks(vector, K, where, prefer), reference.dense("chunks", vector, K, allowed)
        )
        assert_same_hits(
            built.reader.search_sentences(vector, K, where, prefer), reference.dense("sentences", vector, K, allowed)
        )
        words = built.reader.search_words(tokenize(question), K, where, prefer)
        assert_best_allowed_words(built, words, reference.words(tokenize(question), K, allowed))


def test_both_backends_give_the_same_answers(
    request: pytest.FixtureRequest, prepared: list[PreparedArticle], model: ModelStamp, question_vectors: np.ndarray,
    tmp_path: Path,
) -> None:  # fmt: skip
    local, milvus = (build(b, tmp_path / b, prepared, model) for b in BACKENDS)
    try:
        a, b = local.reader.facts(), milvus.reader.facts()
        assert (a.articles, a.sentences, a.chunks, a.sources, a.date_from, a.date_to) == (
            b.articles, b.sentences, b.chunks, b.sources, b.date_from, b.date_to,
        )  # fmt: skip
        for question, vector in zip(QUESTIONS, question_vectors, strict=True):
            assert_same_hits(local.reader.search_chunks(vector, K), milvus.reader.search_chunks(vector, K))
            assert_same_hits(local.reader.search_sentences(vector, K), milvus.reader.search_sentences(vector, K))
            terms = tokenize(question)
            assert_same_hits(local.reader.search_words(terms, K), milvus.reader.search_words(terms, K))
            refs = [SentenceRef(*h.ref) for h in local.reader.search_sentences(vector, K)]
            assert local.reader.sentences(refs) == milvus.reader.sentences(refs)
    finally:
        local.reader.close()
        milvus.reader.close()


# --- writing: replace, remove, re-write, versions ---------------------------------------------------------
@pytest.fixture(params=BACKENDS)
def small(
    request: pytest.FixtureRequest, prepared: list[PreparedArticle], model: ModelStamp, tmp_path: Path
) -> Iterator[Built]:
    store = build(request.param, tmp_path / "index", prepared[:6], model)
    yield store
    store.reader.close()


def _snapshot(reader: StoreReader, items: list[PreparedArticle], vector: np.ndarray) -> tuple:
    facts = reader.facts()
    return (
        (facts.articles, facts.sentences, facts.chunks, facts.sources),
        [a.model_dump() for a in reader.articles()],
        [reader.article_parts(i.article.id) for i in items],
        reader.search_chunks(vector, K),
        reader.search_words(tokenize(QUESTIONS[0]), K),
    )


def test_writing_the_same_articles_again_changes_nothing(
    small: Built, prepared: list[PreparedArticle], model: ModelStamp, question_vectors: np.ndarray
) -> None:
    before = _snapshot(small.reader, prepared[:6], question_vectors[0])
    with open_writer(small.settings, model) as writer:
        writer.add(prepared[:6])
        writer.commit()
    reader = open_store(small.settings, model)
    try:
        assert _snapshot(reader, prepared[:6], question_vectors[0]) == before
    finally:
        reader.close()


def test_a_new_version_replaces_the_old_one(
    small: Built, prepared: list[PreparedArticle], model: ModelStamp, encoder: Encoder, question_vectors: np.ndarray
) -> None:
    old = prepared[1].article
    raw = RawArticle(id=old.id, title=old.title, text=old.text + "\n\nThe cocoa board met again on Friday in Bahia.",
                     source=old.source, date=old.date, origin=old.origin)  # fmt: skip
    new = prepare(raw, encoder, small.settings)
    with open_writer(small.settings, model) as writer:
        writer.add([new])
        writer.commit()
    reader = open_store(small.settings, model)
    try:
        assert reader.facts().articles == 6
        assert [a.text for a in reader.articles([old.id])] == [new.article.text]
        sentences, chunks = reader.article_parts(old.id)
        assert [(s.start, s.end, s.text) for s in sentences] == [(s.start, s.end, s.text) for s in new.sentences]
        assert len(chunks) == len(new.chunks)
        hits = reader.search_sentences(new.sentence_vectors[-1], 3)
        assert hits[0].ref == SentenceRef(old.id, len(new.sentences) - 1)
        assert len({h.ref for h in reader.search_chunks(question_vectors[0], 50)}) == len(
            reader.search_chunks(question_vectors[0], 50)
        )
    finally:
        reader.close()


def test_removed_articles_are_gone_everywhere(
    small: Built, prepared: list[PreparedArticle], model: ModelStamp, question_vectors: np.ndarray
) -> None:
    gone = prepared[1].article.id
    with open_writer(small.settings, model) as writer:
        assert writer.remove([gone, "no-such-article"]) == [gone]
        writer.commit()
    reader = open_store(small.settings, model)
    try:
        facts = reader.facts()
        assert (facts.articles, facts.sentences) == (
            5,
            sum(len(i.sentences) for i in prepared[:6]) - len(prepared[1].sentences),
        )
        assert reader.articles([gone]) == [] and reader.article_parts(gone) == ([], [])
        assert reader.times([gone]) == {}
        assert reader.sentences([SentenceRef(gone, 0)]) == [] and reader.chunks([ChunkRef(gone, 0)]) == []
        for vector in question_vectors:
            assert gone not in {h.ref.article_id for h in reader.search_chunks(vector, 50)}
            assert gone not in {h.ref.article_id for h in reader.search_sentences(vector, 50)}
        assert gone not in {h.ref.article_id for h in reader.search_words(tokenize(prepared[1].article.title), 50)}
    finally:
        reader.close()


def test_each_commit_changes_the_version(small: Built, prepared: list[PreparedArticle], model: ModelStamp) -> None:
    first = small.reader.facts().version
    with open_writer(small.settings, model) as writer:
        writer.add(prepared[6:8])
        writer.commit()
    assert small.reader.current_version() != first
    reader = open_store(small.settings, model)
    try:
        assert reader.facts().version == reader.current_version() == small.reader.current_version()
        assert reader.facts().articles == 8
    finally:
        reader.close()
