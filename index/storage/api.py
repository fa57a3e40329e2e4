"""The storage interface: what the product asks of an index, in its own words.

Everything above index/ (qa/, ui/, the evaluation, the benchmarks) talks to a store through these two protocols
and these records only. Records are addressed by what they are — an article id, a sentence's number in its
article, a chunk's number in its article — never by an engine's row numbers, masks or column names, so a backend
(the local segments in `index.storage.local`, Milvus in `index.storage.milvus`) is free to lay them out as it
likes. `index.storage.open_store` / `open_writer` pick the backend from the settings (`QA_STORE`).

Reading: `StoreReader` — search chunks by vector or words and sentences by vector, optionally narrowed by a
`Filter` (sources, dates, metadata fields) and narrowed further by a `TimePreference` (the articles of the time a
question asks about); read sentences, chunks, articles and their time expressions back; corpus facts.

Writing: `StoreWriter` — one ingest's transaction: add prepared articles, remove articles, then `commit()` makes
all of it visible together (or as close to together as the backend allows; see each backend's docstring).
Leaving the `with` block through an exception commits nothing a reader of the local store can see; the Milvus
store cannot roll back, so its writer makes every step idempotent instead and a re-run completes it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np

from index.models import Article, Chunk, IndexStoreError, Sentence
from index.text.dates import TimeMention

# The sentence number under which an article's title's time expressions are kept (`StoreReader.times`).
TITLE = -1


class SentenceRef(NamedTuple):
    """A sentence, by its article and its 0-based position there (what a citation names)."""

    article_id: str
    number: int


class ChunkRef(NamedTuple):
    """A chunk, by its article and its 0-based position among the article's chunks."""

    article_id: str
    number: int


@dataclass(frozen=True)
class Hit:
    """One search result: what was found and how well it matched (higher is better; cosine for vectors, BM25
    for words). Scores are comparable within one search, not across searches or backends."""

    ref: ChunkRef | SentenceRef
    score: float


@dataclass(frozen=True)
class Filter:
    """Which articles a search may return. Empty fields do not filter; given fields must all hold.

    `sources`: the article's source is one of these ("" matches articles without a source).
    `date_from` / `date_to`: inclusive ISO dates; undated articles are left out when either is given.
    `fields`: metadata field → value the article must have (e.g. {"category": "business"}).
    """

    sources: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None
    fields: tuple[tuple[str, str], ...] = ()

    def is_empty(self) -> bool:
        return not self.sources and not self.date_from and not self.date_to and not self.fields


@dataclass(frozen=True)
class TimePreference:
    """The articles of the time a question asks about: dated within `dated` (inclusive ISO dates), or — with
    `told` — whose text or title names a time overlapping `told`; with `relative_only`, only in words that do not
    say its year ("in January" in an article of March, not "in January 1987"). Retrieval uses it to run extra
    searches within these articles; it narrows a search, combined with any `Filter` by AND."""

    dated: tuple[str, str]
    told: tuple[str, str] | None = None
    relative_only: bool = False


@dataclass
class SentenceRecord:
    """A stored sentence: offsets into its article's text, the chunk that holds it, and on request its vector."""

    ref: SentenceRef
    start: int
    end: int
    text: str
    chunk: ChunkRef
    vector: np.ndarray | None = None

    @property
    def article_id(self) -> str:
        return self.ref.article_id

    @property
    def number(self) -> int:
        return self.ref.number


@dataclass
class ChunkRecord:
    """A stored chunk: its span of the article's text, its sentences in order, and on request its vector."""

    ref: ChunkRef
    start: int
    end: int
    sentences: tuple[SentenceRef, ...]
    vector: np.ndarray | None = None

    @property
    def article_id(self) -> str:
        return self.ref.article_id


@dataclass
class StoreFacts:
    """What the index holds and where it stands, for `qa stats`, the chat's corpus panel and the reload check."""

    backend: str
    articles: int
    sentences: int
    chunks: int
    sources: list[tuple[str, int]]  # each source with its article count, most articles first
    date_from: str | None
    date_to: str | None
    location: str  # the index folder, or the Milvus address (without credentials)
    version: str  # changes whenever a writer commits; equal versions hold equal content
    updated_at: str = ""
    fields: dict[str, list[str]] = field(default_factory=dict)  # metadata field → a few of its values
    details: dict[str, object] = field(default_factory=dict)  # backend-specific, shown by `qa stats` only
    warning: str | None = None  # set when answering from a fallback (a damaged index, say)


@dataclass
class PreparedArticle:
    """An article with everything derived from it (sentences with their time expressions, chunks, vectors),
    ready for `StoreWriter.add`: the unit every backend writes."""

    article: Article
    sentences: list[Sentence]
    chunks: list[Chunk]
    sentence_vectors: np.ndarray
    chunk_vectors: np.ndarray
    title_times: list[TimeMention] = field(default_factory=list)


@dataclass(frozen=True)
class ModelStamp:
    """Which encoder made the vectors: a store refuses to open (IndexMismatchError) for another."""

    name: str
    sha256: str
    kind: str
    dimension: int


class StoreUnavailableError(IndexStoreError):
    """The store cannot be reached or opened (a Milvus server down, say); the message says what to check."""


@runtime_checkable
class StoreReader(Protocol):
    """A consistent, read-only view of the index (the local store: one snapshot; Milvus: the live collections)."""

    def facts(self) -> StoreFacts:
        """Counts, sources, date range, version and health of what this view holds."""
        ...

    def current_version(self) -> str:
        """The version a fresh open would see now (cheap): differs from `facts().version` once another process
        committed, so the caller reopens."""
        ...

    def search_chunks(
        self, vector: np.ndarray, k: int, where: Filter | None = None, prefer: TimePreference | None = None
    ) -> list[Hit]:
        """The `k` chunks nearest `vector` (unit length) by cosine similarity, best first; ties by ref."""
        ...

    def search_sentences(
        self, vector: np.ndarray, k: int, where: Filter | None = None, prefer: TimePreference | None = None
    ) -> list[Hit]:
        """The `k` sentences nearest `vector`, best first."""
        ...

    def search_words(
        self, terms: Sequence[str], k: int, where: Filter | None = None, prefer: TimePreference | None = None
    ) -> list[Hit]:
        """The `k` chunks best matching the question's terms (as `index.text.tokenize.tokenize` gives them) by BM25 with
        collection-wide statistics, best first."""
        ...

    def term_weights(self, terms: Sequence[str]) -> dict[str, float]:
        """How rare each term is in the collection's chunks (BM25's IDF), for weighting overlap."""
        ...

    def document_frequencies(self, terms: Sequence[str]) -> dict[str, int]:
        """How many live chunks hold each term (0: the collection never uses it)."""
        ...

    def sentences(self, refs: Sequence[SentenceRef], *, vectors: bool = False) -> list[SentenceRecord]:
        """The sentences asked for, in the order asked; refs of unknown or deleted articles are left out."""
        ...

    def chunks(self, refs: Sequence[ChunkRef], *, vectors: bool = False) -> list[ChunkRecord]:
        """The chunks asked for, in the order asked; unknown refs are left out."""
        ...

    def articles(self, article_ids: Collection[str] | None = None, *, text: bool = True) -> list[Article]:
        """The live articles with these ids (unknown ids left out; order not promised), or every article in
        ingest order when `article_ids` is None. `text=False` leaves `text` empty (cheaper)."""
        ...

    def find_articles(self, *, url: str | None = None, origin: str | None = None) -> list[Article]:
        """Live articles read from this URL or this file (origin), text left out: how a changed input is
        recognised as a new version of an article it already holds."""
        ...

    def article_parts(self, article_id: str) -> tuple[list[SentenceRecord], list[ChunkRecord]]:
        """Every sentence and chunk of one live article, in order (empty lists when there is no such article)."""
        ...

    def times(self, article_ids: Collection[str]) -> dict[str, dict[int, list[TimeMention]]]:
        """Each article's resolved time expressions by sentence number (`TITLE` for the title; offsets into
        that sentence or the title). Articles without any are left out."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class StoreWriter(Protocol):
    """One ingest's writes. Use as a context manager; `commit()` publishes, leaving through an exception does
    not (see the module docstring for what each backend promises)."""

    def add(self, items: Sequence[PreparedArticle]) -> None:
        """Write these articles; an article whose id is already live is replaced by the new version."""
        ...

    def remove(self, article_ids: Collection[str]) -> list[str]:
        """Remove these articles; returns the ids that were live (the others are not in the index)."""
        ...

    def commit(self) -> None:
        """Make everything added and removed visible to new readers."""
        ...

    def __enter__(self) -> StoreWriter: ...

    def __exit__(self, *exc: object) -> None: ...


class StoreAdmin(Protocol):
    """Health and upkeep hooks a backend offers to `qa repair`, `qa compact` and `qa upgrade`."""

    def check(self, *, full: bool = False) -> list[str]:
        """Problems found (empty: healthy); `full` reads every byte where the backend can (checksums)."""
        ...

    def repair(self) -> str:
        """Bring the index back to its newest intact state; says what was done."""
        ...

    def compact(self) -> int:
        """Reclaim the space of deleted articles; returns how many parts were rewritten."""
        ...
