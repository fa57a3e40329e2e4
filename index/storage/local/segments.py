"""Segments: the immutable parts an index is made of.

An ingest writes the articles it adds as one or more new segments and never touches the old ones; a snapshot's
manifest (see `snapshots`) lists the segments that make up the index, and for each one the articles deleted from it
since (tombstones). Merging rewrites a few segments as one, without their deleted articles.

    segments/seg-000007/
        meta.sqlite          articles, sentences, chunks and time expressions (rows numbered from 0)
        sentence_vectors.npy / chunk_vectors.npy   float16, memory-mapped
        sentences.faiss / chunks.faiss             exact (fp16 scalar quantiser), or HNSW above a size
        bm25/                postings: terms.json, indptr/docs/counts/lengths.npy (postings.Postings)

A segment is written under a temporary name, fsynced and renamed into place, so one is whole or absent.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from collections.abc import Collection, Iterator, Sequence
from datetime import date
from pathlib import Path

import faiss
import numpy as np

from index.encoder import sha256_of, stack_rows
from index.models import ARTICLE_COLUMNS, Article, Chunk, IndexMismatchError, IndexStoreError, Sentence
from index.storage.api import TITLE, PreparedArticle
from index.storage.local.postings import Postings
from index.text.dates import TimeMention
from index.text.tokenize import tokenize

SEGMENTS = "segments"
SEGMENT_PREFIX = "seg-"
VECTOR_DTYPE = np.float16
_ROWS = "SELECT * FROM {table} WHERE row >= ? AND row < ? ORDER BY row"
_ARTICLE_ROW = (*ARTICLE_COLUMNS, "position", "first_sentence_row", "n_sentences", "first_chunk_row", "n_chunks")
_INSERT_ARTICLE = f"INSERT INTO articles ({', '.join(_ARTICLE_ROW)}) VALUES ({', '.join('?' * len(_ARTICLE_ROW))})"

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
CREATE INDEX chunks_by_article ON chunks(article_id, number);
CREATE INDEX times_by_article ON times(article_id, sentence);
CREATE INDEX times_by_date ON times(first, last);
CREATE INDEX articles_by_date ON articles(date);
CREATE INDEX articles_by_url ON articles(url);
CREATE INDEX articles_by_origin ON articles(origin);
CREATE TABLE fields (article_id TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL);
CREATE INDEX fields_by_article ON fields(article_id);
CREATE INDEX fields_by_value ON fields(name, value);
"""


class IndexCorruptError(IndexMismatchError):
    """An index file is missing, truncated, unreadable or not what its manifest recorded."""


@contextlib.contextmanager
def reading(where: str) -> Iterator[None]:
    """Turn a raw error from reading one index file (sqlite, FAISS, numpy, JSON) into IndexCorruptError."""
    try:
        yield
    except IndexStoreError:
        raise
    except (sqlite3.Error, RuntimeError, ValueError, TypeError, OSError, KeyError, EOFError, IndexError) as exc:
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise IndexCorruptError(f"{where} cannot be read ({reason})") from exc


def fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    fsync_dir(folder)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_records(folder: Path) -> dict[str, dict[str, int | str]]:
    """Size and sha256 of every file in a folder, by path relative to it."""
    return {
        path.relative_to(folder).as_posix(): {"bytes": path.stat().st_size, "sha256": sha256_of(path)}
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def dense_index_for(vectors: np.ndarray, approximate_above: int) -> tuple[faiss.Index, str]:
    """Exact inner-product search over float16 codes for small segments, HNSW beyond `approximate_above` rows."""
    dim = vectors.shape[1]
    fp16 = faiss.ScalarQuantizer.QT_fp16
    index: faiss.Index
    if len(vectors) > approximate_above:
        index = faiss.IndexHNSWSQ(dim, fp16, 32, faiss.METRIC_INNER_PRODUCT)  # type: ignore[arg-type]
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 128
        kind = "hnsw"
    else:
        index = faiss.IndexScalarQuantizer(dim, fp16, faiss.METRIC_INNER_PRODUCT)
        kind = "flat"
    if len(vectors):
        data = np.ascontiguousarray(vectors, dtype=np.float32)
        index.train(data)
        index.add(data)
    return index, kind


def segment_number(name: str) -> int | None:
    suffix = name.removeprefix(".").removesuffix(".tmp")[len(SEGMENT_PREFIX) :]
    return int(suffix) if suffix.isdigit() else None


def write_segment(
    index_dir: Path, articles: Sequence[PreparedArticle], *, dimension: int, approximate_above: int
) -> dict:
    """Write `articles` as a new segment of `index_dir`; returns its manifest entry (name, counts, dense index
    kinds and the size and sha256 of each file). Call under the writer lock."""
    root = index_dir / SEGMENTS
    root.mkdir(parents=True, exist_ok=True)
    # Number above every segment folder, finished or not, so a dead writer's leftovers are never collided with.
    numbers = [segment_number(p.name) for p in root.iterdir()]
    name = f"{SEGMENT_PREFIX}{max([0, *(n for n in numbers if n is not None)]) + 1:06d}"
    tmp = root / f".{name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()

    sentence_vectors = stack_rows([a.sentence_vectors for a in articles], dimension)
    chunk_vectors = stack_rows([a.chunk_vectors for a in articles], dimension)
    n_sentences = sum(len(a.sentences) for a in articles)
    n_chunks = sum(len(a.chunks) for a in articles)
    if len(sentence_vectors) != n_sentences or len(chunk_vectors) != n_chunks:
        raise IndexStoreError("vectors and sentences are out of step; nothing was written")

    _write_sqlite(tmp / "meta.sqlite", articles)
    np.save(tmp / "sentence_vectors.npy", sentence_vectors.astype(VECTOR_DTYPE), allow_pickle=False)
    np.save(tmp / "chunk_vectors.npy", chunk_vectors.astype(VECTOR_DTYPE), allow_pickle=False)
    chunk_index, chunk_kind = dense_index_for(chunk_vectors, approximate_above)
    sentence_index, sentence_kind = dense_index_for(sentence_vectors, approximate_above)
    faiss.write_index(chunk_index, str(tmp / "chunks.faiss"))
    faiss.write_index(sentence_index, str(tmp / "sentences.faiss"))
    Postings.build([tokenize(c.text) for a in articles for c in a.chunks]).save(tmp / "bm25")
    entry = {
        "name": name,
        "articles": len(articles),
        "sentences": n_sentences,
        "chunks": n_chunks,
        "dense_index": {"chunks": chunk_kind, "sentences": sentence_kind},
        "files": file_records(tmp),
    }
    fsync_tree(tmp)
    os.replace(tmp, root / name)
    fsync_dir(root)
    return entry


def rows_of(index_dir: Path, segment: str, article_ids: Collection[str]) -> tuple[int, int]:
    """How many sentence and chunk rows the articles `article_ids` hold in the segment `segment`."""
    ids = sorted(article_ids)
    db = sqlite3.connect(f"file:{index_dir / SEGMENTS / segment / 'meta.sqlite'}?mode=ro", uri=True)
    try:
        sentences = chunks = 0
        for start in range(0, len(ids), 900):
            part = ids[start : start + 900]
            sums = "COALESCE(SUM(n_sentences), 0), COALESCE(SUM(n_chunks), 0)"
            query = f"SELECT {sums} FROM articles WHERE id IN ({','.join('?' * len(part))})"
            found_sentences, found_chunks = db.execute(query, part).fetchone()
            sentences, chunks = sentences + found_sentences, chunks + found_chunks
        return sentences, chunks
    finally:
        db.close()


def _write_sqlite(path: Path, articles: Sequence[PreparedArticle]) -> None:
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA journal_mode = OFF")  # a fresh file under a temporary name: nothing to roll back to
        db.execute("PRAGMA synchronous = OFF")  # the whole folder is fsynced before it is renamed into place
        db.executescript(_SCHEMA)
        sentence_row = 0
        chunk_row = 0
        for position, item in enumerate(articles):
            a = item.article
            db.execute(
                _INSERT_ARTICLE,
                (*(getattr(a, name) for name in ARTICLE_COLUMNS), position, sentence_row, len(item.sentences),
                 chunk_row, len(item.chunks)),
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
            db.executemany("INSERT INTO fields VALUES (?,?,?)", [(a.id, k, v) for k, v in sorted(a.fields.items())])
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


def _read_faiss(path: Path) -> faiss.Index:
    # Memory-mapped, so a large index loads without copying into RAM.
    try:
        return faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
    except RuntimeError:
        return faiss.read_index(str(path))


def as_article(row: sqlite3.Row, fields: dict[str, str] | None = None) -> Article:
    return Article(**{name: row[name] for name in ARTICLE_COLUMNS}, fields=fields or {})


class Segment:
    """One loaded segment: its rows are numbered from `sentence_offset` / `chunk_offset` in the whole index, and
    the articles of `deleted` (tombstones from the manifest) are never returned."""

    def __init__(self, index_dir: Path, entry: dict, sentence_offset: int, chunk_offset: int) -> None:
        self.entry = entry
        self.name: str = entry["name"]
        self.folder = index_dir / SEGMENTS / self.name
        self.sentence_offset = sentence_offset
        self.chunk_offset = chunk_offset
        self.deleted: frozenset[str] = frozenset(entry.get("deleted") or ())
        folder = self.folder
        with reading(f"{self.name}/meta.sqlite"):
            self.db = sqlite3.connect(f"file:{folder / 'meta.sqlite'}?mode=ro", uri=True, check_same_thread=False)
            self.db.row_factory = sqlite3.Row
            self.db.execute("SELECT COUNT(*) FROM articles").fetchone()
        try:
            with reading(f"{self.name}/chunks.faiss"):
                self.chunk_index = _read_faiss(folder / "chunks.faiss")
            with reading(f"{self.name}/sentences.faiss"):
                self.sentence_index = _read_faiss(folder / "sentences.faiss")
            with reading(f"{self.name}/sentence_vectors.npy"):
                self.sentence_vectors = np.load(folder / "sentence_vectors.npy", mmap_mode="r")
            with reading(f"{self.name}/chunk_vectors.npy"):
                self.chunk_vectors = np.load(folder / "chunk_vectors.npy", mmap_mode="r")
            with reading(f"{self.name}/bm25"):
                self.postings = Postings.load(folder / "bm25")
            with reading(f"{self.name}/meta.sqlite"):
                # Segments written before articles kept their metadata fields have no such table: no fields.
                query = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'fields'"
                self.has_fields = bool(self.db.execute(query).fetchone()[0])
                self._check_consistent()
                self.dead_sentences, self.dead_chunks = self._dead_rows()
        except BaseException:
            self.db.close()
            raise

    def _check_consistent(self) -> None:
        counts = {
            t: self.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("articles", "sentences", "chunks")
        }
        checks = [
            ("sentences", self.sentence_index.ntotal),
            ("chunks", self.chunk_index.ntotal),
            ("chunks", self.postings.num_docs),
            ("sentences", len(self.sentence_vectors)),
            ("chunks", len(self.chunk_vectors)),
            *((k, self.entry.get(k)) for k in counts),
        ]
        for what, actual in checks:
            if counts[what] != actual:
                raise IndexCorruptError(f"{self.name}: {what} count {actual} does not match {counts[what]}")

    def _dead_rows(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.deleted:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        ids = sorted(self.deleted)
        marks = ",".join("?" * len(ids))
        sentences = [r for (r,) in self.db.execute(f"SELECT row FROM sentences WHERE article_id IN ({marks})", ids)]
        chunks = [r for (r,) in self.db.execute(f"SELECT row FROM chunks WHERE article_id IN ({marks})", ids)]
        return np.array(sorted(sentences), dtype=np.int64), np.array(sorted(chunks), dtype=np.int64)

    def close(self) -> None:
        self.db.close()

    @property
    def live_articles(self) -> int:
        return int(self.entry["articles"]) - len(self.deleted)

    def alive(self, article_id: str) -> bool:
        return article_id not in self.deleted

    def fields_of(self, article_ids: Collection[str]) -> dict[str, dict[str, str]]:
        """Each article's metadata fields (articles without any are left out)."""
        found: dict[str, dict[str, str]] = {}
        ids = list(dict.fromkeys(article_ids))
        if not self.has_fields:
            return found
        for start in range(0, len(ids), 900):
            part = ids[start : start + 900]
            query = f"SELECT article_id, name, value FROM fields WHERE article_id IN ({','.join('?' * len(part))})"
            for article_id, name, value in self.db.execute(query, part):
                found.setdefault(article_id, {})[name] = value
        return found

    def to_articles(self, rows: Sequence[sqlite3.Row]) -> list[Article]:
        """Article rows of this segment as articles, with their metadata fields."""
        fields = self.fields_of([r["id"] for r in rows])
        return [as_article(r, fields.get(r["id"])) for r in rows]

    def indexed_articles(self) -> Iterator[PreparedArticle]:
        """Every live article with its sentences, chunks, times and vectors (for merging segments)."""
        times: dict[str, dict[int, list[TimeMention]]] = {}
        for article_id, number, start, end, text, first, last, period in self.db.execute(
            'SELECT article_id, sentence, start, "end", text, first, last, period FROM times'
        ):
            mention = TimeMention(start, end, text, date.fromisoformat(first), date.fromisoformat(last), period)
            times.setdefault(article_id, {}).setdefault(number, []).append(mention)
        rows = self.db.execute("SELECT * FROM articles ORDER BY position").fetchall()
        fields = self.fields_of([r["id"] for r in rows])
        for row in rows:
            article = as_article(row, fields.get(row["id"]))
            if not self.alive(article.id):
                continue
            s0, ns, c0, nc = row["first_sentence_row"], row["n_sentences"], row["first_chunk_row"], row["n_chunks"]
            mine = times.get(article.id, {})
            sentences = [
                Sentence(article_id=article.id, number=r["number"], start=r["start"], end=r["end"], text=r["text"],
                         times=mine.get(r["number"], []))
                for r in self.db.execute(_ROWS.format(table="sentences"), (s0, s0 + ns))
            ]  # fmt: skip
            chunks = [
                Chunk(article_id=article.id, number=r["number"], first_sentence=r["first_sentence"],
                      last_sentence=r["last_sentence"], start=r["start"], end=r["end"],
                      text=article.text[r["start"] : r["end"]])
                for r in self.db.execute(_ROWS.format(table="chunks"), (c0, c0 + nc))
            ]  # fmt: skip
            yield PreparedArticle(
                article=article,
                sentences=sentences,
                chunks=chunks,
                sentence_vectors=np.asarray(self.sentence_vectors[s0 : s0 + ns], dtype=np.float32),
                chunk_vectors=np.asarray(self.chunk_vectors[c0 : c0 + nc], dtype=np.float32),
                title_times=mine.get(TITLE, []),
            )
