"""The read side of the Milvus store: searches as Milvus searches with filter expressions, records read back by
article id and position, and corpus facts.

A reader sees the live collections, not a snapshot: what a writer has written is visible at once (the
collections are strongly consistent). While an article is being replaced both of its versions exist for a
moment; every lookup keeps one row per record (the newest version, by the article's ingest sequence), and
searches keep each record's best hit once. The corpus facts and term statistics are counted once per reader
(a caller opens a new reader when `current_version()` moves).

The reads are mixins over `CollectionRows` (rows.py): corpus facts (facts.py), searches and term statistics
(search.py) and records (records.py).
"""

from __future__ import annotations

import contextlib

from index.storage.api import StoreFacts
from index.storage.milvus.connection import Connection, reaching
from index.storage.milvus.facts import CorpusFacts
from index.storage.milvus.records import RecordReads
from index.storage.milvus.search import CollectionSearch


class MilvusReader(RecordReads, CorpusFacts, CollectionSearch):
    """A `StoreReader` over the index's Milvus collections."""

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self._facts: StoreFacts | None = None
        self._document_frequency: dict[str, int] = {}  # term → chunks holding it ("" → all chunks)

    @reaching
    def current_version(self) -> str:
        return self.connection.version()

    def close(self) -> None:
        self.connection.close()

    def __del__(self) -> None:
        # A reader replaced by a newer one is dropped, not closed, once no question uses it (the local store's
        # files are mapped, so callers let go instead of closing): its Milvus connection goes with it.
        with contextlib.suppress(Exception):  # nothing to report to at collection time
            self.connection.close()
