"""The read side of the local store: one loaded snapshot (`IndexStore`) behind `StoreReader`.

Inside, sentences and chunks are rows numbered across the snapshot's segments; outside, they are
(article id, number) references. A reference finds its row through its article's first row (each article's
sentences and chunks are consecutive rows, in order), and a row its reference through its segment's tables.
A `Filter` or `TimePreference` becomes the array of chunk rows allowed, which the dense searches score exactly
and the word search applies to its best results.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np

from index.models import Article
from index.storage.api import (
    ChunkRecord,
    ChunkRef,
    Filter,
    Hit,
    ModelStamp,
    SentenceRecord,
    SentenceRef,
    StoreFacts,
    TimePreference,
)
from index.storage.local.snapshots import live_name
from index.storage.local.store import IndexStore
from index.text.dates import TimeMention

# A filtered word search scores the whole collection and keeps the allowed chunks among the best
# WORDS_OVERFETCH × k (what retrieval has always done here); a narrow filter may so find fewer than k.
WORDS_OVERFETCH = 4


class LocalReader:
    """A `StoreReader` over the snapshot that was live when it was opened (or, when that one is damaged, the
    newest intact one before it; `facts().warning` says so)."""

    def __init__(self, store: IndexStore, opened_as: str) -> None:
        self.store = store
        self._opened_as = opened_as  # what CURRENT named at open: the version, even when serving a fallback
        self._facts: StoreFacts | None = None

    @classmethod
    def open(cls, index_dir: Path, model: ModelStamp | None, *, fallback: bool = True) -> LocalReader:
        opened_as = live_name(index_dir) or ""
        store = IndexStore.open(
            index_dir,
            model_sha256=model.sha256 if model else None,
            dimension=model.dimension if model else None,
            encoder=model.kind if model else None,
            fallback=fallback,
        )
        return cls(store, opened_as)

    @property
    def filters_on_fields(self) -> bool:
        """Whether `Filter.fields` can narrow a search here: every segment keeps its articles' metadata fields
        (segments written before fields were stored do not; `qa compact` rewrites them with empty fields)."""
        return all(s.has_fields for s in self.store.segments)

    # --- what the index holds ------------------------------------------------------------------
    def facts(self) -> StoreFacts:
        if self._facts is None:  # a snapshot never changes: count once
            store = self.store
            date_from, date_to = store.date_range()
            segments = store.manifest.get("segments") or []
            self._facts = StoreFacts(
                backend="local",
                articles=store.n_articles,
                sentences=store.n_sentences,
                chunks=store.n_chunks,
                sources=store.sources(),
                date_from=date_from,
                date_to=date_to,
                location=str(store.index_dir),
                version=self._opened_as,
                updated_at=store.manifest.get("updated_at", ""),
                fields=store.field_values(),
                details={
                    "snapshot": store.folder.name,
                    "dense_index": dict(store.manifest.get("dense_index") or {}),
                    "segments": len(segments),
                    "deleted_articles": sum(len(s.get("deleted") or ()) for s in segments),
                },
                warning=store.warning,
            )
        return self._facts

    def current_version(self) -> str:
        return live_name(self.store.index_dir) or ""

    # --- search ----------------------------------------------------------------------------------
    def search_chunks(
        self, vector: np.ndarray, k: int, where: Filter | None = None, prefer: TimePreference | None = None
    ) -> list[Hit]:
        allowed = self._allowed_chunks(where, prefer)
        hits = self.store.search_chunks(vector, k, allowed)
        return self._chunk_hits(hits)

    def search_sentences(
        self, vector: np.ndarray, k: int, where: Filter | None = None, prefer: TimePreference | None = None
    ) -> list[Hit]:
        allowed = self._allowed_chunks(where, prefer)
        allowed_sentences = self.store.sentence_rows_of_chunks(allowed) if allowed is not None else None
        hits = self.store.search_sentences(vector, k, allowed_sentences)
        refs = self.store.row_refs([r for r, _ in hits], "sentences")
        return [Hit(SentenceRef(*refs[r]), score) for r, score in hits if r in refs]

    def search_words(
        self, terms: Sequence[str], k: int, where: Filter | None = None, prefer: TimePreference | None = None
    ) -> list[Hit]:
        allowed = self._allowed_chunks(where, prefer)
        if allowed is None:
            hits = self.store.lexical.search(terms, k)
        else:
            keep = set(allowed.tolist())
            hits = [(r, s) for r, s in self.store.lexical.search(terms, k * WORDS_OVERFETCH) if r in keep][:k]
        return self._chunk_hits(hits)

    def term_weights(self, terms: Sequence[str]) -> dict[str, float]:
        return {t: self.store.lexical.idf(t) for t in dict.fromkeys(terms)}

    def document_frequencies(self, terms: Sequence[str]) -> dict[str, int]:
        return {t: self.store.lexical.df(t) for t in dict.fromkeys(terms)}

    def _chunk_hits(self, hits: list[tuple[int, float]]) -> list[Hit]:
        refs = self.store.row_refs([r for r, _ in hits], "chunks")
        return [Hit(ChunkRef(*refs[r]), score) for r, score in hits if r in refs]

    def _allowed_chunks(self, where: Filter | None, prefer: TimePreference | None) -> np.ndarray | None:
        """The chunk rows a search may return (None: all of them)."""
        allowed = None
        if where is not None and not where.is_empty():
            allowed = self.store.allowed_chunk_rows(
                list(where.sources), where.date_from, where.date_to, list(where.fields)
            )
        if prefer is not None:
            within = self.store.chunk_rows_in_time(prefer.dated, prefer.told, relative_only=prefer.relative_only)
            allowed = within if allowed is None else np.intersect1d(within, allowed)
        return allowed

    # --- records -------------------------------------------------------------------------------
    def sentences(self, refs: Sequence[SentenceRef], *, vectors: bool = False) -> list[SentenceRecord]:
        spans = self.store.article_spans({r.article_id for r in refs})
        rows = []
        for ref in refs:
            span = spans.get(ref.article_id)
            if span is not None and 0 <= ref.number < span[1]:
                rows.append(span[0] + ref.number)
        found = self.store.sentences(rows)
        records = [
            SentenceRecord(
                ref=SentenceRef(row["article_id"], row["number"]),
                start=row["start"],
                end=row["end"],
                text=row["text"],
                chunk=ChunkRef(row["article_id"], row["chunk_row"] - spans[row["article_id"]][2]),
            )
            for row in found
        ]
        if vectors and records:
            stacked = self.store.sentence_vectors_of([row["row"] for row in found])
            for record, vector in zip(records, stacked, strict=True):
                record.vector = vector
        return records

    def chunks(self, refs: Sequence[ChunkRef], *, vectors: bool = False) -> list[ChunkRecord]:
        spans = self.store.article_spans({r.article_id for r in refs})
        rows = []
        for ref in refs:
            span = spans.get(ref.article_id)
            if span is not None and 0 <= ref.number < span[3]:
                rows.append(span[2] + ref.number)
        return self._chunk_records(rows, vectors)

    def _chunk_records(self, rows: Sequence[int], vectors: bool) -> list[ChunkRecord]:
        info = self.store.chunk_rows(rows)
        rows = [r for r in rows if r in info]
        records = []
        for row in rows:
            article_id, number, first, last, start, end = info[row]
            sentences = tuple(SentenceRef(article_id, n) for n in range(first, last + 1))
            records.append(ChunkRecord(ChunkRef(article_id, number), start, end, sentences))
        if vectors and records:
            for record, vector in zip(records, self.store.chunk_vectors_of(rows), strict=True):
                record.vector = vector
        return records

    def articles(self, article_ids: Collection[str] | None = None, *, text: bool = True) -> list[Article]:
        found = self.store.articles() if article_ids is None else self.store.articles_by_id(article_ids)
        return found if text else [a.model_copy(update={"text": ""}) for a in found]

    def find_articles(self, *, url: str | None = None, origin: str | None = None) -> list[Article]:
        found: dict[str, Article] = {}
        for column, value in (("url", url), ("origin", origin)):
            if value is not None:
                for _, article in self.store.find_articles(column, value):
                    found.setdefault(article.id, article.model_copy(update={"text": ""}))
        return list(found.values())

    def article_parts(self, article_id: str) -> tuple[list[SentenceRecord], list[ChunkRecord]]:
        span = self.store.article_spans([article_id]).get(article_id)
        if span is None:
            return [], []
        first_chunk = span[2]
        sentences = [
            SentenceRecord(
                ref=SentenceRef(article_id, row["number"]),
                start=row["start"],
                end=row["end"],
                text=row["text"],
                chunk=ChunkRef(article_id, row["chunk_row"] - first_chunk),
            )
            for row in self.store.article_sentences(article_id)
        ]
        return sentences, self._chunk_records(range(first_chunk, first_chunk + span[3]), vectors=False)

    def times(self, article_ids: Collection[str]) -> dict[str, dict[int, list[TimeMention]]]:
        return self.store.article_times(article_ids)

    def close(self) -> None:
        self.store.close()
