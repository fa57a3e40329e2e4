"""Upkeep of the local store: checking a snapshot's files, repairing a damaged one, compacting segments and
reading an index of an older format back for `qa upgrade`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from index.models import IndexNotFoundError, IndexStoreError
from index.readers import RawArticle
from index.storage.api import ModelStamp
from index.storage.local.merging import merge_segments
from index.storage.local.repair import repair
from index.storage.local.snapshots import current_snapshot, damage, live_name, read_manifest, writer_lock
from index.storage.local.store import IndexStore
from index.storage.local.upgrade import needs_upgrade, stored_articles
from index.storage.local.writer import publish
from newsqa.settings import Settings


class LocalAdmin:
    """A `StoreAdmin` for the index folder `settings.index.index_dir`."""

    def __init__(self, settings: Settings, model: ModelStamp | None = None) -> None:
        self.settings = settings
        self.model = model
        self.index_dir: Path = settings.index.index_dir

    def _require_index(self) -> None:
        if live_name(self.index_dir) is None:
            raise IndexNotFoundError(f"no index at {self.index_dir}; create one with: qa ingest PATH")

    def check(self, *, full: bool = False) -> list[str]:
        """Problems of the live snapshot: its pointer and manifest, its files' sizes (with `full`, their
        checksums) and whether it loads. Empty when it is sound."""
        self._require_index()
        try:
            folder = current_snapshot(self.index_dir)
            assert folder is not None
            problems = damage(self.index_dir, read_manifest(folder), checksums=full)
            if not problems:
                model = self.model
                IndexStore.open(
                    self.index_dir, model_sha256=model.sha256 if model else None,
                    dimension=model.dimension if model else None, encoder=model.kind if model else None,
                    fallback=False,
                ).close()  # fmt: skip
        except IndexStoreError as exc:
            return [str(exc)]
        return problems

    def repair(self) -> str:
        self._require_index()
        with writer_lock(self.index_dir):
            return repair(self.index_dir)

    def compact(self) -> int:
        """Merge every segment into one, leaving out deleted articles; returns how many segments there were."""
        with writer_lock(self.index_dir):
            self._require_index()
            model = self.model
            store = IndexStore.open(
                self.index_dir, model_sha256=model.sha256 if model else None,
                dimension=model.dimension if model else None, encoder=model.kind if model else None, fallback=False,
            )  # fmt: skip
            try:
                manifest = store.manifest
                entries = [dict(e) for e in manifest["segments"]]
            finally:
                store.close()
            stamp = model or ModelStamp(
                name=manifest["model_name"], sha256=manifest["model_sha256"], kind=manifest["encoder"],
                dimension=int(manifest["dimension"]),
            )  # fmt: skip
            merged = merge_segments(
                self.index_dir,
                entries,
                dimension=stamp.dimension,
                approximate_above=self.settings.index.approximate_above,
            )
            publish(self.index_dir, [merged] if merged else [], stamp, self.settings, manifest.get("created_at"))
            return len(entries)

    def needs_upgrade(self) -> bool:
        """Whether the live snapshot is of an older format that `upgradable_articles` reads back."""
        return needs_upgrade(self.index_dir)

    def upgradable_articles(self) -> Iterator[RawArticle]:
        """The articles of an index of an older format, as records to ingest again (ids, text, metadata)."""
        return stored_articles(self.index_dir)
