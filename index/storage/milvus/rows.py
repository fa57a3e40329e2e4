"""Reading rows of the Milvus collections, what every read of the reader stands on: counting, scanning past one
query's limit, looking records up by (article, number), and keeping one version of each article where a
replacement is under way (both versions exist for a moment; the newest by the article's ingest sequence wins).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence

from index.storage.milvus.connection import Connection
from index.storage.milvus.expressions import both, one_of
from index.storage.milvus.schema import ARTICLES, chunk_ref_key

QUERY_LIMIT = 16_384  # the most rows one Milvus query returns
LOOKUP_BATCH = 500  # ids or refs per `in [...]` expression
SCAN_BATCH = 1_000


class _NoSessionTimestamp(logging.Filter):
    """milvus-lite gives a query iterator no session timestamp, and pymilvus warns on every scan before using
    the client's clock, which is what a strongly consistent read wants anyway: that warning is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "failed to get mvccTs" not in record.getMessage()


logging.getLogger("pymilvus.client.iterator.query_iterator").addFilter(_NoSessionTimestamp())


class CollectionRows:
    """Rows of the index's collections through one connection (the reads of `MilvusReader` are mixins over it)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.client = connection.open()

    def _count(self, collection: str, expression: str = "") -> int:
        rows = self.client.query(collection, filter=expression, output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    def _by_refs(self, collection: str, refs: Sequence[tuple[str, int]], fields: list[str]) -> list[dict]:
        keys = list(dict.fromkeys(chunk_ref_key(a, int(n)) for a, n in refs))
        rows: list[dict] = []
        for part in batches(keys):
            rows += self.client.query(collection, filter=one_of("ref", part), output_fields=fields,
                                      limit=QUERY_LIMIT)  # fmt: skip
        return rows

    def _scan(self, collection: str, expression: str, fields: list[str]) -> Iterator[dict]:
        """Every row matching `expression`: one query when they fit in one answer, else read in batches."""
        rows = self.client.query(collection, filter=expression, output_fields=fields, limit=QUERY_LIMIT)
        if len(rows) < QUERY_LIMIT:
            yield from rows
            return
        iterator = self.client.query_iterator(
            collection, batch_size=SCAN_BATCH, filter=expression, output_fields=fields
        )
        try:
            while batch := iterator.next():
                yield from batch
        finally:
            iterator.close()

    def _live(self, rows: list[dict]) -> list[dict]:
        """`rows` less those of an article's older version, where a replacement is under way (both exist)."""
        gens: dict[str, set[str]] = defaultdict(set)
        for row in rows:
            gens[row["article_id"]].add(row["gen"])
        doubled = [a for a, found in gens.items() if len(found) > 1]
        if not doubled:
            return rows
        live = self.live_generations(doubled)
        return [r for r in rows if r["article_id"] not in live or r["gen"] == live[r["article_id"]]]

    def live_generations(self, article_ids: Sequence[str]) -> dict[str, str]:
        """Article id → the version readers see (the newest complete one)."""
        newest: dict[str, tuple[int, str]] = {}
        for part in batches(list(article_ids)):
            for row in self._scan(ARTICLES, both(one_of("article_id", part), "part == 0"), ["article_id", "gen",
                                                                                               "seq"]):  # fmt: skip
                seen = newest.get(row["article_id"])
                if seen is None or int(row["seq"]) > seen[0]:
                    newest[row["article_id"]] = (int(row["seq"]), row["gen"])
        return {a: gen for a, (_, gen) in newest.items()}


def batches(values: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), LOOKUP_BATCH):
        yield values[start : start + LOOKUP_BATCH]
