"""Upgrade: reading an index of an older format (one SQLite file per snapshot holding every article) back as
records, so that `qa upgrade` re-embeds them into the current format with their ids, text and metadata kept.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from index.models import ARTICLE_COLUMNS, IndexMismatchError, IndexNotFoundError, IndexStoreError
from index.readers import RawArticle
from index.storage.local.segments import reading
from index.storage.local.snapshots import REBUILD_HINT, UPGRADABLE, current_snapshot, read_manifest


def needs_upgrade(index_dir: Path) -> bool:
    """Whether the live snapshot is of an older format that `stored_articles` can read back."""
    try:
        folder = current_snapshot(index_dir)
        return folder is not None and read_manifest(folder).get("format_version") in UPGRADABLE
    except IndexStoreError:
        return False


def stored_articles(index_dir: Path) -> Iterator[RawArticle]:
    """The articles of the live snapshot of an index in an older format (`UPGRADABLE`), as records to ingest
    again: their ids, cleaned text and metadata as stored."""
    folder = current_snapshot(index_dir)
    if folder is None:
        raise IndexNotFoundError(f"no index at {index_dir}; create one with: qa ingest PATH")
    version = read_manifest(folder).get("format_version")
    if version not in UPGRADABLE:
        raise IndexMismatchError(f"{folder}: format version {version} cannot be upgraded; {REBUILD_HINT}")
    with reading(f"{folder.name}/meta.sqlite"):
        db = sqlite3.connect(f"file:{folder / 'meta.sqlite'}?mode=ro", uri=True)
        try:
            db.row_factory = sqlite3.Row
            for row in db.execute("SELECT * FROM articles ORDER BY position"):
                yield RawArticle(**{name: row[name] for name in ARTICLE_COLUMNS if name in RawArticle.model_fields})
        finally:
            db.close()
