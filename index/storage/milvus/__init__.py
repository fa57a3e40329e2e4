"""The Milvus store (`QA_STORE=milvus`): the index in Milvus collections, reached with pymilvus' MilvusClient at
`QA_MILVUS_URI` — a milvus-lite folder (default `<index dir>/milvus.db`, one process at a time) or a Milvus
server or cluster (`http://host:19530`, `QA_MILVUS_TOKEN` for credentials), which serves many processes.

Milvus does the sharding, replication and compaction; this package lays out the collections (`schema`) and
the filter expressions over them (`expressions`), searches and reads them (`reader`: `facts`, `search` and
`records` over `rows`), writes to them so that any failure can be completed by writing again (`writer`), and
checks them (`admin`). See each module's docstring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from index.models import IndexNotFoundError
from index.storage.milvus.admin import MilvusAdmin
from index.storage.milvus.connection import Connection
from index.storage.milvus.reader import MilvusReader
from index.storage.milvus.writer import MilvusWriter

if TYPE_CHECKING:
    from index.storage.api import ModelStamp
    from newsqa.settings import Settings

__all__ = ["MilvusAdmin", "MilvusReader", "MilvusWriter", "open_admin", "open_store", "open_writer"]


def open_store(settings: Settings, model: ModelStamp) -> MilvusReader:
    """A reader of the configured Milvus index; IndexNotFoundError when there is none yet, IndexMismatchError
    when its vectors come from another model, StoreUnavailableError when Milvus cannot be reached."""
    connection = Connection(settings)
    if not connection.exists():
        raise IndexNotFoundError(f"no index at {connection.location}; create one with: qa ingest PATH")
    try:
        if not connection.has_index():
            raise IndexNotFoundError(f"no index in Milvus at {connection.location}; create one with: qa ingest PATH")
        connection.check_model(model)
    except BaseException:
        connection.close()
        raise
    return MilvusReader(connection)


def open_writer(settings: Settings, model: ModelStamp, *, rebuild: bool = False) -> MilvusWriter:
    """A writer of the configured Milvus index (created when missing; `rebuild` empties it first)."""
    connection = Connection(settings)
    try:
        return MilvusWriter(connection, model, rebuild=rebuild)
    except BaseException:
        connection.close()
        raise


def open_admin(settings: Settings, model: ModelStamp | None = None) -> MilvusAdmin:
    """Health and upkeep hooks of the configured Milvus index."""
    return MilvusAdmin(Connection(settings), model)
