"""The write side of the Milvus store: add, replace and remove articles so that a failure at any step loses
nothing and running the same writes again completes them.

Milvus has no transactions, so each batch is made of idempotent steps, announced first by an intent record
in the `store` collection:

1. record the intent (which article ids get which new version, or which ids go);
2. write the new version's rows — times, sentences, chunks, then the article's text parts, its first part
   last: an article's first part exists only once every row of that version does;
3. delete the rows of every other version of those articles (article rows first);
4. delete the intent.

A batch that fails leaves the old versions whole (nothing of them is deleted before step 3); the next writer
(or `qa repair`) finishes each intent it finds: where the new version is complete it removes the old ones,
where it is not it removes the partial new rows. Rows are keyed by the version's hash, so writing the same
article again writes the same rows. Readers see a replaced article twice only between steps 2 and 3, and
then keep its newer version.

`commit()` bumps the version counter that readers compare to know the index changed. Writes are visible as
they happen (Milvus cannot hold them back); leaving the `with` block through an exception still bumps the
version when something was written, since readers can already see it. Only one writer should run at a time.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator, Sequence

from index.models import IndexStoreError
from index.storage.api import ModelStamp, PreparedArticle
from index.storage.milvus.connection import INTENT, SEEN, Connection, reaching
from index.storage.milvus.expressions import both, literal, one_of
from index.storage.milvus.schema import (
    ARTICLE_PARTS,
    ARTICLES,
    CHUNKS,
    ID_BYTES,
    SENTENCES,
    TIMES,
    article_rows,
    chunk_rows,
    day_number,
    generation,
    sentence_rows,
    time_rows,
)
from index.text.tokenize import tokenize

UPSERT_ROWS = 500  # rows per upsert request (a chunk row with its vector is ~2 kB)
LOOKUP_BATCH = 500


class MilvusWriter:
    """A `StoreWriter` over the index's Milvus collections (created, and stamped with the model, if new)."""

    def __init__(self, connection: Connection, model: ModelStamp, *, rebuild: bool = False) -> None:
        self.connection = connection
        self.model = model
        self.client = connection.open()
        if rebuild:  # the way to a new model too, so no model check first
            connection.drop()
        connection.create(model)  # IndexMismatchError when the index holds another model's vectors
        self.dirty = False
        self.finished = finish_intents(connection)
        self.dirty = self.finished > 0

    def __enter__(self) -> MilvusWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self.dirty:
                self.connection.bump_version()
                self.dirty = False
        finally:
            self.connection.close()

    @reaching
    def add(self, items: Sequence[PreparedArticle]) -> None:
        latest: dict[str, PreparedArticle] = {}
        for item in items:  # the last of several versions of one article in a call wins
            self._validate(item)
            latest.pop(item.article.id, None)
            latest[item.article.id] = item
        batch: list[PreparedArticle] = []
        rows = 0
        for item in latest.values():
            batch.append(item)
            rows += len(item.sentences) + len(item.chunks)
            if rows >= 4 * UPSERT_ROWS:
                self._add_batch(batch)
                batch, rows = [], 0
        if batch:
            self._add_batch(batch)

    def _validate(self, item: PreparedArticle) -> None:
        article = item.article
        literal(article.id)  # raises for an id a filter cannot name
        if not article.id or len(article.id.encode()) > ID_BYTES:
            raise IndexStoreError(f"article id {article.id[:60]!r} is empty or longer than {ID_BYTES} bytes")
        for name, vectors, count in (
            ("sentence", item.sentence_vectors, len(item.sentences)),
            ("chunk", item.chunk_vectors, len(item.chunks)),
        ):
            if vectors.shape != (count, self.model.dimension):
                raise IndexStoreError(
                    f"article {article.id}: {name} vectors of shape {vectors.shape}, expected "
                    f"({count}, {self.model.dimension})"
                )

    def _add_batch(self, items: list[PreparedArticle]) -> None:
        gens = {item.article.id: generation(item) for item in items}
        self._note_seen(items)
        key = f"{INTENT}{time.time_ns():020d}"
        self.connection.write(key, {"kind": "add", "articles": gens})
        self.dirty = True
        seq = time.time_ns()
        times, sentences, chunks, parts, firsts = [], [], [], [], []
        for offset, item in enumerate(items):
            gen = gens[item.article.id]
            times += time_rows(item, gen)
            sentences += sentence_rows(item, gen)
            chunks += chunk_rows(item, gen, [tokenize(c.text) for c in item.chunks])
            rows = article_rows(item, gen, seq + offset)
            parts += [r for r in rows if r["part"] > 0]
            firsts += [r for r in rows if r["part"] == 0]
        for collection, rows in ((TIMES, times), (SENTENCES, sentences), (CHUNKS, chunks), (ARTICLES, parts[::-1]),
                                 (ARTICLES, firsts)):  # fmt: skip
            self._upsert(collection, rows)
        drop_other_versions(self.connection, gens)
        self.connection.delete(key)

    def _upsert(self, collection: str, rows: list[dict]) -> None:
        for start in range(0, len(rows), UPSERT_ROWS):
            self.client.upsert(collection, rows[start : start + UPSERT_ROWS])

    def _note_seen(self, items: list[PreparedArticle]) -> None:
        """Add the batch's sources and days to those the index has seen (what `facts()` counts live articles
        of, so it never reads every article)."""
        seen = self.connection.read(SEEN) or {}
        sources = set(seen.get("sources", []))
        days = set(seen.get("days", []))
        for item in items:
            sources.add(item.article.source or "")
            if day := day_number(item.article.date):
                days.add(day)
        updated = {"sources": sorted(sources), "days": sorted(days)}
        if updated != seen:
            self.connection.write(SEEN, updated)

    @reaching
    def remove(self, article_ids: Collection[str]) -> list[str]:
        wanted = list(dict.fromkeys(article_ids))
        live: set[str] = set()
        for start in range(0, len(wanted), LOOKUP_BATCH):
            part = wanted[start : start + LOOKUP_BATCH]
            rows = self.client.query(
                ARTICLES, filter=both(one_of("article_id", part), "part == 0"), output_fields=["article_id"],
                limit=16_384,
            )  # fmt: skip
            live.update(r["article_id"] for r in rows)
        found = [a for a in wanted if a in live]
        if found:
            key = f"{INTENT}{time.time_ns():020d}"
            self.connection.write(key, {"kind": "remove", "ids": found})
            self.dirty = True
            delete_articles(self.connection, found)
            self.connection.delete(key)
        return found

    @reaching
    def commit(self) -> None:
        if self.dirty:
            # Seal what was written into stored segments: milvus-lite then ranks words with the statistics of
            # the whole segment rather than of the unflushed rows that pass a search's filter.
            for collection in ARTICLE_PARTS:
                self.client.flush(collection)
            self.connection.bump_version()
            self.dirty = False


def _groups(values: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), LOOKUP_BATCH):
        yield values[start : start + LOOKUP_BATCH]


def drop_other_versions(connection: Connection, gens: dict[str, str]) -> None:
    """Delete every version of these articles but the given one (article rows first)."""
    client = connection.open()
    ids = list(gens)
    for part in _groups(ids):
        keep = [gens[a] for a in part]
        for collection in ARTICLE_PARTS:
            client.delete(collection, filter=both(one_of("article_id", part), f"not ({one_of('gen', keep)})"))


def delete_articles(connection: Connection, article_ids: list[str]) -> None:
    client = connection.open()
    for part in _groups(article_ids):
        for collection in ARTICLE_PARTS:
            client.delete(collection, filter=one_of("article_id", part))


def finish_intents(connection: Connection) -> int:
    """Complete the writes that stopped part-way (see the module docstring); returns how many there were."""
    client = connection.open()
    intents = connection.intents()
    for key, intent in intents:
        if intent.get("kind") == "remove":
            delete_articles(connection, list(intent.get("ids") or []))
        else:
            gens: dict[str, str] = dict(intent.get("articles") or {})
            complete: set[str] = set()
            for part in _groups(list(gens)):
                firsts = client.get(ARTICLES, ids=[f"{gens[a]}:0" for a in part], output_fields=["article_id"])
                complete.update(r["article_id"] for r in firsts)
            drop_other_versions(connection, {a: g for a, g in gens.items() if a in complete})
            for article_id, gen in gens.items():
                if article_id not in complete:
                    for collection in ARTICLE_PARTS:
                        client.delete(collection, filter=f"gen == {literal(gen)}")
        connection.delete(key)
    return len(intents)
