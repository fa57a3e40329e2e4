"""The write side of the local store: one ingest's additions and removals, published as one new snapshot.

The writer holds the index's write lock from open to close. Added articles gather in memory and are written out
as a new segment whenever they reach `IndexSettings.segment_sentences` sentences (so memory stays bounded); removing
or replacing an article that a segment already holds adds it to that segment's deleted list (a tombstone).
`commit()` writes what is left, merges segments when there are too many (or mostly deleted ones) and makes the
new snapshot live atomically; nothing is visible to readers before, and leaving without `commit()` (an
exception, a crash) leaves the previous snapshot live. Segments written by a writer that never committed are
unlisted and pruned by the next commit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Sequence
from pathlib import Path

from index.storage.api import ModelStamp, PreparedArticle
from index.storage.local.merging import merge_segments, plan_merges
from index.storage.local.segments import IndexCorruptError, rows_of, write_segment
from index.storage.local.snapshots import REPAIR_HINT, damage, live_name, write_snapshot, writer_lock
from index.storage.local.store import IndexStore
from newsqa.settings import Settings


class LocalWriter:
    """A `StoreWriter` for the index folder `settings.index.index_dir` (see the module docstring)."""

    def __init__(self, settings: Settings, model: ModelStamp, *, rebuild: bool = False) -> None:
        self.settings = settings
        self.model = model
        self.index_dir: Path = settings.index.index_dir
        self._lock = contextlib.ExitStack()
        self._lock.enter_context(writer_lock(self.index_dir))
        try:
            exists = live_name(self.index_dir) is not None
            # Never build on a damaged snapshot, nor silently on an older one: the error says how to repair.
            self.base: IndexStore | None = None
            if exists and not rebuild:
                self.base = IndexStore.open(
                    self.index_dir, model_sha256=model.sha256, dimension=model.dimension, encoder=model.kind,
                    fallback=False,
                )  # fmt: skip
                # Opening checks sizes only. The new snapshot will list these segments and pruning then drops
                # older snapshots, so a segment whose bytes changed in place would leave no intact snapshot to go
                # back to: every file is checked against its sha256 first (docs/reliability.md has the cost).
                problems = damage(self.index_dir, self.base.manifest, checksums=True)
                if problems:
                    self.base.close()
                    raise IndexCorruptError(f"{self.index_dir}: {problems[0]}; {REPAIR_HINT}")
        except BaseException:
            self._lock.close()
            raise
        manifest = self.base.manifest if self.base is not None else {}
        self.entries: list[dict] = [dict(e) for e in manifest.get("segments") or []]
        self.created_at: str | None = manifest.get("created_at")
        self.deleted: dict[str, set[str]] = {e["name"]: set(e.get("deleted") or ()) for e in self.entries}
        self.mine: dict[str, str | None] = {}  # article id → the segment this writer wrote it to (None: buffered)
        self.buffer: list[PreparedArticle] = []
        self.gathered = 0
        self.changed = rebuild and exists  # a rebuild replaces even an index it adds nothing to
        self.closed = False

    # --- StoreWriter -----------------------------------------------------------------------------
    def add(self, items: Sequence[PreparedArticle]) -> None:
        for item in items:
            self._drop(item.article.id)
            self.buffer.append(item)
            self.mine[item.article.id] = None
            self.gathered += len(item.sentences)
            self.changed = True
            if self.gathered >= self.settings.index.segment_sentences:
                self._write()

    def remove(self, article_ids: Collection[str]) -> list[str]:
        removed = [article_id for article_id in dict.fromkeys(article_ids) if self._drop(article_id)]
        self.changed = self.changed or bool(removed)
        return removed

    def commit(self) -> None:
        if self.buffer:
            self._write()
        if self.changed:
            entries = self._merged(self._with_tombstones())
            self._publish(entries)
            self.changed = False
        self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                if self.base is not None:
                    self.base.close()
            finally:
                self._lock.close()

    def __enter__(self) -> LocalWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- inside ----------------------------------------------------------------------------------
    def _drop(self, article_id: str) -> bool:
        """Take the live article `article_id` out (from the buffer, or by a tombstone); False when none is."""
        if article_id in self.mine:
            segment = self.mine.pop(article_id)
            if segment is None:
                self.buffer = [item for item in self.buffer if item.article.id != article_id]
            else:
                self.deleted[segment].add(article_id)
            return True
        located = self.base.locate(article_id) if self.base is not None else None
        if located is None or article_id in self.deleted.get(located[0], ()):
            return False
        self.deleted.setdefault(located[0], set()).add(article_id)
        return True

    def _write(self) -> None:
        """Write the buffered articles as a new segment (unlisted until `commit`)."""
        entry = write_segment(
            self.index_dir, self.buffer, dimension=self.model.dimension,
            approximate_above=self.settings.index.approximate_above,
        )  # fmt: skip
        self.entries.append(entry)
        self.deleted[entry["name"]] = set()
        for item in self.buffer:
            self.mine[item.article.id] = entry["name"]
        self.buffer, self.gathered = [], 0

    def _with_tombstones(self) -> list[dict]:
        """The segment entries with their deleted ids and the row counts those cover."""
        entries = []
        for entry in self.entries:
            deleted = self.deleted.get(entry["name"], set())
            entry = {**entry, "deleted": sorted(deleted)}
            if deleted:
                entry["deleted_sentences"], entry["deleted_chunks"] = rows_of(self.index_dir, entry["name"], deleted)
            else:
                entry.pop("deleted_sentences", None)
                entry.pop("deleted_chunks", None)
            if entry["articles"] > len(deleted):  # a segment whose articles are all gone is dropped
                entries.append(entry)
        return entries

    def _merged(self, entries: list[dict]) -> list[dict]:
        """`entries` after merging what `plan_merges` says (too many segments, or mostly deleted ones)."""
        plan = plan_merges(entries, self.settings.index.max_segments)
        if not plan:
            return entries
        replaced: dict[int, dict | None] = {}
        for group in plan:
            merged = merge_segments(
                self.index_dir, [entries[i] for i in group], dimension=self.model.dimension,
                approximate_above=self.settings.index.approximate_above,
            )  # fmt: skip
            replaced[group[0]] = merged
            replaced.update({i: None for i in group[1:]})
        result = []
        for i, entry in enumerate(entries):
            if i not in replaced:
                result.append(entry)
            elif (merged := replaced[i]) is not None:
                result.append(merged)
        return result

    def _publish(self, entries: list[dict]) -> None:
        publish(self.index_dir, entries, self.model, self.settings, self.created_at)


def publish(
    index_dir: Path, entries: list[dict], model: ModelStamp, settings: Settings, created_at: str | None
) -> None:
    """Make a snapshot listing `entries` live (under the writer lock)."""
    write_snapshot(
        index_dir,
        entries,
        model_name=model.name,
        model_sha256=model.sha256,
        encoder=model.kind,
        dimension=model.dimension,
        keep=settings.index.keep_snapshots,
        created_at=created_at,
    )
