"""Where the index is kept, behind one interface (`index.storage.api`): the local segments (the default) or
Milvus (`QA_STORE=milvus`). `open_store` and `open_writer` pick the backend from the settings; nothing outside
index/ imports a backend's modules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from index.storage.api import (
    TITLE,
    ChunkRecord,
    ChunkRef,
    Filter,
    Hit,
    ModelStamp,
    PreparedArticle,
    SentenceRecord,
    SentenceRef,
    StoreAdmin,
    StoreFacts,
    StoreReader,
    StoreUnavailableError,
    StoreWriter,
    TimePreference,
)

if TYPE_CHECKING:
    from index.settings import Settings

__all__ = [
    "TITLE",
    "ChunkRecord",
    "ChunkRef",
    "Filter",
    "Hit",
    "ModelStamp",
    "PreparedArticle",
    "SentenceRecord",
    "SentenceRef",
    "StoreAdmin",
    "StoreFacts",
    "StoreReader",
    "StoreUnavailableError",
    "StoreWriter",
    "TimePreference",
    "open_admin",
    "open_store",
    "open_writer",
]


def open_store(settings: Settings, model: ModelStamp) -> StoreReader:
    """A read view of the configured store (IndexNotFoundError when there is no index yet)."""
    if settings.store == "milvus":
        from index.storage.milvus import open_store as open_milvus

        return open_milvus(settings, model)
    from index.storage.local import open_store as open_local

    return open_local(settings, model)


def open_writer(settings: Settings, model: ModelStamp, *, rebuild: bool = False) -> StoreWriter:
    """A writer for one ingest into the configured store (`rebuild`: start from an empty index)."""
    if settings.store == "milvus":
        from index.storage.milvus import open_writer as open_milvus

        return open_milvus(settings, model, rebuild=rebuild)
    from index.storage.local import open_writer as open_local

    return open_local(settings, model, rebuild=rebuild)


def open_admin(settings: Settings, model: ModelStamp | None = None) -> StoreAdmin:
    """The configured store's health and upkeep hooks (check, repair, compact)."""
    if settings.store == "milvus":
        from index.storage.milvus import open_admin as open_milvus

        return open_milvus(settings, model)
    from index.storage.local import open_admin as open_local

    return open_local(settings, model)
