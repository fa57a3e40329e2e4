"""Ingest: files → cleaned articles → sentences and chunks → embeddings → a new index snapshot.

One bad input is reported with its file and line and skipped; the rest goes in. Re-ingesting an unchanged
article does nothing; a changed one replaces its old version. Nothing is visible to readers until the new
snapshot is complete (see `index.store`), and embedded batches are kept on disk until then (`index.pending`),
so an ingest that crashed resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from index.chunks import make_chunks
from index.dates import time_mentions
from index.encoder import Encoder
from index.models import Article, Chunk, IngestReport, Problem, Sentence
from index.pending import PendingVectors, text_key
from index.readers import RawArticle, read_inputs
from index.sentences import split_sentences
from index.settings import Settings
from index.store import TITLE, IndexedArticle, IndexStore, live_name, write_snapshot, writer_lock

Progress = Callable[[float, str], None]


def content_hash(title: str, text: str) -> str:
    return hashlib.sha256(f"{title}\n\n{text}".encode()).hexdigest()


def split_article(article: Article) -> list[Sentence]:
    """The article's sentences, each carrying its offsets into `article.text`."""
    return [
        Sentence(article_id=article.id, number=i, start=s, end=e, text=article.text[s:e])
        for i, (s, e) in enumerate(split_sentences(article.text))
    ]


def add_times(item: IndexedArticle) -> None:
    """Find the time expressions of the article's title and sentences, resolved against its date (only those
    that name their year when it has none)."""
    reference = date.fromisoformat(item.article.date) if item.article.date else None
    item.title_times = time_mentions(item.article.title, reference)
    item.sentences = [s.model_copy(update={"times": time_mentions(s.text, reference)}) for s in item.sentences]


def to_article(raw: RawArticle) -> Article:
    """Give a read record its stable id: the input's own id, else a hash of its content."""
    digest = content_hash(raw.title, raw.text)
    return Article(
        id=raw.id or digest[:16],
        title=raw.title,
        text=raw.text,
        source=raw.source,
        date=raw.date,
        url=raw.url,
        author=raw.author,
        origin=raw.origin,
        content_hash=digest,
    )


def load_indexed(store: IndexStore) -> dict[str, IndexedArticle]:
    """Everything in a snapshot, as articles with their sentences, chunks and vectors (for a rewrite)."""
    result: dict[str, IndexedArticle] = {}
    for row in store.article_rows():
        article = IndexStore._article(row)
        s0, ns, c0, nc = (
            row["first_sentence_row"],
            row["n_sentences"],
            row["first_chunk_row"],
            row["n_chunks"],
        )
        rows = store.article_sentences(article.id)
        times = store.article_times([article.id]).get(article.id, {})
        sentences = [
            Sentence(
                article_id=article.id, number=r["number"], start=r["start"], end=r["end"], text=r["text"],
                times=times.get(r["number"], []),
            )
            for r in rows
        ]  # fmt: skip
        chunks = [
            Chunk(
                article_id=article.id, number=r["number"], first_sentence=r["first_sentence"],
                last_sentence=r["last_sentence"], start=r["start"], end=r["end"],
                text=article.text[r["start"] : r["end"]],
            )
            for r in store.db.execute("SELECT * FROM chunks WHERE article_id = ? ORDER BY number", (article.id,))
        ]  # fmt: skip
        result[article.id] = IndexedArticle(
            article=article,
            sentences=sentences,
            chunks=chunks,
            sentence_vectors=np.array(store.sentence_vectors[s0 : s0 + ns]),
            chunk_vectors=np.array(store.chunk_vectors[c0 : c0 + nc]),
            title_times=times.get(TITLE, []),
        )
    return result


class Ingestor:
    """Applies additions and removals to an index directory, producing one new snapshot per call."""

    batch_texts = 512  # texts embedded (and saved to `index.pending`) per batch

    def __init__(self, encoder: Encoder, settings: Settings | None = None) -> None:
        self.encoder = encoder
        self.settings = settings or Settings()

    def _existing(self, index_dir: Path, rebuild: bool) -> tuple[dict[str, IndexedArticle], str | None]:
        if rebuild or live_name(index_dir) is None:
            return {}, None
        # Never build on a damaged snapshot, nor silently on an older one: the error says how to repair.
        store = IndexStore.open(
            index_dir, model_sha256=self.encoder.weights_sha256, dimension=self.encoder.dimension, fallback=False
        )
        try:
            return load_indexed(store), store.manifest.get("created_at")
        finally:
            store.close()

    def ingest(
        self,
        paths: Sequence[Path],
        index_dir: Path | None = None,
        *,
        rebuild: bool = False,
        show_progress: bool = True,
        on_progress: Progress | None = None,
    ) -> IngestReport:
        """Read `paths` (files or folders) into the index at `index_dir`; returns what happened."""
        return self._apply(
            read_inputs(paths, self.settings.max_file_bytes),
            index_dir or self.settings.index_dir,
            removals=(),
            rebuild=rebuild,
            show_progress=show_progress,
            on_progress=on_progress,
        )

    def ingest_records(
        self,
        records: Iterable[RawArticle | Problem],
        index_dir: Path | None = None,
        *,
        show_progress: bool = False,
    ) -> IngestReport:
        """Ingest already-read records (e.g. benchmark paragraphs) through the same path as files."""
        return self._apply(
            records,
            index_dir or self.settings.index_dir,
            removals=(),
            rebuild=False,
            show_progress=show_progress,
        )

    def remove(self, article_ids: Sequence[str], index_dir: Path | None = None) -> IngestReport:
        """Remove articles by id; unknown ids are reported as problems."""
        return self._apply([], index_dir or self.settings.index_dir, removals=article_ids, show_progress=False)

    def _apply(
        self,
        records: Iterable[RawArticle | Problem],
        index_dir: Path,
        *,
        removals: Sequence[str],
        rebuild: bool = False,
        show_progress: bool = True,
        on_progress: Progress | None = None,
    ) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        notify = on_progress or (lambda fraction, message: None)
        with writer_lock(index_dir):
            existing, created_at = self._existing(index_dir, rebuild)
            changed = rebuild and live_name(index_dir) is not None
            for article_id in removals:
                if existing.pop(article_id, None) is None:
                    report.problems.append(Problem(path=article_id, reason="no article with this id in the index"))
                else:
                    report.updated.append(article_id)
                    changed = True
            by_origin = {a.article.origin: k for k, a in existing.items() if a.article.origin}
            by_url = {a.article.url: k for k, a in existing.items() if a.article.url}
            pending: list[IndexedArticle] = []
            notify(0.0, "reading files")
            for record in tqdm(records, desc="reading", unit=" article", disable=not show_progress):
                if isinstance(record, Problem):
                    report.problems.append(record)
                    continue
                try:
                    outcome, item = self._prepare(record, existing, by_origin, by_url)
                except Exception as exc:  # one broken article must never stop the ingest
                    report.problems.append(Problem(path=record.origin, reason=f"could not process: {exc}"))
                    continue
                if isinstance(outcome, Problem):
                    report.problems.append(outcome)
                    continue
                getattr(report, outcome).append(item.article.id)
                if outcome != "unchanged":
                    add_times(item)
                    existing[item.article.id] = item
                    pending.append(item)
                    by_origin[item.article.origin] = item.article.id
                    if item.article.url:
                        by_url[item.article.url] = item.article.id
                    changed = True
            if changed:
                cache = PendingVectors(index_dir, self.encoder.weights_sha256, self.encoder.dimension)
                self._encode(pending, cache, show_progress, notify)
                notify(0.95, "writing the index")
                write_snapshot(
                    index_dir,
                    list(existing.values()),
                    model_name=self.encoder.name,
                    model_sha256=self.encoder.weights_sha256,
                    dimension=self.encoder.dimension,
                    approximate_above=self.settings.approximate_above,
                    keep=self.settings.keep_snapshots,
                    created_at=created_at,
                )
                cache.clear()
        notify(1.0, "done")
        report.seconds = time.perf_counter() - started
        return report

    def _prepare(
        self,
        raw: RawArticle,
        existing: dict[str, IndexedArticle],
        by_origin: dict[str, str],
        by_url: dict[str, str],
    ) -> tuple[str | Problem, IndexedArticle]:
        article = to_article(raw)
        sentences = split_article(article)
        if not sentences:
            return Problem(path=raw.origin, reason="no text left after clean-up"), None  # type: ignore[return-value]
        chunks = make_chunks(
            article.id, article.text, sentences, self.encoder.count_tokens, self.settings.chunk_max_tokens
        )
        item = IndexedArticle(article, sentences, chunks, _empty(self.encoder), _empty(self.encoder))
        same = existing.get(article.id)
        if same is not None:
            if same.article.content_hash == article.content_hash and _same_metadata(same.article, article):
                return "unchanged", same
            return "updated", item
        # Without an id from the input, the same file (or URL) with new content is a new version.
        old = (by_url.get(article.url) if article.url else None) or (
            by_origin.get(article.origin) if raw.id is None else None
        )
        if old is not None and old in existing:
            del existing[old]
            return "updated", item
        return "added", item

    def _encode(
        self, pending: list[IndexedArticle], cache: PendingVectors, show_progress: bool, notify: Progress
    ) -> None:
        """Embed the sentences and chunks of `pending`: each distinct text once, batches an interrupted run
        already finished taken from `cache`, and every new batch saved there before the next one starts."""
        texts = [s.text for a in pending for s in a.sentences] + [c.text for a in pending for c in a.chunks]
        keys = [text_key(t) for t in texts]
        known = cache.load() if texts else {}
        distinct = dict(zip(keys, texts, strict=True))
        todo = [(k, t) for k, t in distinct.items() if k not in known]
        total, done = len(distinct), len(distinct) - len(todo)
        bar = tqdm(total=total, initial=done, desc="embedding", unit=" text", disable=not show_progress or not total)
        # Batches of a few hundred keep the progress callback moving on large ingests.
        for start in range(0, len(todo), self.batch_texts):
            notify(
                0.1 + 0.85 * (done + start) / max(total, 1),
                f"embedding {done + start}/{total} sentences and chunks",
            )
            batch = todo[start : start + self.batch_texts]
            vectors = self.encoder.encode([t for _, t in batch])
            cache.save([k for k, _ in batch], vectors)
            known.update(zip((k for k, _ in batch), vectors, strict=True))
            bar.update(len(batch))
        bar.close()
        offset = 0
        for item in pending:
            item.sentence_vectors = _rows(known, keys[offset : offset + len(item.sentences)], self.encoder)
            offset += len(item.sentences)
        for item in pending:
            item.chunk_vectors = _rows(known, keys[offset : offset + len(item.chunks)], self.encoder)
            offset += len(item.chunks)


def _rows(known: dict[bytes, np.ndarray], keys: Sequence[bytes], encoder: Encoder) -> np.ndarray:
    if not keys:
        return _empty(encoder)
    return np.ascontiguousarray(np.stack([known[k] for k in keys]), dtype=np.float32)


def _empty(encoder: Encoder) -> np.ndarray:
    return np.zeros((0, encoder.dimension), dtype=np.float32)


def _same_metadata(a: Article, b: Article) -> bool:
    return (a.title, a.source, a.date, a.url, a.author) == (b.title, b.source, b.date, b.url, b.author)
