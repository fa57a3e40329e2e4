"""Ingest: files → cleaned articles → sentences and chunks → embeddings → the configured store's writer.

One bad input is reported with its file and line and skipped; the rest goes in. Re-ingesting an unchanged
article does nothing; a changed one replaces its old version. The input is read as a stream and handed to the
store's writer (`index.storage.StoreWriter`) in batches of `Settings.segment_sentences` sentences, so memory
does not grow with the archive; the same ingest writes to either backend. Every token goes through the encoder
once: each chunk is encoded, and its sentences' vectors are read from the same pass (see `Ingestor._encode`).
What readers see changes when the writer commits (see each backend), and embedded batches are kept on disk until
then (`index.pending`), so an ingest that crashed resumes where it stopped.

Every ingest goes through one loop, `Ingestor.apply`: prepared inputs in (`prepare_record`), decisions and writes
out. What differs between a plain ingest and a distributed one (`index.distributed`) is only where inputs are
prepared and which `ArticleEmbedder` embeds them; both embed with `embed_articles` and `encode_chunks`.
"""

from __future__ import annotations

import contextvars
import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

import numpy as np

from index.chunks import make_chunks
from index.encoder import Encoder, stack_rows
from index.models import Article, IngestReport, Problem, Sentence
from index.pending import PendingVectors, text_key
from index.progress import StageBars, StageFractions, StageProgress
from index.readers import RawArticle, input_units, read_units
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
from index.text.dates import time_mentions
from index.text.sentences import split_sentences

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
    # Metadata is part of what an article is: a changed category makes it an update. (Without any, the hash is
    # what it always was, so ids and "unchanged" stay as they were.)
    extra = "".join(f"\n{k}: {v}" for k, v in sorted(raw.fields.items()))
    digest = content_hash(raw.title, raw.text + extra)
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
        fields=dict(raw.fields),
    )


@dataclass
class Candidate:
    """An input article prepared for the index (split into sentences and chunks, with empty vectors), before the
    ingest decides whether it is new, an update or unchanged. `own_id`: the input gave its id (else a new content
    at the same file is a new version of the article read from it). `timed`: its time expressions are found
    already (`add_times`; a plain ingest finds them only for the articles it will write)."""

    item: PreparedArticle
    own_id: bool
    timed: bool = False


def prepare_record(
    raw: RawArticle, settings: Settings, count_tokens: Callable[[str], int], dimension: int, *, with_times: bool
) -> Candidate | Problem:
    """Give a read article its id, sentences and chunks (and, `with_times`, its time expressions); a Problem
    saying why when it cannot go in. Never raises: one broken article must never stop the ingest."""
    try:
        limit = settings.max_article_chars
        if len(raw.text) > limit:
            # Bounds the work and memory of one input: an article is held whole while it is split and embedded.
            reason = (
                f"{len(raw.text):,} characters after clean-up, over the {limit:,} limit of one article; "
                "split it into articles or raise QA_MAX_ARTICLE_CHARS"
            )
            return Problem(path=raw.origin, reason=reason)
        article = to_article(raw)
        sentences = split_article(article)
        if not sentences:
            return Problem(path=raw.origin, reason="no text left after clean-up")
        chunks = make_chunks(article.id, article.text, sentences, count_tokens, settings.chunk_max_tokens)
        empty = np.zeros((0, dimension), dtype=np.float32)
        item = PreparedArticle(article, sentences, chunks, empty, empty.copy())
        if with_times:
            add_times(item)
        return Candidate(item, own_id=raw.id is not None, timed=with_times)
    except Exception as exc:
        return Problem(path=raw.origin, reason=f"could not process: {exc}")


Spans = list[tuple[int, int]]
# Embeds parts of chunks (each a list of (chunk text, its sentences' spans in it)), yielding each part's blocks
# in order, one block per chunk: the chunk's vector, then its sentences'.
PartEncoder = Callable[[list[list[tuple[str, Spans]]]], Iterable[list[np.ndarray]]]


def encode_chunks(encoder: Encoder, texts: Sequence[str], spans: Sequence[Spans]) -> list[np.ndarray]:
    """One block of vectors per chunk from one encoder pass each (`Encoder.encode_passages`): the chunk's vector
    first, then its sentences' (their tokens read in the chunk's context)."""
    return [np.vstack([whole[None, :], rows]) for whole, rows in encoder.encode_passages(texts, spans)]


def embed_articles(
    batch: list[PreparedArticle],
    cache: PendingVectors,
    resumed: dict[bytes, np.ndarray],
    encode_parts: PartEncoder,
    part_chunks: int,
    dimension: int,
) -> None:
    """Give `batch` its chunk and sentence vectors. Chunks an interrupted run already embedded are taken from
    `resumed`; the others go to `encode_parts` in parts of `part_chunks`, and each finished part is saved to
    `cache` as it comes back, so a crash loses at most the parts still being embedded."""
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
    parts = [todo[start : start + part_chunks] for start in range(0, len(todo), part_chunks)]
    encoded = encode_parts([[job for _, job in part] for part in parts])
    for part, blocks in zip(parts, encoded, strict=True):
        keys = [key for key, _ in part]
        cache.save(keys, blocks)
        known.update(zip(keys, blocks, strict=True))
    by_item: dict[str, list[np.ndarray]] = {}
    for item, key, _, _ in jobs:
        by_item.setdefault(item.article.id, []).append(known[key])
    for item in batch:
        blocks = by_item.get(item.article.id, [])
        item.chunk_vectors = stack_rows([b[:1] for b in blocks], dimension)
        item.sentence_vectors = stack_rows([b[1:] for b in blocks], dimension)


class ArticleEmbedder(Protocol):
    """How an ingest gets its articles' vectors (`Ingestor.apply`): on a thread of this process (`_Embedder`)
    or in a pool of encoder actors (`index.distributed`). Articles are handed over as the ingest decides to
    write them; `finish()` returns once every article handed over has its vectors."""

    articles: int  # handed over so far
    articles_written: int  # of those, written by the ingest (counted by it, for the write stage)

    def add(self, item: PreparedArticle) -> None: ...

    def reading_done(self) -> None: ...

    def finish(self) -> None: ...

    def __enter__(self) -> ArticleEmbedder: ...

    def __exit__(self, *exc: object) -> None: ...


# Makes the embedder of one ingest, given the pending cache it saves parts to and the stage progress.
EmbedderFactory = Callable[["Ingestor", PendingVectors, StageProgress], ArticleEmbedder]


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

    def settings_for(self, index_dir: Path | None) -> Settings:
        """These settings, pointed at `index_dir` when one is given."""
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
        follow_symlinks: bool = False,
        field_map: Mapping[str, str] | None = None,
        on_stage: StageProgress | None = None,
    ) -> IngestReport:
        """Read `paths` (files or folders) into the index at `index_dir`; returns what happened. Symbolic links
        inside a folder that lead out of it are skipped with a reason unless `follow_symlinks`. `field_map`
        names JSON fields that differ ({"title": "headline_text"}; index.readers.read_inputs). Progress goes to
        `on_stage` (stage, done, total), to `on_progress` (one fraction and a message), and, with
        `show_progress`, to stderr (index.progress.StageBars)."""
        # Listed once: the folders are walked for the read stage's total and then read from the same list.
        units = list(input_units(list(paths), follow_symlinks=follow_symlinks))
        return self._apply(
            read_units(units, self.settings.max_file_bytes, field_map),
            self.settings_for(index_dir),
            removals=(),
            rebuild=rebuild,
            show_progress=show_progress,
            on_progress=on_progress,
            on_stage=on_stage,
            read_total=len(units),
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
            records, self.settings_for(index_dir), removals=(), rebuild=rebuild, show_progress=show_progress
        )

    def remove(self, article_ids: Sequence[str], index_dir: Path | None = None) -> IngestReport:
        """Remove articles by id; unknown ids are reported as problems."""
        return self._apply([], self.settings_for(index_dir), removals=article_ids, show_progress=False)

    def upgrade(self, index_dir: Path | None = None, *, show_progress: bool = True) -> IngestReport:
        """Rebuild an index of an older format from the articles it stores (ids, text and metadata kept), in
        the current format; the old snapshot is kept as the previous one until pruned."""
        settings = self.settings_for(index_dir)
        records = upgradable_articles(settings)
        return self._apply(records, settings, removals=(), rebuild=True, show_progress=show_progress)

    def needs_upgrade(self, index_dir: Path | None = None) -> bool:
        """Whether the index is of an older format that `upgrade` re-embeds."""
        return needs_upgrade(self.settings_for(index_dir))

    def compact(self, index_dir: Path | None = None) -> int:
        """Reclaim the space of deleted articles (the local store merges every segment into one); returns how
        many parts were rewritten."""
        return open_admin(self.settings_for(index_dir), model_stamp(self.encoder)).compact()

    def _apply(
        self,
        records: Iterable[RawArticle | Problem],
        settings: Settings,
        *,
        removals: Sequence[str],
        rebuild: bool = False,
        show_progress: bool = True,
        on_progress: Progress | None = None,
        on_stage: StageProgress | None = None,
        read_total: int | None = None,
    ) -> IngestReport:
        candidates = (
            record
            if isinstance(record, Problem)
            else prepare_record(record, settings, self.encoder.count_tokens, self.encoder.dimension, with_times=False)
            for record in records
        )
        return self.apply(
            candidates, settings, removals=removals, rebuild=rebuild, show_progress=show_progress,
            on_progress=on_progress, on_stage=on_stage, read_total=read_total,
        )  # fmt: skip

    def apply(
        self,
        candidates: Iterable[Candidate | Problem],
        settings: Settings,
        *,
        removals: Sequence[str] = (),
        rebuild: bool = False,
        show_progress: bool = True,
        on_progress: Progress | None = None,
        on_stage: StageProgress | None = None,
        read_total: int | None = None,
        make_embedder: EmbedderFactory | None = None,
    ) -> IngestReport:
        """The one ingest loop every way of ingesting goes through: apply `removals`, then decide for each
        prepared input (in order) whether it is added, updated or unchanged, have the new ones embedded by the
        embedder `make_embedder` makes (default: a thread of this process), and hand them to the store's writer
        in batches of `Settings.segment_sentences` sentences; commit when anything changed."""
        started = time.perf_counter()
        report = IngestReport()
        listeners: list[StageProgress] = [on_stage] if on_stage else []
        if on_progress is not None:
            listeners.append(StageFractions(on_progress))
        bars = StageBars() if show_progress else None
        if bars is not None:
            listeners.append(bars)

        def stage(name: str, done: int, total: int) -> None:
            for listener in listeners:
                listener(name, done, total)

        model = model_stamp(self.encoder)
        encoder = self.encoder
        cache = PendingVectors(settings.index_dir, encoder.weights_sha256, encoder.dimension, encoder.kind)
        make_embedder = make_embedder or _Embedder
        with open_writer(settings, model, rebuild=rebuild) as writer, make_embedder(self, cache, stage) as embedder:
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
                gathered = 0
                files = _FileCount(read_total)
                for candidate in candidates:
                    stage("read", *files.seen(candidate))
                    if isinstance(candidate, Problem):
                        report.problems.append(candidate)
                        continue
                    item = candidate.item
                    try:
                        outcome = self._decide(candidate, run, batch)
                    except Exception as exc:  # one broken article must never stop the ingest
                        report.problems.append(Problem(path=item.article.origin, reason=f"could not process: {exc}"))
                        continue
                    getattr(report, outcome).append(item.article.id)
                    if outcome == "unchanged":
                        continue
                    if not candidate.timed:
                        add_times(item)
                    run.take(item)
                    batch.append(item)
                    embedder.add(item)
                    gathered += len(item.sentences)
                    changed = True
                    if gathered >= self.settings.segment_sentences:
                        self._write(batch, writer, embedder, stage)
                        batch, gathered = [], 0
                stage("read", *files.finished())
                embedder.reading_done()
                if batch:
                    self._write(batch, writer, embedder, stage)
            finally:
                if reader is not None:
                    reader.close()
            if changed:
                writer.commit()
                cache.clear()
            to_write = len(report.added) + len(report.updated)
            stage("write", to_write, to_write)  # published: every article is in the live index
        if bars is not None:
            bars.close()
        report.seconds = time.perf_counter() - started
        return report

    def _write(
        self, batch: list[PreparedArticle], writer: StoreWriter, embedder: ArticleEmbedder, stage: StageProgress
    ) -> None:
        """Wait for `batch`'s vectors and hand it to the writer."""
        embedder.finish()
        writer.add(batch)
        embedder.articles_written += len(batch)
        stage("write", embedder.articles_written, embedder.articles)

    def _decide(self, candidate: Candidate, run: _Run, batch: list[PreparedArticle]) -> str:
        """ "added", "updated" (its old version removed) or "unchanged", from what the index and this run hold."""
        article = candidate.item.article
        same = run.known(article.id)
        if same is not None:
            if same.content_hash == article.content_hash and _same_metadata(same, article):
                return "unchanged"
            run.delete(article.id, batch)
            return "updated"
        # Without an id from the input, the same file (or URL) with new content is a new version.
        old = (run.lookup("url", article.url) if article.url else None) or (
            run.lookup("origin", article.origin) if not candidate.own_id else None
        )
        if old is not None:
            run.delete(old, batch)
            return "updated"
        return "added"

    def encode_parts(self, parts: list[list[tuple[str, Spans]]]) -> Iterator[list[np.ndarray]]:
        """Embed `parts` one after the other with this process's encoder (a `PartEncoder`)."""
        for part in parts:
            yield encode_chunks(self.encoder, [text for text, _ in part], [spans for _, spans in part])


class _Embedder:
    """Embeds an ingest's articles on one worker thread, a part of `Ingestor.batch_chunks` chunks at a time,
    while the reading thread prepares the next articles (sentence splitting, chunking and time expressions are
    Python; onnxruntime releases the interpreter while it runs, so the two overlap)."""

    def __init__(self, ingestor: Ingestor, cache: PendingVectors, stage: StageProgress | None = None) -> None:
        self.ingestor = ingestor
        self.cache = cache
        self.stage = stage or (lambda name, done, total: None)
        self.total_chunks = 0  # added so far (the total grows while files are read)
        self.embedded = 0
        self.articles = 0  # to be written
        self.articles_written = 0
        self.reading = True
        self._count_lock = threading.Lock()
        self.resumed: dict[bytes, np.ndarray] = {}
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed")
        self.futures: list[Future[None]] = []
        self.part: list[PreparedArticle] = []
        self.chunks = 0
        self.submitted = 0

    def add(self, item: PreparedArticle) -> None:
        self.part.append(item)
        self.chunks += len(item.chunks)
        self.articles += 1
        with self._count_lock:
            self.total_chunks += len(item.chunks)
        if self.chunks >= self.ingestor.batch_chunks:
            self._submit()

    def _submit(self) -> None:
        if self.part:
            # The caller's context goes along, so a progress callback that reads context variables (the chat's)
            # still reaches its page from the embedding thread.
            self.futures.append(self.worker.submit(contextvars.copy_context().run, self._encode, self.part))
            self.submitted += self.chunks
            self.part, self.chunks = [], 0

    def _encode(self, part: list[PreparedArticle]) -> None:
        ingestor = self.ingestor
        embed_articles(
            part, self.cache, self.resumed, ingestor.encode_parts, ingestor.batch_chunks, ingestor.encoder.dimension
        )
        with self._count_lock:  # reported under the lock: the two threads' reports never arrive out of order
            self.embedded += sum(len(item.chunks) for item in part)
            self.stage("embed", self.embedded, self.total_chunks)

    def reading_done(self) -> None:
        """Every article is read: the embed and write totals are final (and say so even when nothing is new)."""
        self.reading = False
        with self._count_lock:
            self.stage("embed", self.embedded, self.total_chunks)
        self.stage("write", self.articles_written, self.articles)

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


class _FileCount:
    """Files read so far, from the records' origins ("path" or "path:line"), out of `total`."""

    def __init__(self, total: int | None) -> None:
        self.total = total
        self.files: set[str] = set()

    def seen(self, record: Candidate | Problem) -> tuple[int, int]:
        origin = record.path if isinstance(record, Problem) else record.item.article.origin
        path, _, line = origin.rpartition(":")
        self.files.add(path if line.isdigit() and path else origin)
        # The file being read counts once its next one starts (or reading ends).
        done = len(self.files) - 1
        return done, max(self.total or 0, len(self.files))

    def finished(self) -> tuple[int, int]:
        total = max(self.total or 0, len(self.files))
        return total, total


def _open_reader(settings: Settings, model: ModelStamp) -> StoreReader | None:
    """The index as it is before this ingest (None when there is none yet)."""
    try:
        return open_store(settings, model)
    except IndexNotFoundError:
        return None


def _same_metadata(a: Article, b: Article) -> bool:
    return (a.title, a.source, a.date, a.url, a.author) == (b.title, b.source, b.date, b.url, b.author)
