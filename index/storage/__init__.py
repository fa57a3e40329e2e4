"""Where the index is kept, behind one interface (`index.storage.api`): the local segments (the default) or
Milvus (`QA_STORE=milvus`). `open_store` and `open_writer` pick the backend from the settings; nothing outside
index/ imports a backend's modules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from index.models import IndexMismatchError, IndexNotFoundError
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
    from index.encoder import TextEncoder
    from index.readers import RawArticle
    from newsqa.settings import Settings

__all__ = [
    "TITLE",
    "ChunkRecord",
    "ChunkRef",
    "Filter",
    "Hit",
    "IndexNotFoundError",
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
    "has_index",
    "layout",
    "model_stamp",
    "needs_upgrade",
    "open_admin",
    "open_store",
    "open_writer",
    "upgradable_articles",
]


def open_store(settings: Settings, model: ModelStamp) -> StoreReader:
    """A read view of the configured store (IndexNotFoundError when there is no index yet)."""
    if settings.index.store == "milvus":
        from index.storage.milvus import open_store as open_milvus

        return open_milvus(settings, model)
    from index.storage.local import open_store as open_local

    return open_local(settings, model)


def open_writer(settings: Settings, model: ModelStamp, *, rebuild: bool = False) -> StoreWriter:
    """A writer for one ingest into the configured store (`rebuild`: start from an empty index)."""
    if settings.index.store == "milvus":
        from index.storage.milvus import open_writer as open_milvus

        return open_milvus(settings, model, rebuild=rebuild)
    from index.storage.local import open_writer as open_local

    return open_local(settings, model, rebuild=rebuild)


def open_admin(settings: Settings, model: ModelStamp | None = None) -> StoreAdmin:
    """The configured store's health and upkeep hooks (check, repair, compact)."""
    if settings.index.store == "milvus":
        from index.storage.milvus import open_admin as open_milvus

        return open_milvus(settings, model)
    from index.storage.local import open_admin as open_local

    return open_local(settings, model)


def model_stamp(encoder: TextEncoder) -> ModelStamp:
    """Which encoder made (or will make) a store's vectors."""
    return ModelStamp(name=encoder.name, sha256=encoder.weights_sha256, kind=encoder.kind, dimension=encoder.dimension)


def has_index(settings: Settings) -> bool:
    """Whether the configured store holds an index, without opening it (no model needed). Only the local store
    can tell from its folder alone; another store is taken to hold one, and opening it says otherwise."""
    if settings.index.store != "local":
        return True
    from index.storage.local.snapshots import live_name

    return live_name(settings.index.index_dir) is not None


def layout(settings: Settings) -> str:
    """The configured store's kind and the version of its layout: a cached index of another is rebuilt."""
    if settings.index.store != "local":
        return settings.index.store
    from index.storage.local.snapshots import FORMAT_VERSION

    return f"local/{FORMAT_VERSION}"


def needs_upgrade(settings: Settings) -> bool:
    """Whether the configured store holds an index of an older format that `upgradable_articles` can read back
    (only the local store has older formats)."""
    if settings.index.store != "local":
        return False
    from index.storage.local import open_admin as open_local

    return open_local(settings).needs_upgrade()


def upgradable_articles(settings: Settings) -> Iterator[RawArticle]:
    """The articles of the configured store's index of an older format, as records to ingest again."""
    if settings.index.store != "local":
        raise IndexMismatchError(f"the {settings.index.store} store has no older format to upgrade")
    from index.storage.local import open_admin as open_local

    return open_local(settings).upgradable_articles()
