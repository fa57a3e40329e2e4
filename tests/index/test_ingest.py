"""Ingestor with the real encoder into fresh index folders: every format in, broken inputs reported, re-ingest a
no-op, a changed file replacing its old version, removal by id."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from index.encoder import Encoder
from index.ingest import Ingestor
from index.models import Article, IngestReport
from index.storage import StoreReader, model_stamp
from index.storage import open_store as open_configured
from newsqa.paths import CORPUS_DIR
from newsqa.settings import Settings
from qa.assistant import Assistant

SettingsFactory = Callable[..., Settings]

RIVER = (
    "Millbrook river bursts its banks\n\n"
    "The river through Millbrook rose by almost two metres on Saturday, the water authority said.\n\n"
    "Officials closed the lower bridge to traffic as a precaution.\n"
)
HARVEST = (
    "# Orchard harvest doubles in Westfield\n\n"
    "Growers in Westfield picked 4,200 tonnes of apples this autumn, twice last year's crop.\n\n"
    "The [cooperative](https://example.org/coop) said cold nights helped the fruit.\n"
)
LIBRARY = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Library reopens after fire | Hillside Herald</title>
<meta name="author" content="Ana Ruiz"><meta property="og:site_name" content="Hillside Herald">
<meta property="og:title" content="Library reopens after fire">
<meta property="article:published_time" content="2021-05-02T09:00:00Z">
<link rel="canonical" href="https://hillside.example/news/library-reopens"></head>
<body><nav><a href="/">Home</a> <a href="/sport">Sport</a></nav><main><article><h1>Library reopens after fire</h1>
<p>The Hillside public library reopened on Monday, eighteen months after a fire destroyed its reading room.</p>
<p>The restoration cost 2.3 million euros and was paid for by the town council and private donors.</p>
<p>Librarian Tom Baker said more than 600 residents came through the doors on the first morning.</p>
</article></main><footer>Copyright Hillside Herald</footer></body></html>
"""
BRIDGE = {
    "id": "bridge-1",
    "title": "New bridge opens in Eastport",
    "text": "The new Eastport bridge opened to traffic on Friday after three years of work.\n\n"
    "It cost 45 million dollars.",
    "source": "Eastport Post",
    "date": "2020-03-06",
    "url": "https://eastport.example/bridge",
    "author": "Lee Chan",
}
SCHOOLS = [
    {
        "id": "school-1",
        "title": "School wins chess title",
        "body": "Pupils from Northgate school won the national chess title on Sunday.",
        "source": "Northgate News",
        "date": "2019-11-03",
    },
    {
        "id": "school-2",
        "title": "School choir tours Spain",
        "content": "The Northgate school choir left for a two-week tour of Spain on Tuesday.",
        "source": "Northgate News",
        "published": "November 5, 2019",
    },
]
WIRES = [
    {
        "id": "wire-1",
        "headline": "Port strike ends",
        "text": "Dock workers in Seaview ended a nine-day strike on Wednesday after a pay deal.",
        "publisher": "Coast Wire",
        "date": "2022-07-13",
    },
    {
        "id": "wire-2",
        "title": "Ferry service resumes",
        "text": "The Seaview ferry resumed its daily crossings on Thursday.",
        "source": "Coast Wire",
        "date": "2022-07-14",
    },
]


def write_good_inputs(folder: Path) -> Path:
    """One article per plain format, a single JSON object, a JSON list and JSON Lines: eight articles."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "river.txt").write_text(RIVER, encoding="utf-8")
    (folder / "harvest.md").write_text(HARVEST, encoding="utf-8")
    (folder / "library.html").write_text(LIBRARY, encoding="utf-8")
    (folder / "bridge.json").write_text(json.dumps(BRIDGE, indent=2), encoding="utf-8")
    (folder / "schools.json").write_text(json.dumps(SCHOOLS, indent=2), encoding="utf-8")
    (folder / "wires.jsonl").write_text("".join(json.dumps(w) + "\n" for w in WIRES), encoding="utf-8")
    return folder


def open_store(settings: Settings, encoder: Encoder) -> StoreReader:
    return open_configured(settings, model_stamp(encoder))


def article(store: StoreReader, article_id: str) -> Article | None:
    found = store.articles([article_id])
    return found[0] if found else None


def live_snapshot(settings: Settings) -> str:
    return (settings.index.index_dir / "CURRENT").read_text(encoding="utf-8").strip()


def assert_offsets_hold(store: StoreReader) -> None:
    for stored in store.articles():
        rows = store.article_parts(stored.id)[0]
        assert rows, f"{stored.id} has no sentences"
        for row in rows:
            assert stored.text[row.start : row.end] == row.text


def test_every_format_goes_in_with_its_metadata(
    encoder: Encoder, settings_factory: SettingsFactory, tmp_path: Path
) -> None:
    settings = settings_factory()
    inputs = write_good_inputs(tmp_path / "inputs")
    progress: list[float] = []
    report = Ingestor(encoder, settings).ingest(
        [inputs], show_progress=False, on_progress=lambda fraction, message: progress.append(fraction)
    )
    assert report.problems == []
    assert len(report.added) == 8 and report.updated == [] and report.unchanged == []
    assert progress == sorted(progress) and progress[-1] == 1.0

    store = open_store(settings, encoder)
    try:
        assert store.facts().articles == 8
        by_title = {a.title: a for a in store.articles()}
        river = by_title["Millbrook river bursts its banks"]
        assert river.origin == str(inputs / "river.txt")
        assert river.text.startswith("The river through Millbrook rose by almost two metres")
        harvest = by_title["Orchard harvest doubles in Westfield"]
        assert harvest.origin == str(inputs / "harvest.md")
        assert "The cooperative said cold nights helped the fruit." in harvest.text  # link text kept, URL dropped
        library = by_title["Library reopens after fire"]
        assert (library.source, library.author, library.date) == ("Hillside Herald", "Ana Ruiz", "2021-05-02")
        assert library.url == "https://hillside.example/news/library-reopens"
        assert "Home" not in library.text and "Copyright" not in library.text
        assert "Librarian Tom Baker said more than 600 residents" in library.text
        bridge = article(store, "bridge-1")
        assert bridge is not None
        assert (bridge.title, bridge.source, bridge.date, bridge.author) == (
            "New bridge opens in Eastport", "Eastport Post", "2020-03-06", "Lee Chan",
        )  # fmt: skip
        assert bridge.url == "https://eastport.example/bridge"
        school_2 = article(store, "school-2")
        assert school_2 is not None and school_2.date == "2019-11-05" and school_2.source == "Northgate News"
        assert school_2.origin.startswith(str(inputs / "schools.json") + ":")
        wire_1 = article(store, "wire-1")
        assert wire_1 is not None
        assert (wire_1.title, wire_1.source, wire_1.origin) == (
            "Port strike ends",
            "Coast Wire",
            f"{inputs}/wires.jsonl:1",
        )
        assert article(store, "wire-2") is not None and article(store, "school-1") is not None
        assert_offsets_hold(store)
        facts = store.facts()
        assert dict(facts.sources)["Coast Wire"] == 2
        assert (facts.date_from, facts.date_to) == ("2019-11-03", "2022-07-14")
    finally:
        store.close()


def test_broken_inputs_are_reported_with_file_and_line_and_the_rest_goes_in(
    encoder: Encoder, settings_factory: SettingsFactory, tmp_path: Path
) -> None:
    settings = settings_factory(max_file_bytes=4096)
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "river.txt").write_text(RIVER, encoding="utf-8")
    (inputs / "latin1.txt").write_bytes(
        b"Caf\xc3\xa9 owners protest\n\nThe owners met on Monday.\n\nThey said the caf\xe9 rent doubled.\n"
    )
    good_1 = {"id": "wire-1", "title": "Port strike ends", "text": WIRES[0]["text"], "source": "Coast Wire"}
    good_3 = {"id": "wire-3", "title": "Storm warning", "text": "A storm warning was issued for Seaview on Friday."}
    (inputs / "wires.jsonl").write_text(
        json.dumps(good_1) + '\n{"id": "wire-2", "text": "unterminated\n' + json.dumps(good_3) + "\n", encoding="utf-8"
    )
    (inputs / "list.json").write_text(
        '[\n  {"id": "list-1", "text": "The museum opened a new wing on Saturday."},\n'
        '  {"id": "list-2" "text": "x"}\n]\n',
        encoding="utf-8",
    )
    (inputs / "empty.txt").write_text("", encoding="utf-8")
    (inputs / "blob.txt").write_bytes(b"Header line\n\x00\x01\x02PK\x03\x04 binary junk")
    (inputs / "huge.txt").write_text("The long report said little. " * 200, encoding="utf-8")
    assert (inputs / "huge.txt").stat().st_size > 4096

    report = Ingestor(encoder, settings).ingest([inputs], show_progress=False)

    problems = {(Path(p.path).name, p.line): p.reason for p in report.problems}
    assert set(problems) == {
        ("latin1.txt", 5),
        ("wires.jsonl", 2),
        ("list.json", 3),
        ("empty.txt", None),
        ("blob.txt", 2),
        ("huge.txt", None),
    }, report.summary()
    assert "UTF-8" in problems[("latin1.txt", 5)]
    assert "not valid JSON" in problems[("wires.jsonl", 2)]
    assert "not valid JSON" in problems[("list.json", 3)]
    assert "empty" in problems[("empty.txt", None)]
    assert "binary" in problems[("blob.txt", 2)]
    assert "limit" in problems[("huge.txt", None)] and "QA_MAX_FILE_BYTES" in problems[("huge.txt", None)]
    for problem in report.problems:
        assert str(problem).startswith(str(inputs)), "each problem names its file"
    summary = report.summary()
    assert "6 skipped" in summary and "wires.jsonl line 2" in summary

    assert {"list-1", "wire-1", "wire-3"} <= set(report.added) and len(report.added) == 4
    store = open_store(settings, encoder)
    try:
        assert store.facts().articles == 4
        assert {a.title for a in store.articles()} >= {"Millbrook river bursts its banks", "Port strike ends"}
        assert_offsets_hold(store)
    finally:
        store.close()


def test_reingesting_the_same_folder_is_a_no_op(
    encoder: Encoder, settings_factory: SettingsFactory, tmp_path: Path
) -> None:
    settings = settings_factory()
    inputs = write_good_inputs(tmp_path / "inputs")
    ingestor = Ingestor(encoder, settings)
    first = ingestor.ingest([inputs], show_progress=False)
    snapshot = live_snapshot(settings)
    folders = sorted(p.name for p in settings.index.index_dir.iterdir())

    again = ingestor.ingest([inputs], show_progress=False)

    assert again.added == [] and again.updated == [] and again.problems == []
    assert sorted(again.unchanged) == sorted(first.added)
    assert live_snapshot(settings) == snapshot, "an unchanged corpus must not write a new snapshot"
    assert sorted(p.name for p in settings.index.index_dir.iterdir()) == folders
    assert "0 added, 0 updated, 8 unchanged" in again.summary()


def test_a_changed_file_replaces_its_old_version(
    encoder: Encoder, settings_factory: SettingsFactory, tmp_path: Path
) -> None:
    settings = settings_factory()
    inputs = write_good_inputs(tmp_path / "inputs")
    assistant = Assistant(settings, encoder=encoder, auto_ingest=False)
    assistant.ingest([inputs], show_progress=False)
    before = assistant.stats()
    question = "How far did the river through Millbrook rise?"
    old = assistant.answer(question)
    assert old.found and "two metres" in old.sentences[0].text

    (inputs / "river.txt").write_text(RIVER.replace("almost two metres on Saturday", "almost four metres on Sunday"))
    changed_bridge = {**BRIDGE, "text": "The new Eastport bridge, which cost 52 million dollars, opened on Monday."}
    (inputs / "bridge.json").write_text(json.dumps(changed_bridge), encoding="utf-8")
    report = assistant.ingest([inputs], show_progress=False)

    assert report.added == [] and report.problems == []
    assert len(report.updated) == 2 and "bridge-1" in report.updated
    assert len(report.unchanged) == 6
    after = assistant.stats()
    assert after.articles == before.articles == 8
    assert after.snapshot != before.snapshot

    new = assistant.answer(question)
    assert new.found
    assert "almost four metres on Sunday" in new.sentences[0].text
    assert new.best_span is not None and "four metres" in new.best_span.text
    cost = assistant.answer("How much did the new Eastport bridge cost?")
    assert cost.found and "52 million dollars" in cost.sentences[0].text

    store = assistant.store
    assert store is not None
    texts = [row.text for a in store.articles() for row in store.article_parts(a.id)[0]]
    assert not any("two metres" in t or "45 million" in t for t in texts), "the old version must be gone"
    assert sum("four metres" in t for t in texts) == 1
    rivers = [a for a in store.articles() if a.title == "Millbrook river bursts its banks"]
    assert len(rivers) == 1 and "four metres" in rivers[0].text
    assert_offsets_hold(store)


def test_removing_articles_by_id(encoder: Encoder, settings_factory: SettingsFactory, tmp_path: Path) -> None:
    settings = settings_factory()
    inputs = write_good_inputs(tmp_path / "inputs")
    assistant = Assistant(settings, encoder=encoder, auto_ingest=False)
    assistant.ingest([inputs], show_progress=False)
    before = assistant.stats()
    store = assistant.store
    assert store is not None
    bridge_sentences = len(store.article_parts("bridge-1")[0])
    assert assistant.answer("How much did the new Eastport bridge cost?").found

    report = assistant.remove(["bridge-1", "no-such-article"])

    assert isinstance(report, IngestReport)
    assert [(p.path, p.reason) for p in report.problems] == [
        ("no-such-article", "no article with this id in the index")
    ]
    after = assistant.stats()
    assert after.articles == before.articles - 1
    assert after.sentences == before.sentences - bridge_sentences
    assert assistant.article("bridge-1") is None
    assert assistant.article("wire-1") is not None
    assert ("Eastport Post", 1) not in after.sources
    gone = assistant.answer("How much did the new Eastport bridge cost?")
    assert not gone.found or all("Eastport" not in s.text for s in gone.sentences)

    nothing = assistant.remove(["no-such-article"])
    assert len(nothing.problems) == 1 and assistant.stats().snapshot == after.snapshot


def test_the_bundled_corpus_ingests_without_problems(encoder: Encoder, settings_factory: SettingsFactory) -> None:
    settings = settings_factory()
    report = Ingestor(encoder, settings).ingest([CORPUS_DIR], show_progress=False)
    assert len(report.added) == 1
    assert report.problems == [], report.summary()[:500]


@pytest.mark.parametrize("name", ["notes.csv", ".hidden.txt"])
def test_unsupported_and_hidden_files_in_a_folder_are_left_alone(
    encoder: Encoder, settings_factory: SettingsFactory, tmp_path: Path, name: str
) -> None:
    settings = settings_factory()
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "river.txt").write_text(RIVER, encoding="utf-8")
    (inputs / name).write_text("a,b\n1,2\n", encoding="utf-8")
    report = Ingestor(encoder, settings).ingest([inputs], show_progress=False)
    assert len(report.added) == 1 and report.problems == []


class CrashingEncoder:
    """The real encoder, counting the passages (chunks) it embeds; it raises (a crash, for the ingest) after
    `crash_after` batches. Everything else is the real encoder's."""

    def __init__(self, encoder: Encoder, crash_after: int | None = None) -> None:
        self._encoder = encoder
        self.crash_after = crash_after
        self.batches = 0
        self.texts: list[str] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self._encoder, name)

    def encode_passages(self, texts: list[str], parts: list[list[tuple[int, int]]]) -> object:
        if self.crash_after is not None and self.batches >= self.crash_after:
            raise RuntimeError("the machine went down")
        self.batches += 1
        self.texts.extend(texts)
        return self._encoder.encode_passages(texts, parts)


def test_an_ingest_that_crashed_resumes_without_embedding_finished_batches_again(
    encoder: Encoder, settings_factory: SettingsFactory, tmp_path: Path
) -> None:
    settings = settings_factory()
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    with (inputs / "towns.jsonl").open("w", encoding="utf-8") as out:
        for i in range(12):
            text = f"Town {i} opened a new library on Monday. It holds {i + 3},000 books, the council said."
            out.write(json.dumps({"id": f"town-{i}", "title": f"Town {i} library", "text": text}) + "\n")

    crashing = CrashingEncoder(encoder, crash_after=2)
    ingestor = Ingestor(crashing, settings)  # type: ignore[arg-type]
    ingestor.batch_chunks = 4
    with pytest.raises(RuntimeError, match="went down"):
        ingestor.ingest([inputs], show_progress=False)
    assert not (settings.index.index_dir / "CURRENT").exists(), "nothing goes live before the ingest finishes"
    finished = list(crashing.texts)
    assert len(finished) == 8

    counting = CrashingEncoder(encoder)
    resumed = Ingestor(counting, settings)  # type: ignore[arg-type]
    resumed.batch_chunks = 4
    report = resumed.ingest([inputs], show_progress=False)

    assert len(report.added) == 12 and not report.problems
    assert not set(finished) & set(counting.texts), "finished batches were embedded again"
    assert len(set(finished) | set(counting.texts)) == len(finished) + len(counting.texts)
    assert not (settings.index.index_dir / "pending").exists(), "the finished ingest leaves no pending vectors"
    # The resumed index holds the same vectors a single uninterrupted run makes.
    uninterrupted = settings_factory()
    Ingestor(encoder, uninterrupted).ingest([inputs], show_progress=False)
    store, fresh = open_store(settings, encoder), open_store(uninterrupted, encoder)
    try:
        assert store.facts().articles == fresh.facts().articles == 12
        assert store.facts().sentences == fresh.facts().sentences == 24
        for stored in store.articles(text=False):
            sentences, chunks = store.article_parts(stored.id)
            for ask in (store, fresh):
                assert [r.text for r in ask.sentences([s.ref for s in sentences])] == [s.text for s in sentences]
            for refs, read in (([s.ref for s in sentences], "sentences"), ([c.ref for c in chunks], "chunks")):
                mine = np.stack([r.vector for r in getattr(store, read)(refs, vectors=True)])
                theirs = np.stack([r.vector for r in getattr(fresh, read)(refs, vectors=True)])
                assert np.array_equal(mine, theirs)
    finally:
        store.close()
        fresh.close()


def test_one_input_is_bounded_an_unpunctuated_run_becomes_bounded_sentences_and_a_huge_article_is_refused(
    encoder: Encoder, settings_factory: SettingsFactory, tmp_path: Path
) -> None:
    from index.text.sentences import MAX_SENTENCE_CHARS

    settings = settings_factory(max_article_chars=60_000)
    folder = tmp_path / "in"
    folder.mkdir()
    # No sentence punctuation at all: one 10 MB sentence before; bounded pieces with their offsets now.
    (folder / "run-on.txt").write_text(
        "Harbour log\n\n" + "the ferry crossed the harbour twice before the storm closed the port " * 800,
        encoding="utf-8",
    )
    (folder / "huge.txt").write_text("Huge\n\n" + "lorem ipsum dolor sit amet " * 3_000, encoding="utf-8")
    report = Ingestor(encoder, settings).ingest([folder], show_progress=False)

    assert len(report.added) == 1
    (problem,) = report.problems
    assert (
        problem.path.endswith("huge.txt") and "80,999 characters after clean-up" in problem.reason
    )  # trailing space cleaned
    assert "60,000 limit" in problem.reason and "QA_MAX_ARTICLE_CHARS" in problem.reason
    store = open_store(settings, encoder)
    try:
        (stored,) = store.articles()
        rows = store.article_parts(stored.id)[0]
        assert len(rows) > 50 and max(len(r.text) for r in rows) <= MAX_SENTENCE_CHARS
        assert all(stored.text[r.start : r.end] == r.text for r in rows), "offsets kept"
    finally:
        store.close()
    assistant = Assistant(settings, encoder=encoder, auto_ingest=False)
    answer = assistant.answer("How many times did the ferry cross the harbour?", top_k=5)
    assert all(len(s.text) <= MAX_SENTENCE_CHARS for s in answer.sentences)
    assert len(answer.model_dump_json()) < 10 * MAX_SENTENCE_CHARS, "an answer carries a bounded window of text"


def test_articles_in_chinese_and_khmer_are_indexed_by_their_own_sentence_ends(
    encoder: Encoder, settings_factory: SettingsFactory, tmp_path: Path
) -> None:
    settings = settings_factory()
    (tmp_path / "zh.txt").write_text(
        "金边港口恢复运营\n\n柬埔寨金边港口周一恢复了正常运营。港口管理局表示，所有码头已重新开放！\n\n"
        "另据报道，2019年共查获720公斤毒品。",
        encoding="utf-8",
    )
    (tmp_path / "km.txt").write_text(
        "កំពង់ផែបើកឡើងវិញ\n\nកំពង់ផែបានបើកឡើងវិញនៅថ្ងៃច័ន្ទ។ មន្ត្រីបាននិយាយថា ច្រកទាំងអស់បានបើក៕", encoding="utf-8"
    )
    report = Ingestor(encoder, settings).ingest([tmp_path / "zh.txt", tmp_path / "km.txt"], show_progress=False)
    assert not report.problems and len(report.added) == 2
    store = open_store(settings, encoder)
    try:
        texts = {a.title: [r.text for r in store.article_parts(a.id)[0]] for a in store.articles()}
    finally:
        store.close()
    assert texts["金边港口恢复运营"] == [
        "柬埔寨金边港口周一恢复了正常运营。",
        "港口管理局表示，所有码头已重新开放！",
        "另据报道，2019年共查获720公斤毒品。",
    ]
    assert texts["កំពង់ផែបើកឡើងវិញ"] == ["កំពង់ផែបានបើកឡើងវិញនៅថ្ងៃច័ន្ទ។", "មន្ត្រីបាននិយាយថា ច្រកទាំងអស់បានបើក៕"]
