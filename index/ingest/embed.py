"""Embed: the vectors of prepared articles — one encoder pass a chunk gives the chunk's vector and its sentences'
(their tokens read in the chunk's context) — saved part by part to the pending cache (`index.ingest.pending`) as
they finish, so an ingest that dies part-way resumes without embedding those parts again.

`embed_articles` is the one embedding step; an `ArticleEmbedder` decides where it runs: on a worker thread of this
process (`ThreadEmbedder`) or in a pool of encoder actors (`index.ingest.distributed`).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

import numpy as np

from index.encoder import TextEncoder, stack_rows
from index.ingest.pending import PendingVectors, text_key
from index.ingest.progress import StageProgress
from index.storage import PreparedArticle

Spans = list[tuple[int, int]]
# Embeds parts of chunks (each a list of (chunk text, its sentences' spans in it)), yielding each part's blocks
# in order, one block per chunk: the chunk's vector, then its sentences'.
PartEncoder = Callable[[list[list[tuple[str, Spans]]]], Iterable[list[np.ndarray]]]


def encode_chunks(encoder: TextEncoder, texts: Sequence[str], spans: Sequence[Spans]) -> list[np.ndarray]:
    """One block of vectors per chunk from one encoder pass each (`TextEncoder.encode_passages`): the chunk's vector
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
    """How an ingest gets its articles' vectors (`Ingestor.apply`): on a thread of this process (`ThreadEmbedder`)
    or in a pool of encoder actors (`index.ingest.distributed`). Articles are handed over as the ingest decides to
    write them; `finish()` returns once every article handed over has its vectors."""

    articles: int  # handed over so far
    articles_written: int  # of those, written by the ingest (counted by it, for the write stage)

    def add(self, item: PreparedArticle) -> None: ...

    def reading_done(self) -> None: ...

    def finish(self) -> None: ...

    def __enter__(self) -> ArticleEmbedder: ...

    def __exit__(self, *exc: object) -> None: ...


class EmbeddingOwner(Protocol):
    """What an embedder reads of the ingest it serves (an `Ingestor`): its encoder, and how many chunks a part
    holds (read as each part is made, so a caller may change it between ingests)."""

    encoder: TextEncoder
    batch_chunks: int


# Makes the embedder of one ingest, given the ingest, the pending cache it saves parts to and the stage progress.
EmbedderFactory = Callable[[EmbeddingOwner, PendingVectors, StageProgress], ArticleEmbedder]


class ThreadEmbedder:
    """Embeds an ingest's articles on one worker thread, a part of `Ingestor.batch_chunks` chunks at a time,
    while the reading thread prepares the next articles (sentence splitting, chunking and time expressions are
    Python; onnxruntime releases the interpreter while it runs, so the two overlap)."""

    def __init__(self, ingestor: EmbeddingOwner, cache: PendingVectors, stage: StageProgress | None = None) -> None:
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
            part, self.cache, self.resumed, self._encode_parts, ingestor.batch_chunks, ingestor.encoder.dimension
        )
        with self._count_lock:  # reported under the lock: the two threads' reports never arrive out of order
            self.embedded += sum(len(item.chunks) for item in part)
            self.stage("embed", self.embedded, self.total_chunks)

    def _encode_parts(self, parts: list[list[tuple[str, Spans]]]) -> Iterator[list[np.ndarray]]:
        """Embed `parts` one after the other with this process's encoder (a `PartEncoder`)."""
        for part in parts:
            yield encode_chunks(self.ingestor.encoder, [text for text, _ in part], [spans for _, spans in part])

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

    def __enter__(self) -> ThreadEmbedder:
        self.resumed = self.cache.load()  # what an interrupted run already embedded
        return self

    def __exit__(self, *exc: object) -> None:
        self.worker.shutdown(wait=True, cancel_futures=True)
