"""The local store behind the storage interface: references map to the right records, filters and time
preferences narrow searches, the writer publishes only on commit and holds the lock while open."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from index.encoder import Encoder
from index.ingest import Ingestor
from index.models import IndexStoreError
from index.storage import (
    ChunkRef,
    Filter,
    SentenceRef,
    StoreReader,
    StoreWriter,
    TimePreference,
    model_stamp,
    open_store,
    open_writer,
)
from index.storage.local.store import IndexStore
from newsqa.settings import Settings
from tests.index.test_ingest import write_good_inputs


@pytest.fixture(scope="module")
def indexed(encoder: Encoder, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(index_dir=tmp_path_factory.mktemp("local-index"))
    report = Ingestor(encoder, settings).ingest([write_good_inputs(tmp_path_factory.mktemp("in"))], show_progress=False)
    assert len(report.added) == 8 and not report.problems
    return settings


@pytest.fixture
def reader(indexed: Settings, encoder: Encoder) -> Iterator[StoreReader]:
    store = open_store(indexed, model_stamp(encoder))
    yield store
    store.close()


def test_the_reader_and_writer_are_the_protocols(reader: StoreReader, encoder: Encoder, tmp_path: Path) -> None:
    assert isinstance(reader, StoreReader)
    with open_writer(Settings(index_dir=tmp_path), model_stamp(encoder)) as writer:
        assert isinstance(writer, StoreWriter)


def test_facts_count_what_the_snapshot_holds(reader: StoreReader, indexed: Settings) -> None:
    facts = reader.facts()
    store = IndexStore.open(indexed.index.index_dir)
    try:
        assert (facts.articles, facts.sentences, facts.chunks) == (store.n_articles, store.n_sentences, store.n_chunks)
        assert facts.sources == store.sources() and (facts.date_from, facts.date_to) == store.date_range()
    finally:
        store.close()
    assert facts.backend == "local" and facts.version == reader.current_version() != ""
    assert dict(facts.sources)["Coast Wire"] == 2


def test_every_reference_reads_back_its_own_text(reader: StoreReader) -> None:
    for article in reader.articles():
        sentences, chunks = reader.article_parts(article.id)
        assert [s.number for s in sentences] == list(range(len(sentences))) and sentences
        for s in sentences:
            assert article.text[s.start : s.end] == s.text
            assert s.ref in next(c.sentences for c in chunks if c.ref == s.chunk)
        assert [n.number for c in chunks for n in c.sentences] == [s.number for s in sentences]
        assert reader.sentences([s.ref for s in reversed(sentences)]) == list(reversed(sentences))
        assert reader.chunks([c.ref for c in chunks]) == chunks


def test_unknown_references_are_left_out(reader: StoreReader) -> None:
    article = reader.articles()[0]
    n = len(reader.article_parts(article.id)[0])
    asked = [SentenceRef("no-such-article", 0), SentenceRef(article.id, n), SentenceRef(article.id, -1),
             SentenceRef(article.id, 0)]  # fmt: skip
    assert [s.ref for s in reader.sentences(asked)] == [SentenceRef(article.id, 0)]
    assert reader.chunks([ChunkRef("no-such-article", 0)]) == []
    assert reader.article_parts("no-such-article") == ([], [])
    assert reader.articles(["no-such-article"]) == []


def test_vectors_come_back_with_their_records(reader: StoreReader, encoder: Encoder) -> None:
    hits = reader.search_sentences(encoder.encode(["Dock workers ended a strike"])[0], 3)
    records = reader.sentences([h.ref for h in hits], vectors=True)
    assert "strike" in records[0].text
    query = encoder.encode(["Dock workers ended a strike"])[0]
    for hit, record in zip(hits, records, strict=True):
        assert record.vector is not None and record.vector.shape == (encoder.dimension,)
        assert float(record.vector @ query) == pytest.approx(hit.score, abs=2e-3)


def test_filters_narrow_every_search(reader: StoreReader, encoder: Encoder) -> None:
    vector = encoder.encode(["What happened on Thursday?"])[0]
    coast = Filter(sources=("Coast Wire",))
    owners = {a.id: a for a in reader.articles(text=False)}
    for hits in (reader.search_chunks(vector, 10, coast), reader.search_sentences(vector, 10, coast),
                 reader.search_words(["seaview"], 10, coast)):  # fmt: skip
        assert hits and {owners[h.ref.article_id].source for h in hits} == {"Coast Wire"}
    dated = Filter(date_from="2022-07-14", date_to="2022-07-14")
    assert {h.ref.article_id for h in reader.search_chunks(vector, 10, dated)} == {"wire-2"}
    assert reader.search_chunks(vector, 10, Filter(sources=("Nobody",))) == []
    assert len(reader.search_chunks(vector, 10, Filter())) == min(10, reader.facts().chunks)  # empty: no filter


def test_a_time_preference_keeps_the_articles_of_that_time(reader: StoreReader, encoder: Encoder) -> None:
    vector = encoder.encode(["ferry"])[0]
    july = TimePreference(dated=("2022-07-01", "2022-07-31"))
    assert {h.ref.article_id for h in reader.search_chunks(vector, 10, prefer=july)} == {"wire-1", "wire-2"}
    both = reader.search_words(["seaview"], 10, Filter(date_to="2022-07-13"), july)
    assert {h.ref.article_id for h in both} == {"wire-1"}


def test_metadata_fields_are_kept_and_narrow_searches(encoder: Encoder, tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "index")
    feed = tmp_path / "feed.jsonl"
    records = [
        {"id": "business-1", "category": "business", "text": "The ferry company carried 41,200 passengers."},
        {"id": "sport-1", "category": "sport", "text": "The rowing club said 900 spectators watched the race."},
        {"id": "plain-1", "text": "The ferry crossing resumed on Thursday."},
    ]
    feed.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    Ingestor(encoder, settings).ingest([feed], show_progress=False)
    store = open_store(settings, model_stamp(encoder))
    try:
        assert store.filters_on_fields  # type: ignore[attr-defined]
        assert {a.id: a.fields for a in store.articles(text=False)} == {
            "business-1": {"category": "business"}, "sport-1": {"category": "sport"}, "plain-1": {},
        }  # fmt: skip
        assert store.facts().fields == {"category": ["business", "sport"]}
        vector = encoder.encode(["How many people were on the ferry?"])[0]
        sport = Filter(fields=(("category", "sport"),))
        for hits in (store.search_chunks(vector, 5, sport), store.search_sentences(vector, 5, sport),
                     store.search_words(["spectat", "club", "ferri"], 5, sport)):  # fmt: skip
            assert {h.ref.article_id for h in hits} == {"sport-1"}
        assert store.search_chunks(vector, 5, Filter(fields=(("category", "weather"),))) == []
        both = Filter(sources=("nobody",), fields=(("category", "sport"),))
        assert store.search_chunks(vector, 5, both) == []  # every condition must hold
    finally:
        store.close()


def test_term_weights_rise_with_rarity(reader: StoreReader) -> None:
    weights = reader.term_weights(["seaview", "tour", "neverseenword"])
    assert weights["tour"] > weights["seaview"] > 0 and weights["neverseenword"] >= weights["tour"]


def test_articles_are_found_by_url_and_file(reader: StoreReader) -> None:
    every = reader.articles()
    with_url = next(a for a in every if a.url)
    assert [a.id for a in reader.find_articles(url=with_url.url)] == [with_url.id]
    found = reader.find_articles(origin=every[0].origin)
    assert every[0].id in {a.id for a in found} and all(a.text == "" for a in found)


def test_the_writer_publishes_only_on_commit(indexed: Settings, encoder: Encoder, tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "copy")
    Ingestor(encoder, settings).ingest([write_good_inputs(tmp_path / "in")], show_progress=False)
    stamp = model_stamp(encoder)
    reader = open_store(settings, stamp)
    try:
        before = reader.current_version()
        with open_writer(settings, stamp) as writer:
            with pytest.raises(IndexStoreError, match="another ingest"):
                open_writer(settings, stamp)
            assert writer.remove(["wire-1", "no-such-article"]) == ["wire-1"]
            assert writer.remove(["wire-1"]) == []  # already gone in this transaction
        assert reader.current_version() == before  # left without commit: nothing published, the lock released
        with pytest.raises(RuntimeError), open_writer(settings, stamp) as writer:
            writer.remove(["wire-1"])
            raise RuntimeError("a failure mid-way")
        assert reader.current_version() == before
        with open_writer(settings, stamp) as writer:
            writer.remove(["wire-1"])
            writer.commit()
        assert reader.current_version() != before == reader.facts().version
        assert reader.articles(["wire-1"]) != []  # the open view keeps its snapshot
    finally:
        reader.close()
    fresh = open_store(settings, stamp)
    try:
        assert fresh.articles(["wire-1"]) == [] and fresh.facts().articles == 7
        assert np.all([h.ref.article_id != "wire-1" for h in fresh.search_words(["dock", "strike"], 10)])
    finally:
        fresh.close()
