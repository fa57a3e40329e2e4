"""Ingest: files → cleaned articles → sentences and chunks → embeddings → the configured store's writer.

One bad input is reported with its file and line and skipped; the rest goes in. Re-ingesting an unchanged
article does nothing; a changed one replaces its old version. The input is read as a stream and handed to the
store's writer (`index.storage.StoreWriter`) in batches of `Settings.segment_sentences` sentences, so memory
does not grow with the archive; the same ingest writes to either backend. Every token goes through the encoder
once: each chunk is encoded, and its sentences' vectors are read from the same pass (see `Ingestor._encode`).
What readers see changes when the writer commits (see each backend), and embedded batches are kept on disk until
then (`index.pending`), so an ingest that crashed resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from index.chunks import make_chunks
from index.dates import time_mentions
from index.encoder import Encoder, stack_rows
from index.models import Article, IngestReport, Problem, Sentence
from index.pending import PendingVectors, text_key
from index.readers import RawArticle, read_inputs
from index.sentences import split_sentences
from index.settings import Settings
from index.storage import (
    IndexNotFoundError,
    ModelStamp,
    PreparedArticle,
    StoreReader,
    StoreWriter,
    model_stamp,
    needs_upgrade,
    open_admin,
    open_store,
    open_writer,
    upgradable_articles,
)

Progress = Callable[[float, str], None]


def content_hash(title: str, text: str) -> str:
    return hashlib.sha256(f"{title}\n\n{text}".encode()).hexdigest()


def split_article(article: Article) -> list[Sentence]:
    """The article's sentences, each carrying its offsets into `article.text`."""
    return [
        Sentence(article_id=article.id, number=i, start=s, end=e, text=article.text[s:e])
        for i, (s, e) in enumerate(split_sentences(article.text))
    ]


def add_times(item: PreparedArticle) -> None:
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


class _Run:
    """What one ingest has decided so far: the articles it has taken in (id → metadata, text left out), those it
    removed or replaced that the index held before it (read through `reader`, the view from before the run),
    and lookups by file and URL for the articles it took in."""

    def __init__(self, reader: StoreReader | None, writer: StoreWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.gone: set[str] = set()
        self.taken: dict[str, Article] = {}
        self.by_origin: dict[str, str] = {}
        self.by_url: dict[str, str] = {}

    def known(self, article_id: str) -> Article | None:
        """The live article `article_id`'s metadata (text left out), or None."""
        if article_id in self.taken:
            return self.taken[article_id]
        if self.reader is None or article_id in self.gone:
            return None
        found = self.reader.articles([article_id], text=False)
        return found[0] if found else None

    def lookup(self, column: str, value: str) -> str | None:
        """The id of a live article read from the same file (column "origin") or URL, or None."""
        mine = (self.by_origin if column == "origin" else self.by_url).get(value)
        if mine is not None and mine in self.taken:
            return mine
        if self.reader is None:
            return None
        found = self.reader.find_articles(url=value) if column == "url" else self.reader.find_articles(origin=value)
        for article in found:
            if article.id not in self.gone and article.id not in self.taken:
                return article.id
        return None

    def delete(self, article_id: str, batch: list[PreparedArticle]) -> bool:
        """Remove the live article `article_id` wherever it is (the unwritten batch, or the store); False when
        there is none."""
        if self.known(article_id) is None:
            return False
        batch[:] = [item for item in batch if item.article.id != article_id]
        self.writer.remove([article_id])
        self.gone.add(article_id)
        self.taken.pop(article_id, None)
        return True

    def take(self, item: PreparedArticle) -> None:
        article = item.article
        self.taken[article.id] = article.model_copy(update={"text": ""})
        self.by_origin[article.origin] = article.id
        if article.url:
            self.by_url[article.url] = article.id


class Ingestor:
    """Applies additions and removals to the configured store through one `StoreWriter`: articles are prepared
    (split, chunked, their time expressions found) as the input is read, embedded on a worker thread, and handed
    to the writer in batches of `Settings.segment_sentences` sentences, so memory stays bounded; `commit()`
    publishes the result."""

    batch_chunks = 128  # chunks embedded (and saved to `index.pending`) per part

    def __init__(self, encoder: Encoder, settings: Settings | None = None) -> None:
        self.encoder = encoder
        self.settings = settings or Settings()

    def _settings_for(self, index_dir: Path | None) -> Settings:
        if index_dir is None or Path(index_dir) == self.settings.index_dir:
            return self.settings
        return self.settings.model_copy(update={"index_dir": Path(index_dir)})

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
            self._settings_for(index_dir),
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
        rebuild: bool = False,
        show_progress: bool = False,
    ) -> IngestReport:
        """Ingest already-read records (e.g. benchmark paragraphs) through the same path as files."""
        return self._apply(
            records, self._settings_for(index_dir), removals=(), rebuild=rebuild, show_progress=show_progress
        )

    def remove(self, article_ids: Sequence[str], index_dir: Path | None = None) -> IngestReport:
        """Remove articles by id; unknown ids are reported as problems."""
        return self._apply([], self._settings_for(index_dir), removals=article_ids, show_progress=False)

    def upgrade(self, index_dir: Path | None = None, *, show_progress: bool = True) -> IngestReport:
        """Rebuild an index of an older format from the articles it stores (ids, text and metadata kept), in
        the current format; the old snapshot is kept as the previous one until pruned."""
        settings = self._settings_for(index_dir)
        records = upgradable_articles(settings)
        return self._apply(records, settings, removals=(), rebuild=True, show_progress=show_progress)

    def needs_upgrade(self, index_dir: Path | None = None) -> bool:
        """Whether the index is of an older format that `upgrade` re-embeds."""
        return needs_upgrade(self._settings_for(index_dir))

    def compact(self, index_dir: Path | None = None) -> int:
        """Reclaim the space of deleted articles (the local store merges every segment into one); returns how
        many parts were rewritten."""
        return open_admin(self._settings_for(index_dir), model_stamp(self.encoder)).compact()

    def _apply(
        self,
        records: Iterable[RawArticle | Problem],
        settings: Settings,
        *,
        removals: Sequence[str],
        rebuild: bool = False,
        show_progress: bool = True,
        on_progress: Progress | None = None,
    ) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        notify = on_progress or (lambda fraction, message: None)
        model = model_stamp(self.encoder)
        encoder = self.encoder
        cache = PendingVectors(settings.index_dir, encoder.weights_sha256, encoder.dimension, encoder.kind)
        with open_writer(settings, model, rebuild=rebuild) as writer, _Embedder(self, cache) as embedder:
            reader = None if rebuild else _open_reader(settings, model)
            try:
                run = _Run(reader, writer)
                changed = rebuild
                batch: list[PreparedArticle] = []
                for article_id in removals:
                    if run.delete(article_id, batch):
                        report.updated.append(article_id)
                        changed = True
                    else:
                        report.problems.append(Problem(path=article_id, reason="no article with this id in the index"))
                notify(0.0, "reading files")
                gathered = 0
                for record in tqdm(records, desc="ingesting", unit=" article", disable=not show_progress):
                    if isinstance(record, Problem):
                        report.problems.append(record)
                        continue
                    try:
                        outcome, item = self._prepare(record, run, batch)
                    except Exception as exc:  # one broken article must never stop the ingest
                        report.problems.append(Problem(path=record.origin, reason=f"could not process: {exc}"))
                        continue
                    if isinstance(outcome, Problem):
                        report.problems.append(outcome)
                        continue
                    getattr(report, outcome).append(item.article.id)
                    if outcome == "unchanged":
                        continue
                    add_times(item)
                    run.take(item)
                    batch.append(item)
                    embedder.add(item)
                    gathered += len(item.sentences)
                    changed = True
                    if gathered >= self.settings.segment_sentences:
                        self._write(batch, writer, embedder, notify)
                        batch, gathered = [], 0
                if batch:
                    self._write(batch, writer, embedder, notify)
            finally:
                if reader is not None:
                    reader.close()
            if changed:
                notify(0.95, "writing the index")
                writer.commit()
                cache.clear()
        notify(1.0, "done")
        report.seconds = time.perf_counter() - started
        return report

    def _write(self, batch: list[PreparedArticle], writer: StoreWriter, embedder: _Embedder, notify: Progress) -> None:
        """Wait for `batch`'s vectors and hand it to the writer."""
        notify(0.5, f"embedding: {embedder.submitted:,} chunks read so far")
        embedder.finish()
        writer.add(batch)

    def _prepare(
        self, raw: RawArticle, run: _Run, batch: list[PreparedArticle]
    ) -> tuple[str | Problem, PreparedArticle]:
        article = to_article(raw)
        sentences = split_article(article)
        if not sentences:
            return Problem(path=raw.origin, reason="no text left after clean-up"), None  # type: ignore[return-value]
        chunks = make_chunks(
            article.id, article.text, sentences, self.encoder.count_tokens, self.settings.chunk_max_tokens
        )
        item = PreparedArticle(article, sentences, chunks, _empty(self.encoder), _empty(self.encoder))
        same = run.known(article.id)
        if same is not None:
            if same.content_hash == article.content_hash and _same_metadata(same, article):
                return "unchanged", item
            run.delete(article.id, batch)
            return "updated", item
        # Without an id from the input, the same file (or URL) with new content is a new version.
        old = (run.lookup("url", article.url) if article.url else None) or (
            run.lookup("origin", article.origin) if raw.id is None else None
        )
        if old is not None:
            run.delete(old, batch)
            return "updated", item
        return "added", item

    def _encode(self, batch: list[PreparedArticle], cache: PendingVectors, resumed: dict[bytes, np.ndarray]) -> None:
        """Embed `batch` in one encoder pass per token: each chunk is encoded once, giving the chunk's vector and
        its sentences' (their tokens read in the chunk's context; `Encoder.encode_passages`). Chunks an
        interrupted run already embedded are taken from `resumed`; every new part is saved to `cache` before the
        next one starts."""
        jobs = []  # (item, key, text, spans)
        for item in batch:
            for chunk in item.chunks:
                spans = [
                    (s.start - chunk.start, s.end - chunk.start)
                    for s in item.sentences[chunk.first_sentence : chunk.last_sentence + 1]
                ]
                jobs.append((item, text_key(chunk.text, spans), chunk.text, spans))
        known = {key: resumed[key] for _, key, _, _ in jobs if key in resumed}
        todo = list({key: (text, spans) for _, key, text, spans in jobs if key not in known}.items())
        for start in range(0, len(todo), self.batch_chunks):
            part = todo[start : start + self.batch_chunks]
            encoded = self.encoder.encode_passages([t for _, (t, _) in part], [p for _, (_, p) in part])
            blocks = [np.vstack([whole[None, :], sentences]) for whole, sentences in encoded]
            cache.save([k for k, _ in part], blocks)
            known.update(zip((k for k, _ in part), blocks, strict=True))
        by_item: dict[str, list[np.ndarray]] = {}
        for item, key, _, _ in jobs:
            by_item.setdefault(item.article.id, []).append(known[key])
        for item in batch:
            blocks = by_item.get(item.article.id, [])
            item.chunk_vectors = stack_rows([b[:1] for b in blocks], self.encoder.dimension)
            item.sentence_vectors = stack_rows([b[1:] for b in blocks], self.encoder.dimension)


class _Embedder:
    """Embeds an ingest's articles on one worker thread, a part of `Ingestor.batch_chunks` chunks at a time,
    while the reading thread prepares the next articles (sentence splitting, chunking and time expressions are
    Python; onnxruntime releases the interpreter while it runs, so the two overlap)."""

    def __init__(self, ingestor: Ingestor, cache: PendingVectors) -> None:
        self.ingestor = ingestor
        self.cache = cache
        self.resumed: dict[bytes, np.ndarray] = {}
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed")
        self.futures: list[Future[None]] = []
        self.part: list[PreparedArticle] = []
        self.chunks = 0
        self.submitted = 0

    def add(self, item: PreparedArticle) -> None:
        self.part.append(item)
        self.chunks += len(item.chunks)
        if self.chunks >= self.ingestor.batch_chunks:
            self._submit()

    def _submit(self) -> None:
        if self.part:
            self.futures.append(self.worker.submit(self.ingestor._encode, self.part, self.cache, self.resumed))
            self.submitted += self.chunks
            self.part, self.chunks = [], 0

    def finish(self) -> None:
        """Wait until every article added so far has its vectors (raising what the encoder raised)."""
        self._submit()
        futures, self.futures = self.futures, []
        for future in futures:
            future.result()

    def __enter__(self) -> _Embedder:
        self.resumed = self.cache.load()  # what an interrupted run already embedded
        return self

    def __exit__(self, *exc: object) -> None:
        self.worker.shutdown(wait=True, cancel_futures=True)


def _open_reader(settings: Settings, model: ModelStamp) -> StoreReader | None:
    """The index as it is before this ingest (None when there is none yet)."""
    try:
        return open_store(settings, model)
    except IndexNotFoundError:
        return None


def _empty(encoder: Encoder) -> np.ndarray:
    return np.zeros((0, encoder.dimension), dtype=np.float32)


def _same_metadata(a: Article, b: Article) -> bool:
    return (a.title, a.source, a.date, a.url, a.author) == (b.title, b.source, b.date, b.url, b.author)
