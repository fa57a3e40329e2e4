"""The local store: the index as immutable segments in one folder (FAISS for vectors, our own BM25 postings,
SQLite for records), listed by snapshots that are switched atomically. The default backend.

`open_store`, `open_writer` and `open_admin` are what `index.storage` calls; nothing outside index/ imports
this package.
"""

from __future__ import annotations

from index.storage.api import ModelStamp
from index.storage.local.admin import LocalAdmin
from index.storage.local.reader import LocalReader
from index.storage.local.writer import LocalWriter
from newsqa.settings import Settings

__all__ = ["LocalAdmin", "LocalReader", "LocalWriter", "open_admin", "open_store", "open_writer"]


def open_store(settings: Settings, model: ModelStamp) -> LocalReader:
    """The live snapshot of `settings.index.index_dir` (IndexNotFoundError when there is none; a damaged one is
    replaced by the newest intact one before it, with `facts().warning` saying so)."""
    return LocalReader.open(settings.index.index_dir, model)


def open_writer(settings: Settings, model: ModelStamp, *, rebuild: bool = False) -> LocalWriter:
    """A writer holding the index folder's lock (IndexStoreError when another ingest holds it)."""
    return LocalWriter(settings, model, rebuild=rebuild)


def open_admin(settings: Settings, model: ModelStamp | None = None) -> LocalAdmin:
    return LocalAdmin(settings, model)
