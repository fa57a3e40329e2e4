"""The index on disk: dense vectors (FAISS), BM25 and article/sentence metadata (SQLite), always in step.

Layout of an index directory::

    CURRENT               name of the live snapshot, replaced atomically
    HISTORY               the snapshots that have been live, oldest first (pruning keeps the newest of them)
    LOCK                  held by the one writer
    pending/              vectors of an ingest that has not finished, so a re-run after a crash resumes
    snap-000007/          one complete, immutable snapshot
        manifest.json     format version, model and weights hash, dimension, counts, times, and the size
                          and sha256 of every other file (sizes checked on each open, checksums by qa repair)
        meta.sqlite       articles, sentences, chunks
        chunks.faiss      dense index over chunk vectors (exact, or HNSW above a size)
        sentences.faiss   dense index over sentence vectors
        chunk_vectors.npy / sentence_vectors.npy   the vectors themselves (memory-mapped)
        bm25/             BM25 over chunks (bm25s, numpy arrays + JSON; no pickle)

A writer builds a whole new snapshot in a temporary folder, fsyncs it, renames it into place and only then
points CURRENT at it. A crash at any moment leaves CURRENT naming a complete snapshot, so dense, BM25 and
metadata always agree. A live snapshot found damaged is reported with the file that is wrong, and the newest
intact snapshot that was live before it is served instead (`IndexStore.warning` says so) until `repair`
makes that one live again or a rebuild replaces both.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sqlite3
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path

import faiss
import numpy as np

from index.dates import TimeMention
from index.encoder import sha256_of
from index.lexical import LexicalIndex
from index.models import Article, Chunk, IndexMismatchError, IndexStoreError, Sentence

FORMAT_VERSION = 1
TITLE = -1  # the sentence number `times` rows give an article's title
_SNAPSHOT_PREFIX = "snap-"

_SCHEMA = """
CREATE TABLE articles (
    id TEXT PRIMARY KEY, position INTEGER NOT NULL, title TEXT NOT NULL, text TEXT NOT NULL,
    source TEXT, date TEXT, url TEXT, author TEXT, origin TEXT NOT NULL, content_hash TEXT NOT NULL,
    first_sentence_row INTEGER NOT NULL, n_sentences INTEGER NOT NULL,
    first_chunk_row INTEGER NOT NULL, n_chunks INTEGER NOT NULL
);
CREATE TABLE sentences (
    row INTEGER PRIMARY KEY, article_id TEXT NOT NULL, number INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL, chunk_row INTEGER NOT NULL
);
CREATE TABLE chunks (
    row INTEGER PRIMARY KEY, article_id TEXT NOT NULL, number INTEGER NOT NULL,
    first_sentence INTEGER NOT NULL, last_sentence INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL
);
CREATE TABLE times (
    article_id TEXT NOT NULL, sentence INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    text TEXT NOT NULL, first TEXT NOT NULL, last TEXT NOT NULL, period TEXT NOT NULL
);
CREATE INDEX sentences_by_article ON sentences(article_id, number);
CREATE INDEX times_by_article ON times(article_id, sentence);
CREATE INDEX times_by_date ON times(first, last);
CREATE INDEX articles_by_date ON articles(date);
CREATE INDEX articles_by_url ON articles(url);
CREATE INDEX articles_by_origin ON articles(origin);
"""


@dataclass
class IndexedArticle:
    """An article with everything derived from it, ready to be written into a snapshot."""

    article: Article
    sentences: list[Sentence]
    chunks: list[Chunk]
    sentence_vectors: np.ndarray
    chunk_vectors: np.ndarray
    title_times: list[TimeMention] = field(default_factory=list)


@dataclass(frozen=True)
class ChunkHit:
    """A retrieved chunk row with the sentence rows it holds."""

    row: int
    article_id: str
    first_sentence_row: int
    last_sentence_row: int


class IndexNotFoundError(IndexStoreError):
    """No index exists at the given place yet."""


class IndexCorruptError(IndexMismatchError):
    """A snapshot file is missing, truncated, unreadable or not what its manifest recorded."""


REBUILD_HINT = "re-ingest your files into a new index with: qa ingest --rebuild PATH"
REPAIR_HINT = f"qa repair makes the last intact snapshot live again; {REBUILD_HINT}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def current_snapshot(index_dir: Path) -> Path | None:
    """The live snapshot folder, or None when the directory holds no index yet."""
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    folder = index_dir / name
    if not name.startswith(_SNAPSHOT_PREFIX) or not folder.is_dir():
        raise IndexCorruptError(f"{pointer} names {name!r}, which is not a snapshot folder; {REPAIR_HINT}")
    return folder


def dense_index_for(vectors: np.ndarray, approximate_above: int) -> tuple[faiss.Index, str]:
    """Exact inner-product search for small collections, HNSW beyond `approximate_above` rows."""
    dim = vectors.shape[1]
    index: faiss.Index
    if len(vectors) > approximate_above:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 128
        kind = "hnsw"
    else:
        index = faiss.IndexFlatIP(dim)
        kind = "flat"
    if len(vectors):
        index.add(vectors)
    return index, kind


@contextlib.contextmanager
def _reading(folder: Path, name: str) -> Iterator[None]:
    """Turn a raw error from reading one snapshot file (sqlite, FAISS, numpy, JSON) into IndexCorruptError."""
    try:
        yield
    except IndexStoreError:
        raise
    except (sqlite3.Error, RuntimeError, ValueError, OSError, KeyError, EOFError) as exc:
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise IndexCorruptError(f"{folder.name}/{name} cannot be read ({reason})") from exc


def _read_faiss(path: Path) -> faiss.Index:
    # Memory-map where the index type allows it, so a large index loads without copying into RAM.
    try:
        return faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
    except RuntimeError:
        return faiss.read_index(str(path))


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index's write lock; a second writer gets a clear error instead of waiting forever."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / "LOCK").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IndexStoreError(f"another ingest is writing {index_dir}; wait for it to finish") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_snapshot(
    index_dir: Path,
    articles: Sequence[IndexedArticle],
    *,
    model_name: str,
    model_sha256: str,
    dimension: int,
    approximate_above: int,
    keep: int = 2,
    created_at: str | None = None,
) -> Path:
    """Write `articles` as a new snapshot and make it live atomically. Call under `writer_lock`."""
    index_dir.mkdir(parents=True, exist_ok=True)
    # Number above every snapshot folder, not just the live one: a crash between renaming a finished snapshot
    # into place and moving CURRENT leaves a newer, never-live folder that must not be collided with.
    numbers = [_snapshot_number(p) for p in index_dir.glob(f"{_SNAPSHOT_PREFIX}*") if p.is_dir()]
    name = f"{_SNAPSHOT_PREFIX}{max([0, *(n for n in numbers if n is not None)]) + 1:06d}"
    tmp = index_dir / f".{name}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()

    sentence_vectors = _stack([a.sentence_vectors for a in articles], dimension)
    chunk_vectors = _stack([a.chunk_vectors for a in articles], dimension)
    n_sentences = sum(len(a.sentences) for a in articles)
    n_chunks = sum(len(a.chunks) for a in articles)
    if len(sentence_vectors) != n_sentences or len(chunk_vectors) != n_chunks:
        raise IndexStoreError("vectors and sentences are out of step; nothing was written")

    _write_sqlite(tmp / "meta.sqlite", articles)
    np.save(tmp / "sentence_vectors.npy", sentence_vectors, allow_pickle=False)
    np.save(tmp / "chunk_vectors.npy", chunk_vectors, allow_pickle=False)
    chunk_index, chunk_kind = dense_index_for(chunk_vectors, approximate_above)
    sentence_index, sentence_kind = dense_index_for(sentence_vectors, approximate_above)
    faiss.write_index(chunk_index, str(tmp / "chunks.faiss"))
    faiss.write_index(sentence_index, str(tmp / "sentences.faiss"))
    from index.lexical import tokenize

    LexicalIndex.build([tokenize(c.text) for a in articles for c in a.chunks]).save(tmp / "bm25")
    now = _now()
    manifest = {
        "format_version": FORMAT_VERSION,
        "model_name": model_name,
        "model_sha256": model_sha256,
        "dimension": dimension,
        "articles": len(articles),
        "sentences": n_sentences,
        "chunks": n_chunks,
        "dense_index": {"chunks": chunk_kind, "sentences": sentence_kind},
        "created_at": created_at or now,
        "updated_at": now,
        "snapshot": name,
        "files": file_records(tmp),
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    _fsync_tree(tmp)
    final = index_dir / name
    os.replace(tmp, final)
    _fsync_dir(index_dir)
    make_live(index_dir, name)
    _prune(index_dir, keep)
    return final


def make_live(index_dir: Path, name: str) -> None:
    """Point CURRENT at snapshot `name` atomically and add it (and the one it replaces) to HISTORY."""
    previous = live_name(index_dir)
    _write_atomically(index_dir / "CURRENT", name + "\n")
    _fsync_dir(index_dir)
    # HISTORY is written after the switch: a crash in between leaves `name` live but unlisted, and the next
    # switch lists it then (as its `previous`). A snapshot that never became live is never listed.
    live_before = [n for n in live_history(index_dir) if n not in (previous, name)]
    _write_atomically(index_dir / "HISTORY", "".join(f"{n}\n" for n in [*live_before, previous, name] if n))


def live_history(index_dir: Path) -> list[str]:
    """Snapshot names that have been live, oldest first (from HISTORY; empty for an index made before it)."""
    try:
        lines = (index_dir / "HISTORY").read_text(encoding="utf-8").split()
    except OSError:
        return []
    return [n for n in lines if n.startswith(_SNAPSHOT_PREFIX)]


def live_name(index_dir: Path) -> str | None:
    """What CURRENT names (None when there is no index yet), without checking it."""
    try:
        return (index_dir / "CURRENT").read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def file_records(folder: Path) -> dict[str, dict[str, int | str]]:
    """Size and sha256 of every file in a snapshot folder but its manifest, by path relative to the folder."""
    return {
        path.relative_to(folder).as_posix(): {"bytes": path.stat().st_size, "sha256": sha256_of(path)}
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != "manifest.json"
    }


def read_manifest(folder: Path) -> dict:
    """A snapshot's manifest; IndexCorruptError naming the file when it is missing or unreadable."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"{folder.name}/manifest.json is unreadable ({exc})") from exc
    if not isinstance(manifest, dict):
        raise IndexCorruptError(f"{folder.name}/manifest.json is not a manifest")
    return manifest


def damage(folder: Path, manifest: dict, *, checksums: bool = False) -> list[str]:
    """What is wrong with a snapshot's files against its manifest: missing or resized files (and, with
    `checksums`, changed contents), one line each naming the file. Empty for a sound snapshot, or for one
    written before manifests recorded their files."""
    problems = []
    for name, record in (manifest.get("files") or {}).items():
        path = folder / name
        where = f"{folder.name}/{name}"
        if not path.is_file():
            problems.append(f"{where} is missing")
        elif (size := path.stat().st_size) != record.get("bytes"):
            problems.append(f"{where} is {size:,} bytes, the manifest recorded {record.get('bytes'):,}")
        elif checksums and sha256_of(path) != record.get("sha256"):
            problems.append(f"{where} does not match its recorded sha256 (its contents changed)")
    return problems


def _snapshot_number(folder: Path) -> int | None:
    suffix = folder.name[len(_SNAPSHOT_PREFIX) :]
    return int(suffix) if suffix.isdigit() else None


def _stack(parts: Sequence[np.ndarray], dimension: int) -> np.ndarray:
    parts = [p for p in parts if len(p)]
    if not parts:
        return np.zeros((0, dimension), dtype=np.float32)
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


def _write_sqlite(path: Path, articles: Sequence[IndexedArticle]) -> None:
    db = sqlite3.connect(path)
    try:
        db.executescript(_SCHEMA)
        sentence_row = 0
        chunk_row = 0
        for position, item in enumerate(articles):
            a = item.article
            db.execute(
                "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    a.id, position, a.title, a.text, a.source, a.date, a.url, a.author, a.origin,
                    a.content_hash, sentence_row, len(item.sentences), chunk_row, len(item.chunks),
                ),
            )  # fmt: skip
            chunk_of_sentence: dict[int, int] = {}
            for offset, c in enumerate(item.chunks):
                for number in range(c.first_sentence, c.last_sentence + 1):
                    chunk_of_sentence.setdefault(number, chunk_row + offset)
            db.executemany(
                "INSERT INTO chunks VALUES (?,?,?,?,?,?,?)",
                [
                    (chunk_row + i, a.id, c.number, c.first_sentence, c.last_sentence, c.start, c.end)
                    for i, c in enumerate(item.chunks)
                ],
            )
            db.executemany(
                "INSERT INTO sentences VALUES (?,?,?,?,?,?,?)",
                [
                    (sentence_row + i, a.id, s.number, s.start, s.end, s.text, chunk_of_sentence[s.number])
                    for i, s in enumerate(item.sentences)
                ],
            )
            db.executemany(
                "INSERT INTO times VALUES (?,?,?,?,?,?,?,?)",
                [
                    (a.id, number, t.start, t.end, t.text, t.first.isoformat(), t.last.isoformat(), t.period)
                    for number, times in [(TITLE, item.title_times), *((s.number, s.times) for s in item.sentences)]
                    for t in times
                ],
            )
            sentence_row += len(item.sentences)
            chunk_row += len(item.chunks)
        db.commit()
    finally:
        db.close()


def _prune(index_dir: Path, keep: int) -> None:
    """Keep the live snapshot and the newest `keep - 1` that were live before it; delete the rest, including
    snapshots that never went live (a crash before CURRENT moved) and dead writers' temporary folders."""
    live = live_name(index_dir)
    earlier = [n for n in reversed(live_history(index_dir)) if n != live and (index_dir / n).is_dir()]
    kept = {live, *earlier[: max(keep, 1) - 1]}
    for folder in index_dir.glob(f"{_SNAPSHOT_PREFIX}*"):
        if folder.is_dir() and folder.name not in kept:
            shutil.rmtree(folder, ignore_errors=True)
    for stale in index_dir.glob(f".{_SNAPSHOT_PREFIX}*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)


def fallback_snapshots(index_dir: Path, damaged: str | None) -> list[Path]:
    """Snapshots to serve instead of a damaged live one, best first: those that were live, newest first, then
    (for an index from before HISTORY) the others by number, newest first."""
    seen = [n for n in reversed(live_history(index_dir)) if n != damaged]
    others = sorted(
        (p.name for p in index_dir.glob(f"{_SNAPSHOT_PREFIX}*") if p.is_dir() and p.name not in {*seen, damaged}),
        reverse=True,
    )
    return [index_dir / n for n in [*seen, *others] if (index_dir / n).is_dir()]


def repair(index_dir: Path) -> str:
    """Check the live snapshot file by file (sizes and checksums); when it is damaged, make the newest intact
    snapshot live again and set the damaged one aside as `damaged-snap-…`. Returns what was done; raises
    IndexCorruptError when no intact snapshot is left. Call under `writer_lock`."""
    live = current_snapshot(index_dir)
    if live is None:
        raise IndexNotFoundError(f"no index at {index_dir}; create one with: qa ingest PATH")
    problems = _full_check(live)
    if not problems:
        return f"{live.name} is intact ({len(read_manifest(live).get('files') or {})} files checked); nothing to do"
    for candidate in fallback_snapshots(index_dir, live.name):
        if _full_check(candidate):
            continue
        make_live(index_dir, candidate.name)
        aside = index_dir / f"damaged-{live.name}"
        os.replace(live, aside)
        _fsync_dir(index_dir)
        return (
            f"{problems[0]}; {candidate.name} (updated {read_manifest(candidate).get('updated_at', '?')}) is live "
            f"again and the damaged snapshot is kept as {aside.name}. Ingest your files again to add what came after"
        )
    raise IndexCorruptError(f"{problems[0]}, and no intact earlier snapshot is left; {REBUILD_HINT}")


def _full_check(folder: Path) -> list[str]:
    try:
        manifest = read_manifest(folder)
    except IndexCorruptError as exc:
        return [str(exc)]
    problems = damage(folder, manifest, checksums=True)
    if not problems:
        try:
            IndexStore(folder, manifest).close()
        except IndexStoreError as exc:
            problems.append(str(exc))
    return problems


class IndexStore:
    """A loaded, read-only snapshot of the index: search it, and read articles and sentences back."""

    def __init__(self, folder: Path, manifest: dict, warning: str | None = None) -> None:
        self.folder = folder
        self.manifest = manifest
        self.warning = warning  # set when this is a fallback for a damaged live snapshot
        with _reading(folder, "meta.sqlite"):
            self.db = sqlite3.connect(f"file:{folder / 'meta.sqlite'}?mode=ro", uri=True, check_same_thread=False)
            self.db.row_factory = sqlite3.Row
            self.db.execute("SELECT COUNT(*) FROM articles").fetchone()
        try:
            with _reading(folder, "chunks.faiss"):
                self.chunk_index = _read_faiss(folder / "chunks.faiss")
            with _reading(folder, "sentences.faiss"):
                self.sentence_index = _read_faiss(folder / "sentences.faiss")
            with _reading(folder, "sentence_vectors.npy"):
                self.sentence_vectors = np.load(folder / "sentence_vectors.npy", mmap_mode="r")
            with _reading(folder, "chunk_vectors.npy"):
                self.chunk_vectors = np.load(folder / "chunk_vectors.npy", mmap_mode="r")
            with _reading(folder, "bm25"):
                self.lexical = LexicalIndex.load(folder / "bm25")
            with _reading(folder, "meta.sqlite"):
                self._check_consistent()
        except BaseException:
            self.db.close()
            raise

    @classmethod
    def open(
        cls,
        index_dir: Path,
        *,
        model_sha256: str | None = None,
        dimension: int | None = None,
        fallback: bool = True,
    ) -> IndexStore:
        """Load the live snapshot, checking it was built by this code with the same model and that its files
        are the size its manifest recorded.

        A damaged live snapshot raises IndexCorruptError naming the file; with `fallback` the newest intact
        snapshot that was live before it is loaded instead, with `warning` saying so.
        """
        name = live_name(index_dir)
        if name is None:
            raise IndexNotFoundError(f"no index at {index_dir}; create one with: qa ingest PATH")
        folder = index_dir / name
        try:
            if not name.startswith(_SNAPSHOT_PREFIX) or not folder.is_dir():
                raise IndexCorruptError(f"CURRENT names {name!r}, which is not a snapshot folder")
            return cls._open_folder(folder, model_sha256, dimension)
        except IndexCorruptError as exc:
            if not fallback:
                raise IndexCorruptError(f"{index_dir}: {exc}; {REPAIR_HINT}") from exc
            for other in fallback_snapshots(index_dir, folder.name):
                try:
                    store = cls._open_folder(other, model_sha256, dimension)
                except IndexStoreError:
                    continue
                store.warning = (
                    f"{exc}; answering from the last intact snapshot, {other.name} "
                    f"(updated {store.manifest.get('updated_at', '?')}), instead. {REPAIR_HINT}"
                )
                return store
            no_fallback = "and no intact earlier snapshot is left"
            raise IndexCorruptError(f"{index_dir}: {exc}, {no_fallback}; {REBUILD_HINT}") from exc

    @classmethod
    def _open_folder(cls, folder: Path, model_sha256: str | None, dimension: int | None) -> IndexStore:
        manifest = read_manifest(folder)
        _check_manifest(manifest, folder, model_sha256, dimension)
        problems = damage(folder, manifest)
        if problems:
            raise IndexCorruptError(problems[0])
        return cls(folder, manifest)

    def _check_consistent(self) -> None:
        counts = {
            "sentences": self.db.execute("SELECT COUNT(*) FROM sentences").fetchone()[0],
            "chunks": self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0],
            "articles": self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0],
        }
        checks = [
            ("sentences", counts["sentences"], self.sentence_index.ntotal),
            ("chunks", counts["chunks"], self.chunk_index.ntotal),
            ("chunks", counts["chunks"], self.lexical.num_docs if counts["chunks"] else 0),
            ("sentences", counts["sentences"], len(self.sentence_vectors)),
        ]
        for what, expected, actual in [*checks, *((k, self.manifest[k], v) for k, v in counts.items())]:
            if expected != actual:
                raise IndexCorruptError(f"{self.folder.name}: {what} count {actual} does not match {expected}")

    def close(self) -> None:
        self.db.close()

    # --- counts and metadata -------------------------------------------------------------------
    @property
    def n_articles(self) -> int:
        return int(self.manifest["articles"])

    @property
    def n_sentences(self) -> int:
        return int(self.manifest["sentences"])

    @property
    def n_chunks(self) -> int:
        return int(self.manifest["chunks"])

    def articles(self) -> list[Article]:
        """Every article, in ingest order."""
        return [self._article(r) for r in self.db.execute("SELECT * FROM articles ORDER BY position")]

    def article(self, article_id: str) -> Article | None:
        row = self.db.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        return self._article(row) if row else None

    def titles(self, article_ids: Collection[str]) -> dict[str, str]:
        """Article id → title, for the ids given (unknown ids are left out)."""
        ids = list(article_ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        return {
            r["id"]: r["title"] for r in self.db.execute(f"SELECT id, title FROM articles WHERE id IN ({marks})", ids)
        }

    def article_dates(self, article_ids: Collection[str]) -> dict[str, str | None]:
        """Article id → its ISO date (None when undated), for the ids given."""
        ids = list(article_ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        return dict(self.db.execute(f"SELECT id, date FROM articles WHERE id IN ({marks})", ids))

    @staticmethod
    def _article(row: sqlite3.Row) -> Article:
        return Article(
            id=row["id"], title=row["title"], text=row["text"], source=row["source"], date=row["date"],
            url=row["url"], author=row["author"], origin=row["origin"], content_hash=row["content_hash"],
        )  # fmt: skip

    def article_rows(self) -> Iterator[sqlite3.Row]:
        """Raw article rows with their sentence/chunk row ranges (for rebuilding snapshots)."""
        yield from self.db.execute("SELECT * FROM articles ORDER BY position")

    def sentences(self, rows: Sequence[int]) -> list[sqlite3.Row]:
        """Sentence rows (row, article_id, number, start, end, text, chunk_row), in the order asked."""
        if not rows:
            return []
        marks = ",".join("?" * len(rows))
        found = {r["row"]: r for r in self.db.execute(f"SELECT * FROM sentences WHERE row IN ({marks})", list(rows))}
        return [found[r] for r in rows if r in found]

    def article_times(self, article_ids: Collection[str]) -> dict[str, dict[int, list[TimeMention]]]:
        """Each article's resolved time expressions by sentence number (`TITLE` for the title; offsets into that
        sentence or the title). Articles without any, and every article of an index made before times were
        stored, are left out."""
        ids = list(article_ids)
        if not ids or not self._has_times:
            return {}
        marks = ",".join("?" * len(ids))
        found: dict[str, dict[int, list[TimeMention]]] = {}
        columns = 'article_id, sentence, start, "end", text, first, last, period'
        query = f"SELECT {columns} FROM times WHERE article_id IN ({marks})"
        for article_id, number, start, end, text, first, last, period in self.db.execute(query, ids):
            mention = TimeMention(start, end, text, date.fromisoformat(first), date.fromisoformat(last), period)
            found.setdefault(article_id, {}).setdefault(number, []).append(mention)
        return found

    def chunk_rows_in_time(
        self, dated: tuple[str, str], told: tuple[str, str] | None, *, relative_only: bool = False
    ) -> np.ndarray:
        """Chunk rows of the articles dated within `dated` (inclusive ISO dates), and, with `told`, of the
        articles whose text or title names a time overlapping it (with `relative_only`, in words that do not
        say its year: "in January" in an article of March, not "in January 1987")."""
        query = "SELECT c.row FROM chunks c JOIN articles a ON a.id = c.article_id WHERE a.date BETWEEN ? AND ?"
        params: list[str | int] = list(dated)
        if told is not None and self._has_times:
            query += (
                " OR c.article_id IN (SELECT article_id FROM times WHERE first <= ? AND last >= ?"
                " AND (? = 0 OR instr(text, substr(first, 1, 4)) = 0))"
            )
            params += [told[1], told[0], int(relative_only)]
        return np.array(sorted(r for (r,) in self.db.execute(query, params)), dtype=np.int64)

    @cached_property
    def _has_times(self) -> bool:
        query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'times'"
        return self.db.execute(query).fetchone() is not None

    def article_sentences(self, article_id: str) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT * FROM sentences WHERE article_id = ? ORDER BY number", (article_id,)))

    def chunk_sentence_rows(self, chunk_rows: Sequence[int]) -> dict[int, list[int]]:
        """Sentence rows of each chunk row."""
        if not chunk_rows:
            return {}
        marks = ",".join("?" * len(chunk_rows))
        query = (
            "SELECT c.row AS chunk, s.row AS sentence FROM chunks c JOIN sentences s "
            "ON s.article_id = c.article_id AND s.number BETWEEN c.first_sentence AND c.last_sentence "
            f"WHERE c.row IN ({marks}) ORDER BY c.row, s.number"
        )
        result: dict[int, list[int]] = {r: [] for r in chunk_rows}
        for chunk, sentence in self.db.execute(query, list(chunk_rows)):
            result[chunk].append(sentence)
        return result

    def chunk_articles(self, chunk_rows: Sequence[int]) -> dict[int, str]:
        if not chunk_rows:
            return {}
        marks = ",".join("?" * len(chunk_rows))
        return dict(self.db.execute(f"SELECT row, article_id FROM chunks WHERE row IN ({marks})", list(chunk_rows)))

    def sources(self) -> list[tuple[str, int]]:
        """Each source with its article count, most articles first."""
        query = "SELECT COALESCE(source, ''), COUNT(*) FROM articles GROUP BY 1 ORDER BY 2 DESC, 1"
        return [(s, n) for s, n in self.db.execute(query)]

    def date_range(self) -> tuple[str | None, str | None]:
        row = self.db.execute("SELECT MIN(date), MAX(date) FROM articles WHERE date IS NOT NULL").fetchone()
        return row[0], row[1]

    def allowed_chunk_rows(
        self, sources: Sequence[str] | None, date_from: str | None, date_to: str | None
    ) -> np.ndarray | None:
        """Chunk rows whose article passes the filter, or None when nothing is filtered."""
        if not sources and not date_from and not date_to:
            return None
        clauses: list[str] = []
        params: list[str] = []
        if sources:
            clauses.append(f"COALESCE(a.source, '') IN ({','.join('?' * len(sources))})")
            params.extend(sources)
        if date_from:
            clauses.append("a.date >= ?")
            params.append(date_from)
        if date_to:
            clauses.append("a.date <= ?")
            params.append(date_to)
        query = f"SELECT c.row FROM chunks c JOIN articles a ON a.id = c.article_id WHERE {' AND '.join(clauses)}"
        return np.array([r for (r,) in self.db.execute(query, params)], dtype=np.int64)

    # --- search ----------------------------------------------------------------------------------
    def search_chunks(self, vector: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Nearest chunks by cosine similarity: (chunk row, similarity), best first."""
        return _search(self.chunk_index, self.chunk_vectors, vector, k, allowed)

    def search_sentences(
        self, vector: np.ndarray, k: int, allowed_sentences: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        return _search(self.sentence_index, self.sentence_vectors, vector, k, allowed_sentences)

    def sentence_rows_of_chunks(self, chunk_rows: np.ndarray) -> np.ndarray:
        rows = self.chunk_sentence_rows([int(r) for r in chunk_rows])
        return np.array(sorted({s for v in rows.values() for s in v}), dtype=np.int64)


def _search(
    index: faiss.Index, vectors: np.ndarray, query: np.ndarray, k: int, allowed: np.ndarray | None
) -> list[tuple[int, float]]:
    if index.ntotal == 0 or k <= 0:
        return []
    query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
    if allowed is not None:
        # A filtered search scores only the allowed rows exactly; the filter is rarely wide and large.
        if len(allowed) == 0:
            return []
        scores = np.asarray(vectors[allowed]) @ query[0]
        top = np.argsort(-scores)[:k]
        return [(int(allowed[i]), float(scores[i])) for i in top]
    scores, ids = index.search(query, min(k, index.ntotal))
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]


def _check_manifest(manifest: dict, folder: Path, model_sha256: str | None, dimension: int | None) -> None:
    hint = "re-ingest the corpus into a new index (qa ingest --rebuild PATH)"
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"{folder}: index format version {version}, this program reads version {FORMAT_VERSION}; {hint}"
        )
    if model_sha256 and manifest.get("model_sha256") != model_sha256:
        raise IndexMismatchError(
            f"{folder}: built with model weights {str(manifest.get('model_sha256'))[:12]}…, "
            f"but the loaded model is {model_sha256[:12]}…; {hint}"
        )
    if dimension and manifest.get("dimension") != dimension:
        raise IndexMismatchError(
            f"{folder}: vectors have dimension {manifest.get('dimension')}, the model gives {dimension}; {hint}"
        )
