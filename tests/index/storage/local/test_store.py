"""IndexStore on disk: a mismatched or tampered index is refused with a message that says to re-ingest, a damaged
live snapshot is reported by file and the last intact one served instead, pruning keeps the snapshots that were
live, and an ingest killed at any moment leaves the previous complete snapshot live and consistent."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import cli
from index.encoder import Encoder
from index.ingest import Ingestor
from index.ingest.pending import PendingVectors, text_key
from index.models import IndexMismatchError, IndexNotFoundError, IndexStoreError
from index.storage.local.repair import repair
from index.storage.local.segments import _SCHEMA, IndexCorruptError
from index.storage.local.snapshots import current_snapshot, live_history, writer_lock
from index.storage.local.store import IndexStore
from newsqa.settings import Settings
from qa.assistant import Assistant

WORKER = Path(__file__).with_name("ingest_worker.py")
SEED_QUESTION = "How many kilograms of illicit drugs were confiscated in 2019?"
SEED_ANSWER = "A total of 720 kilogrammes of illicit drugs"


@pytest.fixture()
def seed_index(seed_assistant: Assistant, tmp_path: Path) -> Path:
    """A private copy of the seed index (one complete snapshot of the bundled corpus)."""
    copy = tmp_path / "index"
    shutil.copytree(seed_assistant.index_dir, copy)
    return copy


def open_store(index_dir: Path, encoder: Encoder) -> IndexStore:
    return IndexStore.open(
        index_dir, model_sha256=encoder.weights_sha256, dimension=encoder.dimension, encoder=encoder.kind
    )


def edit_manifest(index_dir: Path, **changes: object) -> None:
    folder = current_snapshot(index_dir)
    assert folder is not None
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest.update(changes)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def counts_in_step(index_dir: Path, encoder: Encoder) -> dict[str, int]:
    """Open the live snapshot and check, segment by segment, that sqlite, FAISS, the vectors, BM25 and the manifest
    all count the same rows, and that the live counts add up; returns the live counts."""
    store = open_store(index_dir, encoder)
    try:
        live = {"articles": 0, "sentences": 0, "chunks": 0}
        for segment in store.segments:
            db = {
                t: segment.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("articles", "sentences", "chunks")
            }
            assert db["sentences"] == segment.sentence_index.ntotal == len(segment.sentence_vectors)
            assert db["chunks"] == segment.chunk_index.ntotal == len(segment.chunk_vectors) == segment.postings.num_docs
            assert all(db[k] == segment.entry[k] for k in db)
            live["articles"] += db["articles"] - len(segment.deleted)
            live["sentences"] += db["sentences"] - len(segment.dead_sentences)
            live["chunks"] += db["chunks"] - len(segment.dead_chunks)
        assert live == {"articles": store.n_articles, "sentences": store.n_sentences, "chunks": store.n_chunks}
        assert len(store.articles()) == store.n_articles
        assert store.lexical.num_docs == sum(int(s.entry["chunks"]) for s in store.segments)
        assert store.manifest["snapshot"] == store.folder.name == current_snapshot(index_dir).name  # type: ignore[union-attr]
        return live
    finally:
        store.close()


def live_segments(index_dir: Path) -> list[str]:
    folder = current_snapshot(index_dir)
    assert folder is not None
    return [e["name"] for e in json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["segments"]]


def live_segments_of(snapshot: Path) -> list[str]:
    return [e["name"] for e in json.loads((snapshot / "manifest.json").read_text(encoding="utf-8"))["segments"]]


def segment_folders(index_dir: Path) -> list[str]:
    return sorted(p.name for p in (index_dir / "segments").iterdir())


def assert_seed_answerable(index_dir: Path, encoder: Encoder) -> None:
    assistant = Assistant(Settings(index_dir=index_dir), encoder=encoder, auto_ingest=False)
    answer = assistant.answer(SEED_QUESTION)
    assert answer.found, answer.message
    assert answer.sentences[0].text.startswith(SEED_ANSWER)


# --- refusing an index built differently --------------------------------------------------------------


def test_an_intact_index_opens_with_its_counts_in_step(seed_index: Path, encoder: Encoder) -> None:
    counts = counts_in_step(seed_index, encoder)
    assert counts["articles"] == 1 and counts["sentences"] > 20
    assert_seed_answerable(seed_index, encoder)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("model_sha256", "f" * 64, "model weights"),
        ("format_version", 99, "format version 99"),
        ("dimension", 768, "dimension 768"),
        ("encoder", "onnx-fp32", "onnx-fp32 encoder"),
    ],
)
def test_a_manifest_that_does_not_match_is_refused(
    seed_index: Path, encoder: Encoder, field: str, value: object, says: str
) -> None:
    edit_manifest(seed_index, **{field: value})
    with pytest.raises(IndexMismatchError) as caught:
        open_store(seed_index, encoder)
    message = str(caught.value)
    assert says in message and "re-ingest" in message
    # The assistant refuses it the same way instead of answering from a foreign index.
    with pytest.raises(IndexMismatchError, match="re-ingest"):
        Assistant(Settings(index_dir=seed_index), encoder=encoder, auto_ingest=False)


@pytest.mark.parametrize("field", ["articles", "sentences", "chunks"])
def test_a_tampered_count_in_the_manifest_is_caught(seed_index: Path, encoder: Encoder, field: str) -> None:
    folder = current_snapshot(seed_index)
    assert folder is not None
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    edit_manifest(seed_index, **{field: manifest[field] + 1})
    with pytest.raises(IndexMismatchError, match=rf"{field} count .*re-ingest"):
        open_store(seed_index, encoder)


def test_a_sentence_row_missing_from_sqlite_is_caught(seed_index: Path, encoder: Encoder) -> None:
    db = sqlite3.connect(seed_index / "segments" / live_segments(seed_index)[0] / "meta.sqlite")
    db.execute("DELETE FROM sentences WHERE row = (SELECT MAX(row) FROM sentences)")
    db.commit()
    db.close()
    with pytest.raises(IndexMismatchError, match=r"sentences count .*re-ingest"):
        open_store(seed_index, encoder)


def test_an_unreadable_manifest_says_to_re_ingest(seed_index: Path, encoder: Encoder) -> None:
    folder = current_snapshot(seed_index)
    assert folder is not None
    (folder / "manifest.json").write_text("{ not json", encoding="utf-8")
    with pytest.raises(IndexMismatchError, match=r"unreadable.*re-ingest"):
        open_store(seed_index, encoder)


def test_no_index_yet_says_how_to_make_one(tmp_path: Path, encoder: Encoder) -> None:
    with pytest.raises(IndexNotFoundError, match="qa ingest"):
        open_store(tmp_path / "nothing-here", encoder)


def test_a_pointer_to_a_missing_snapshot_says_to_re_ingest(seed_index: Path, encoder: Encoder) -> None:
    (seed_index / "CURRENT").write_text("snap-000042\n", encoding="utf-8")
    # The snapshot that was live before is served, with a warning naming what is wrong ...
    store = open_store(seed_index, encoder)
    assert store.folder.name == "snap-000001"
    assert store.warning is not None and "CURRENT names 'snap-000042'" in store.warning
    store.close()
    # ... and with no snapshot to fall back on, the error says how to rebuild.
    shutil.rmtree(seed_index / "snap-000001")
    with pytest.raises(IndexStoreError, match="re-ingest"):
        open_store(seed_index, encoder)


def test_a_second_writer_is_refused_while_one_holds_the_lock(
    seed_index: Path, encoder: Encoder, tmp_path: Path
) -> None:
    story = tmp_path / "story.txt"
    story.write_text("Harbour ferry resumes\n\nThe harbour ferry resumed its crossings on Monday.\n", encoding="utf-8")
    before = (seed_index / "CURRENT").read_text(encoding="utf-8")
    with writer_lock(seed_index), pytest.raises(IndexStoreError, match="another ingest"):
        Ingestor(encoder, Settings(index_dir=seed_index)).ingest([story], show_progress=False)
    assert (seed_index / "CURRENT").read_text(encoding="utf-8") == before
    report = Ingestor(encoder, Settings(index_dir=seed_index)).ingest([story], show_progress=False)
    assert len(report.added) == 1


def test_old_snapshots_are_pruned_to_the_configured_number(seed_index: Path, encoder: Encoder, tmp_path: Path) -> None:
    settings = Settings(index_dir=seed_index, keep_snapshots=2)
    for day in ("Monday", "Tuesday", "Wednesday"):
        story = tmp_path / f"{day}.txt"
        story.write_text(f"Ferry news\n\nThe harbour ferry ran late on {day}.\n", encoding="utf-8")
        Ingestor(encoder, settings).ingest([story], show_progress=False)
    snapshots = sorted(p.name for p in seed_index.iterdir() if p.name.startswith("snap-"))
    assert snapshots == ["snap-000003", "snap-000004"]
    assert counts_in_step(seed_index, encoder)["articles"] == 4
    # Each ingest wrote one small segment and left the others as they were.
    assert live_segments(seed_index) == segment_folders(seed_index) == [f"seg-00000{n}" for n in range(1, 5)]


def test_a_snapshot_left_behind_by_a_crash_before_the_pointer_moved_does_not_block_the_next_ingest(
    seed_index: Path, encoder: Encoder, tmp_path: Path
) -> None:
    # The state a crash leaves between renaming the finished snapshot into place and updating CURRENT.
    live = current_snapshot(seed_index)
    assert live is not None and live.name == "snap-000001"
    shutil.copytree(live, seed_index / "snap-000002")
    assert counts_in_step(seed_index, encoder)["articles"] == 1, "CURRENT still names the previous snapshot"

    story = tmp_path / "story.txt"
    story.write_text("Harbour ferry resumes\n\nThe harbour ferry resumed its crossings on Monday.\n", encoding="utf-8")
    report = Ingestor(encoder, Settings(index_dir=seed_index)).ingest([story], show_progress=False)

    assert len(report.added) == 1
    assert counts_in_step(seed_index, encoder)["articles"] == 2
    assert not list(seed_index.glob(".snap-*.tmp"))
    assert_seed_answerable(seed_index, encoder)


def test_adding_and_removing_articles_writes_only_what_changed(
    seed_index: Path, encoder: Encoder, tmp_path: Path
) -> None:
    seed_files = {p: p.stat().st_mtime_ns for p in (seed_index / "segments").rglob("*") if p.is_file()}
    first = live_segments(seed_index)
    add_story(seed_index, encoder, tmp_path / "in", "Monday")
    add_story(seed_index, encoder, tmp_path / "in2", "Tuesday")
    assert live_segments(seed_index) == [*first, "seg-000002", "seg-000003"]
    assert {p: p.stat().st_mtime_ns for p in seed_files} == seed_files, "the seed's segment was rewritten"

    # Removing an article marks it deleted in its segment: no segment file changes, and it is gone from answers.
    assistant = Assistant(Settings(index_dir=seed_index), encoder=encoder, auto_ingest=False)
    monday = next(a.id for a in assistant.store.articles() if "Monday" in a.text)  # type: ignore[union-attr]
    report = assistant.remove([monday])
    assert report.updated == [monday] and not report.problems
    assert live_segments(seed_index) == [*first, "seg-000003"], "a segment with nothing live left is dropped"
    assert counts_in_step(seed_index, encoder)["articles"] == 2
    answer = assistant.answer("When did the harbour ferry run late?")
    assert answer.found and all("Monday" not in s.text for s in answer.sentences)
    assert {p: p.stat().st_mtime_ns for p in seed_files} == seed_files

    # Replacing an article marks its old version deleted where it is; compaction then drops the dead rows.
    feed = tmp_path / "feed.jsonl"

    def write_feed(bridge_hours: int) -> None:
        records = [
            {"id": "bridge", "title": "Bridge shut", "text": f"The river bridge was closed for {bridge_hours} hours."},
            {"id": "market", "title": "Market moves", "text": "The fish market moved to the old harbour hall."},
        ]
        feed.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")

    write_feed(6)
    Ingestor(encoder, Settings(index_dir=seed_index)).ingest([feed], show_progress=False)
    write_feed(9)
    report = Ingestor(encoder, Settings(index_dir=seed_index)).ingest([feed], show_progress=False)
    assert report.updated == ["bridge"] and report.unchanged == ["market"]
    store = open_store(seed_index, encoder)
    try:
        assert [s.deleted for s in store.segments] == [frozenset(), frozenset(), frozenset({"bridge"}), frozenset()]
        assert "9 hours" in store.article("bridge").text  # type: ignore[union-attr]
    finally:
        store.close()
    assert counts_in_step(seed_index, encoder)["articles"] == 4
    assert Ingestor(encoder, Settings(index_dir=seed_index, keep_snapshots=1)).compact(seed_index) == 4
    assert len(live_segments(seed_index)) == 1 and len(segment_folders(seed_index)) == 1
    assert counts_in_step(seed_index, encoder) == {"articles": 4, "sentences": 25, "chunks": 6}
    answer = assistant.answer("How long was the river bridge closed?")
    assert answer.found and "9 hours" in answer.sentences[0].text
    assert_seed_answerable(seed_index, encoder)


def test_an_ingest_merges_the_smallest_segments_when_there_are_too_many(
    seed_index: Path, encoder: Encoder, tmp_path: Path
) -> None:
    settings = Settings(index_dir=seed_index, max_segments=3)
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday"):
        story = tmp_path / f"{day}.txt"
        story.write_text(f"Ferry news\n\nThe harbour ferry ran late on {day}.\n", encoding="utf-8")
        Ingestor(encoder, settings).ingest([story], show_progress=False)
    segments = live_segments(seed_index)
    assert len(segments) == 3 and segments[0] == "seg-000001", "the large seed segment is left alone"
    assert counts_in_step(seed_index, encoder)["articles"] == 5
    assert_seed_answerable(seed_index, encoder)


# --- an ingest killed part-way -------------------------------------------------------------------------


class Worker:
    """ingest_worker.py beside this file: the model loaded once, each ingest in a child process we can kill."""

    def __init__(self, log: Path) -> None:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "QA_MAX_SEGMENTS": "2"}
        self._stderr = log.open("w", encoding="utf-8")
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=env,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.rstrip("\n"))

    def expect(self, word: str, timeout: float) -> list[str]:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"ingest worker said nothing for {timeout} s; its log:\n{self.log.read_text()[-3000:]}")
        parts = line.split("\t")
        assert parts[0] == word, f"expected {word!r} from the worker, got {line!r}\n{self.log.read_text()[-3000:]}"
        return parts[1:]

    def start(self, index_dir: Path, input_dir: Path, progress: Path) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{index_dir}\t{input_dir}\t{progress}\n")
        self.proc.stdin.flush()
        return int(self.expect("started", 30)[0])

    def close(self) -> None:
        # No child is running between ingests; the worker's own interpreter shutdown is slow, so end it outright.
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.kill()
        self.proc.wait()
        self._stderr.close()


@pytest.fixture()
def worker(tmp_path: Path) -> Iterator[Worker]:
    if not hasattr(os, "fork"):
        pytest.skip("the crash test forks ingest processes")
    started = Worker(tmp_path / "worker.log")
    try:
        started.expect("ready", 120)
        yield started
    finally:
        started.close()


def write_articles(folder: Path, count: int) -> Path:
    """`count` small weather reports (one JSON Lines file), far from the seed article's subject."""
    folder.mkdir()
    with (folder / "weather.jsonl").open("w", encoding="utf-8") as out:
        for i in range(count):
            record = {
                "id": f"weather-{folder.name}-{i}",
                "title": f"Rain in Town {i}",
                "text": f"Rain fell on Town {i} for {i % 9 + 1} hours on Monday, the weather office said. "
                f"Farmers near Town {i} welcomed the rain after a dry month.",
                "source": "Valley Weather",
                "date": "2021-06-01",
            }
            out.write(json.dumps(record) + "\n")
    return folder


# When to kill: seconds after the ingest started, or as soon as a path matching a pattern appears.
KILL_MOMENTS: list[tuple[str, float | str, str]] = [
    ("0.5 s in", 0.5, "many"),
    ("2 s in", 2.0, "many"),
    ("4 s in", 4.0, "many"),
    ("once the first embedded batch is saved", "pending/*/part-*.npz", "many"),
    ("as the new segment folder appears", "segments/.seg-*.tmp", "few"),
    ("as the new segment is renamed into place", "segments/{segment}", "few"),
    ("while segments are merged", "segments/.{merged}.tmp", "few"),
    ("as the new snapshot folder appears", ".snap-*.tmp", "few"),
    ("once the new snapshot's manifest is written", ".snap-*.tmp/manifest.json", "few"),
    ("as the finished snapshot is renamed into place", "{next}/manifest.json", "few"),
    ("as CURRENT is replaced", "CURRENT.tmp", "few"),
    ("as HISTORY is rewritten", "HISTORY.tmp", "few"),
]


def kill_when(pid: int, index_dir: Path, moment: float | str, started: float, baseline: str) -> None:
    if isinstance(moment, float):
        time.sleep(max(0.0, started + moment - time.monotonic()))
    else:
        pointer = index_dir / "CURRENT"
        deadline = started + 60
        # Stop waiting once CURRENT moved: the write finished between two looks.
        while not any(index_dir.glob(moment)) and pointer.read_text(encoding="utf-8").strip() == baseline:
            assert time.monotonic() < deadline, f"{moment} never appeared in {index_dir}"
            time.sleep(0.0005)
    with contextlib.suppress(ProcessLookupError):  # the ingest finished first: checked below as "exit 0"
        os.kill(pid, signal.SIGKILL)


def test_an_ingest_killed_at_any_moment_leaves_a_complete_consistent_index(
    seed_assistant: Assistant, encoder: Encoder, worker: Worker, tmp_path: Path
) -> None:
    inputs = {"many": write_articles(tmp_path / "many", 300), "few": write_articles(tmp_path / "few", 20)}
    baseline_dir = tmp_path / "baseline"
    shutil.copytree(seed_assistant.index_dir, baseline_dir)
    add_story(baseline_dir, encoder, tmp_path / "story", "Monday")  # two segments; the worker allows only two
    baseline = counts_in_step(baseline_dir, encoder)
    baseline_name = (baseline_dir / "CURRENT").read_text(encoding="utf-8").strip()
    next_name = f"snap-{int(baseline_name.removeprefix('snap-')) + 1:06d}"
    segments = live_segments(baseline_dir)
    assert segments == ["seg-000001", "seg-000002"]
    # Each ingest below writes seg-000003, then merges two of the three into seg-000004, then the snapshot.
    names = {"next": next_name, "segment": "seg-000003", "merged": "seg-000004"}

    interrupted = []
    for number, (label, moment, which) in enumerate(KILL_MOMENTS):
        index_dir = tmp_path / f"killed-{number}"
        shutil.copytree(baseline_dir, index_dir)
        progress = tmp_path / f"progress-{number}.log"
        pid = worker.start(index_dir, inputs[which], progress)
        if isinstance(moment, str):
            moment = moment.format(**names)
        kill_when(pid, index_dir, moment, time.monotonic(), baseline_name)
        status = worker.expect("ended", 30)[1]
        notes = progress.read_text(encoding="utf-8") if progress.exists() else ""
        killed = status == f"signal {signal.SIGKILL.value}"
        assert killed or status == "exit 0", (
            f"{label}: the ingest failed on its own ({status})\n{worker.log.read_text()}"
        )

        live = (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
        counts = counts_in_step(index_dir, encoder)  # opens, and checks sqlite == FAISS == BM25 == manifest
        if killed and "writing:" not in notes:
            assert live == baseline_name, f"killed {label}, before writing, yet CURRENT moved to {live}"
        if live == baseline_name:
            assert counts == baseline, f"killed {label}: the previous snapshot changed"
        else:
            # Killed after the new snapshot went live (or it finished first): then it must be whole.
            assert live == next_name, f"killed {label}: CURRENT names {live}"
            assert counts["articles"] == baseline["articles"] + (300 if which == "many" else 20)
        assert_seed_answerable(index_dir, encoder)
        if killed:
            interrupted.append((label, index_dir, "writing:" in notes))

    assert interrupted, "no kill landed while an ingest was running"

    # An ingest killed after embedding a batch resumes: the re-run embeds only what that batch lacks.
    saved = [d for label, d, _ in interrupted if label == "once the first embedded batch is saved"]
    assert saved, "the kill after the first saved batch did not land"
    cached = PendingVectors(saved[0], encoder.weights_sha256, encoder.dimension, encoder.kind).load()
    assert len(cached) >= Ingestor.batch_chunks, "the saved batch did not survive the kill"
    embedded: list[bytes] = []

    class Counting:
        def __getattr__(self, name: str) -> object:
            return getattr(encoder, name)

        def encode_passages(self, texts: list[str], parts: list[list[tuple[int, int]]]) -> object:
            embedded.extend(text_key(t, p) for t, p in zip(texts, parts, strict=True))
            return encoder.encode_passages(texts, parts)

    report = Ingestor(Counting(), Settings(index_dir=saved[0])).ingest([inputs["many"]], show_progress=False)  # type: ignore[arg-type]
    assert len(report.added) == 300
    assert embedded, "the kill landed before the last batch, so something was left to embed"
    assert not set(embedded) & cached.keys(), "the re-run embedded saved chunks again"
    assert counts_in_step(saved[0], encoder)["articles"] == baseline["articles"] + 300

    # After a crash the next ingest simply works: the lock is free and leftovers of the dead writer are cleared.
    for label, index_dir, during_write in interrupted:
        if not during_write:
            continue
        story = tmp_path / f"after-{index_dir.name}.txt"
        story.write_text(
            "Harbour ferry resumes\n\nThe harbour ferry resumed its crossings on Monday.\n", encoding="utf-8"
        )
        before = counts_in_step(index_dir, encoder)["articles"]
        report = Ingestor(encoder, Settings(index_dir=index_dir)).ingest([story], show_progress=False)
        assert len(report.added) == 1, f"re-ingest after a kill {label}: {report.summary()}"
        assert counts_in_step(index_dir, encoder)["articles"] == before + 1
        assert not list(index_dir.glob(".snap-*.tmp")), f"a dead writer's temporary folder survived ({label})"
        assert not list(index_dir.glob("segments/.seg-*.tmp")), f"a dead writer's segment survived ({label})"
        kept = {e for snap in index_dir.glob("snap-*") for e in live_segments_of(snap)}
        assert set(segment_folders(index_dir)) == kept, f"a dead writer's unlisted segment survived ({label})"
        assert_seed_answerable(index_dir, encoder)


# --- pruning and damaged snapshots ---------------------------------------------------------------------


def add_story(index_dir: Path, encoder: Encoder, folder: Path, day: str, keep: int = 2) -> None:
    folder.mkdir(exist_ok=True)
    story = folder / f"{day}.txt"
    story.write_text(f"Ferry news\n\nThe harbour ferry ran late on {day}.\n", encoding="utf-8")
    Ingestor(encoder, Settings(index_dir=index_dir, keep_snapshots=keep)).ingest([story], show_progress=False)


def test_pruning_keeps_the_snapshots_that_were_live_not_one_a_crash_left_behind(
    seed_index: Path, encoder: Encoder, tmp_path: Path
) -> None:
    add_story(seed_index, encoder, tmp_path / "in", "Monday")  # snap-000002 live, snap-000001 before it
    # A crash after renaming a finished snapshot into place, before CURRENT moved: snap-000003 never went live.
    shutil.copytree(seed_index / "snap-000002", seed_index / "snap-000003")
    add_story(seed_index, encoder, tmp_path / "in", "Tuesday")  # snap-000004

    snapshots = sorted(p.name for p in seed_index.iterdir() if p.name.startswith("snap-"))
    assert snapshots == ["snap-000002", "snap-000004"], "the previously live snapshot must be the one kept"
    assert live_history(seed_index) == ["snap-000001", "snap-000002", "snap-000004"]


@pytest.fixture()
def two_snapshots(seed_index: Path, encoder: Encoder, tmp_path: Path) -> Path:
    """The seed index plus one ingest: snap-000002 live (the seed article and a ferry story), snap-000001 before."""
    add_story(seed_index, encoder, tmp_path / "in", "Monday")
    assert (seed_index / "CURRENT").read_text(encoding="utf-8").strip() == "snap-000002"
    return seed_index


# Files of the segment only the live snapshot lists (seg-000002), and the live snapshot's own manifest.
SNAPSHOT_FILES = [
    "seg-000002/meta.sqlite",
    "seg-000002/chunks.faiss",
    "seg-000002/sentences.faiss",
    "seg-000002/chunk_vectors.npy",
    "seg-000002/sentence_vectors.npy",
    "seg-000002/bm25/terms.json",
    "seg-000002/bm25/indptr.npy",
    "seg-000002/bm25/docs.npy",
    "seg-000002/bm25/counts.npy",
    "seg-000002/bm25/lengths.npy",
    "snap-000002/manifest.json",
]


def index_file(index_dir: Path, name: str) -> Path:
    return index_dir / "segments" / name if name.startswith("seg-") else index_dir / name


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("recorded", [True, False], ids=["manifest-records-files", "older-manifest"])
@pytest.mark.parametrize("name", SNAPSHOT_FILES)
def test_a_truncated_file_is_named_and_the_last_intact_snapshot_is_served(
    two_snapshots: Path, encoder: Encoder, tmp_path: Path, name: str, recorded: bool
) -> None:
    if not recorded:  # a manifest without file records: loading itself must catch the damage
        if name.endswith("manifest.json"):
            pytest.skip("the manifest is the same file either way")
        manifest = json.loads((two_snapshots / "snap-000002" / "manifest.json").read_text(encoding="utf-8"))
        edit_manifest(two_snapshots, segments=[{**e, "files": None} for e in manifest["segments"]])
    truncate(index_file(two_snapshots, name))
    where = name if name.startswith("snap-") else "/".join(name.split("/")[:2])

    store = open_store(two_snapshots, encoder)
    try:
        assert store.folder.name == "snap-000001", "the intact snapshot that was live before must be served"
        assert store.warning is not None
        assert where in store.warning and "qa repair" in store.warning
        assert store.n_articles == 1
    finally:
        store.close()
    assert_seed_answerable(two_snapshots, encoder)

    # An ingest refuses to build on it (nor silently on the older snapshot) and says how to repair.
    with pytest.raises(IndexCorruptError, match=rf"{where}.*qa repair"):
        add_story(two_snapshots, encoder, tmp_path / "more", "Tuesday")
    assert (two_snapshots / "CURRENT").read_text(encoding="utf-8").strip() == "snap-000002"

    with writer_lock(two_snapshots):
        done = repair(two_snapshots)
    assert "snap-000001" in done and "damaged-snap-000002" in done
    assert (two_snapshots / "damaged-snap-000002").is_dir(), "the damaged snapshot is set aside, not deleted"
    assert counts_in_step(two_snapshots, encoder)["articles"] == 1  # CURRENT names it; no warning needed
    assert open_store(two_snapshots, encoder).warning is None
    add_story(two_snapshots, encoder, tmp_path / "more", "Tuesday")
    assert counts_in_step(two_snapshots, encoder)["articles"] == 2


def test_changed_contents_of_the_same_size_are_found_by_repair(two_snapshots: Path, encoder: Encoder) -> None:
    vectors = two_snapshots / "segments" / "seg-000002" / "chunk_vectors.npy"
    data = bytearray(vectors.read_bytes())
    data[-8:] = bytes(8)
    vectors.write_bytes(bytes(data))
    with writer_lock(two_snapshots):
        done = repair(two_snapshots)
    assert "seg-000002/chunk_vectors.npy does not match its recorded sha256" in done
    assert (two_snapshots / "CURRENT").read_text(encoding="utf-8").strip() == "snap-000001"
    with writer_lock(two_snapshots):
        assert "intact" in repair(two_snapshots)


@pytest.mark.parametrize(
    "name", ["seg-000002/meta.sqlite", "seg-000002/sentence_vectors.npy", "seg-000002/bm25/docs.npy"]
)
def test_an_ingest_never_builds_on_changed_bytes_nor_prunes_the_last_intact_snapshot(
    two_snapshots: Path, encoder: Encoder, tmp_path: Path, name: str
) -> None:
    """A same-size byte flip passes the size check on open; an ingest checks every checksum before it lists a
    segment in a new snapshot (and so before pruning), so the intact snapshot stays for `qa repair`."""
    path = index_file(two_snapshots, name)
    data = bytearray(path.read_bytes())
    data[-2] ^= 0xFF  # in the data, past any header, so that the file still loads
    path.write_bytes(bytes(data))
    for attempt in range(2):  # refused every time, not once
        with pytest.raises(IndexCorruptError, match=rf"{name} does not match its recorded sha256.*qa repair"):
            add_story(two_snapshots, encoder, tmp_path / f"more-{attempt}", "Tuesday")
    assert (two_snapshots / "CURRENT").read_text(encoding="utf-8").strip() == "snap-000002"
    assert (two_snapshots / "snap-000001").is_dir(), "the last intact snapshot must survive a refused ingest"

    with writer_lock(two_snapshots):
        assert "snap-000001" in repair(two_snapshots)
    add_story(two_snapshots, encoder, tmp_path / "after", "Tuesday")
    # The new snapshot never reuses the damaged one's number.
    assert (two_snapshots / "CURRENT").read_text(encoding="utf-8").strip() == "snap-000003"
    assert (two_snapshots / "damaged-snap-000002").is_dir()
    assert counts_in_step(two_snapshots, encoder)["articles"] == 2


# What a truncating crash, a full disk or a stray write can leave in CURRENT. HISTORY still lists the snapshots.
DAMAGED_POINTERS = {
    "empty": b"",
    "whitespace": b"  \n",
    "garbage bytes": b"\xff\xfe\x00\x9csnap\x80",
    "dangling": b"snap-000042\n",
    "escaping the folder": b"../../etc\n",
    "missing": None,
}


@pytest.mark.parametrize("content", DAMAGED_POINTERS.values(), ids=DAMAGED_POINTERS.keys())
def test_a_damaged_current_serves_the_last_intact_snapshot_refuses_ingest_and_is_repaired(
    two_snapshots: Path, encoder: Encoder, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None
) -> None:
    pointer = two_snapshots / "CURRENT"
    if content is None:
        pointer.unlink()
    else:
        pointer.write_bytes(content)
    index = ["--index-dir", str(two_snapshots)]

    store = open_store(two_snapshots, encoder)
    try:
        assert store.folder.name == "snap-000002", "the newest intact snapshot that was live is served"
        assert store.warning is not None and "CURRENT" in store.warning and "qa repair" in store.warning
        assert store.n_articles == 2
    finally:
        store.close()
    assert cli.main([*index, "stats"]) == 0
    captured = capsys.readouterr()
    assert "warning: " in captured.err and "CURRENT" in captured.err and "snap-000002" in captured.out

    # Never "a new index": an ingest refuses (library and command line alike) and nothing is pruned.
    with pytest.raises(IndexCorruptError, match=r"CURRENT.*qa repair"):
        add_story(two_snapshots, encoder, tmp_path / "refused", "Tuesday")
    story = tmp_path / "one.txt"
    story.write_text("Harbour ferry resumes\n\nThe harbour ferry resumed its crossings on Monday.\n", encoding="utf-8")
    assert cli.main([*index, "ingest", str(story)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err and "qa repair" in err
    assert sorted(p.name for p in two_snapshots.glob("snap-*")) == ["snap-000001", "snap-000002"]
    # An assistant that may index on its own does not mistake it for a first use either.
    assistant = Assistant(Settings(index_dir=two_snapshots), encoder=encoder)
    assert assistant.stats().articles == 2 and assistant.stats().warning is not None

    assert cli.main([*index, "repair"]) == 0
    assert "snap-000002" in capsys.readouterr().out
    assert pointer.read_text(encoding="utf-8").strip() == "snap-000002"
    assert live_history(two_snapshots)[-1] == "snap-000002"
    assert cli.main([*index, "ingest", str(story)]) == 0
    assert counts_in_step(two_snapshots, encoder)["articles"] == 3


def test_a_damaged_history_loses_nothing(two_snapshots: Path, encoder: Encoder, tmp_path: Path) -> None:
    (two_snapshots / "HISTORY").write_bytes(b"\xff\xfe garbage \x00")
    assert live_history(two_snapshots) == []
    add_story(two_snapshots, encoder, tmp_path / "more", "Tuesday")
    assert counts_in_step(two_snapshots, encoder)["articles"] == 3
    assert live_history(two_snapshots)[-2:] == ["snap-000002", "snap-000003"]


@pytest.mark.parametrize(
    ("segment", "says"),
    [
        ({"name": "../../../etc"}, "not a segment name"),
        ({"sentences": "many"}, "no valid counts"),
        ({"deleted": "abc"}, "deleted articles"),
        ({"files": {"meta.sqlite": {"bytes": None}}}, "file records"),
        ({"name": None}, "no name"),
    ],
)
def test_a_manifest_with_a_malformed_segment_entry_is_named_not_a_traceback(
    two_snapshots: Path, encoder: Encoder, segment: dict, says: str
) -> None:
    path = two_snapshots / "snap-000002" / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["segments"][-1].update(segment)
    path.write_text(json.dumps(manifest), encoding="utf-8")
    store = open_store(two_snapshots, encoder)
    try:
        assert store.folder.name == "snap-000001"
        assert store.warning is not None and "snap-000002/manifest.json" in store.warning and says in store.warning
    finally:
        store.close()
    with writer_lock(two_snapshots):
        assert "snap-000001" in repair(two_snapshots)


def test_the_cli_names_the_damaged_file_and_exits_2_when_nothing_intact_is_left(
    two_snapshots: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = ["--index-dir", str(two_snapshots)]
    truncate(two_snapshots / "segments" / "seg-000002" / "chunks.faiss")

    assert cli.main([*index, "stats"]) == 0
    captured = capsys.readouterr()
    assert "warning: seg-000002/chunks.faiss" in captured.err and "qa repair" in captured.err
    assert "snap-000001" in captured.out

    # The seed's segment is in both snapshots: with it damaged, nothing intact is left.
    truncate(two_snapshots / "segments" / "seg-000001" / "meta.sqlite")
    for command in (["stats"], ["ask", "how many kilograms were seized in 2019?"], ["ingest", str(two_snapshots)]):
        assert cli.main([*index, *command]) == 2, command
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        assert "seg-000001/meta.sqlite" in err and "Traceback" not in err
    assert "qa ingest --rebuild" in err or "qa repair" in err
    assert cli.main([*index, "repair"]) == 2
    assert "no intact earlier snapshot" in capsys.readouterr().err


def test_a_running_assistant_serves_the_intact_snapshot_with_a_warning_until_repaired(
    two_snapshots: Path, encoder: Encoder
) -> None:
    truncate(two_snapshots / "segments" / "seg-000002" / "sentences.faiss")
    assistant = Assistant(Settings(index_dir=two_snapshots), encoder=encoder, auto_ingest=False)
    warning = assistant.stats().warning
    assert warning is not None and "seg-000002/sentences.faiss" in warning
    loaded = assistant.store
    assert assistant.answer(SEED_QUESTION).found
    assert assistant.store is loaded, "the fallback must not be reloaded before every question"

    with writer_lock(two_snapshots):
        repair(two_snapshots)
    assert assistant.answer(SEED_QUESTION).found
    assert assistant.store is not loaded and assistant.stats().warning is None


def test_an_index_of_the_older_format_is_refused_with_a_way_to_upgrade_it(
    seed_assistant: Assistant, encoder: Encoder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A format-1 index (one SQLite file per snapshot, before segments) is re-embedded from the articles it
    stores: same ids, same text, answerable again."""
    assert seed_assistant.store is not None
    articles = seed_assistant.store.articles()
    index_dir = tmp_path / "old"
    snapshot = index_dir / "snap-000003"
    snapshot.mkdir(parents=True)
    db = sqlite3.connect(snapshot / "meta.sqlite")
    db.executescript(_SCHEMA)  # the articles table is the same in both formats
    db.executemany(
        "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,0,0,0,0)",
        [(a.id, n, a.title, a.text, a.source, a.date, a.url, a.author, a.origin, a.content_hash)
         for n, a in enumerate(articles)],
    )  # fmt: skip
    db.commit()
    db.close()
    (snapshot / "manifest.json").write_text(json.dumps({"format_version": 1, "articles": 1}), encoding="utf-8")
    (index_dir / "CURRENT").write_text("snap-000003\n", encoding="utf-8")

    with pytest.raises(IndexMismatchError, match=r"format version 1.*qa upgrade"):
        open_store(index_dir, encoder)
    # An assistant that may index on its own (the chat, qa ask) upgrades it; one that may not says how to.
    auto = tmp_path / "auto"
    shutil.copytree(index_dir, auto)
    with pytest.raises(IndexMismatchError, match="qa upgrade"):
        Assistant(Settings(index_dir=auto), encoder=encoder, auto_ingest=False)
    upgraded = Assistant(Settings(index_dir=auto), encoder=encoder)
    assert upgraded.answer(SEED_QUESTION).sentences[0].text.startswith(SEED_ANSWER)
    assert cli.main(["--index-dir", str(index_dir), "upgrade"]) == 0
    assert "1 re-embedded" in capsys.readouterr().out
    assert counts_in_step(index_dir, encoder)["articles"] == 1
    store = open_store(index_dir, encoder)
    try:
        assert [(a.id, a.text, a.title) for a in store.articles()] == [(a.id, a.text, a.title) for a in articles]
    finally:
        store.close()
    assert_seed_answerable(index_dir, encoder)


def test_an_index_folder_that_cannot_be_written_is_one_clear_error(
    two_snapshots: Path, encoder: Encoder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (two_snapshots / "LOCK").unlink(missing_ok=True)
    (two_snapshots / "LOCK").mkdir()  # what a stray copy or a read-only mount gives the same way: no lock file
    story = tmp_path / "one.txt"
    story.write_text("Ferry news\n\nThe harbour ferry ran late on Monday.\n", encoding="utf-8")
    assert cli.main(["--index-dir", str(two_snapshots), "ingest", str(story)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("qa: cannot write the index at") and "Traceback" not in err
    assert counts_in_step(two_snapshots, encoder)["articles"] == 2
