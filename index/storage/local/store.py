"""The read side's engine: one loaded snapshot, its segments' rows numbered across the whole snapshot.

`IndexStore` loads a snapshot, checks it, and combines the reads of it: records (records.py), counts and
summaries (facts.py), filters as allowed rows (filters.py) and dense search (search.py); BM25 with
collection-wide statistics is `lexical` (postings.py). A live snapshot found damaged is reported with the file
that is wrong, and the newest intact snapshot that was live before it is served instead (`IndexStore.warning`
says so) until `repair` makes that one live again or a rebuild replaces both. Outside the local store,
`LocalReader` (reader.py) is its face: (article, number) references, never rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.models import IndexNotFoundError, IndexStoreError
from index.storage.local.facts import CorpusFacts
from index.storage.local.filters import RowFilters
from index.storage.local.postings import Lexical
from index.storage.local.records import RecordReads
from index.storage.local.search import DenseSearch
from index.storage.local.segments import IndexCorruptError, Segment
from index.storage.local.snapshots import (
    REBUILD_HINT,
    REPAIR_HINT,
    check_manifest,
    damage,
    fallback_snapshots,
    is_snapshot_name,
    live_name,
    pointer_problem,
    read_manifest,
)


class IndexStore(RecordReads, CorpusFacts, RowFilters, DenseSearch):
    """A loaded, read-only snapshot of the index: search it, and read articles and sentences back.

    Rows (sentences, chunks) are numbered across the snapshot's segments in manifest order; rows of deleted
    articles keep their numbers but are never returned.
    """

    def __init__(self, index_dir: Path, folder: Path, manifest: dict, warning: str | None = None) -> None:
        self.index_dir = index_dir
        self.folder = folder
        self.manifest = manifest
        self.warning = warning  # set when this is a fallback for a damaged live snapshot
        self.segments: list[Segment] = []
        sentence_offset = chunk_offset = 0
        try:
            for entry in manifest.get("segments") or []:
                segment = Segment(index_dir, entry, sentence_offset, chunk_offset)
                self.segments.append(segment)
                sentence_offset += int(entry["sentences"])
                chunk_offset += int(entry["chunks"])
            self._check_consistent()
        except BaseException:
            self.close()
            raise
        self.sentence_offsets = np.array([s.sentence_offset for s in self.segments] + [sentence_offset], np.int64)
        self.chunk_offsets = np.array([s.chunk_offset for s in self.segments] + [chunk_offset], np.int64)
        self.lexical = Lexical([s.postings for s in self.segments], [s.dead_chunks for s in self.segments])

    @classmethod
    def open(
        cls,
        index_dir: Path,
        *,
        model_sha256: str | None = None,
        dimension: int | None = None,
        encoder: str | None = None,
        fallback: bool = True,
    ) -> IndexStore:
        """Load the live snapshot, checking it was built by this code with the same model (and encoder) and
        that its files are the size its manifest recorded.

        A damaged live snapshot raises IndexCorruptError naming the file; with `fallback` the newest intact
        snapshot that was live before it is loaded instead, with `warning` saying so.
        """
        name = live_name(index_dir)
        if name is None:
            raise IndexNotFoundError(f"no index at {index_dir}; create one with: qa ingest PATH")
        damaged = name if is_snapshot_name(name) else None
        try:
            problem = pointer_problem(index_dir, name)
            if problem:
                raise IndexCorruptError(problem)
            return cls._open_folder(index_dir, index_dir / name, model_sha256, dimension, encoder)
        except IndexCorruptError as exc:
            if not fallback:
                raise IndexCorruptError(f"{index_dir}: {exc}; {REPAIR_HINT}") from exc
            for other in fallback_snapshots(index_dir, damaged):
                try:
                    store = cls._open_folder(index_dir, other, model_sha256, dimension, encoder)
                except IndexStoreError:
                    continue
                store.warning = (
                    f"{exc}; answering from the last intact snapshot, {other.name} "
                    f"(updated {store.manifest.get('updated_at', '?')}), instead. {REPAIR_HINT}"
                )
                return store
            no_fallback = "and no intact earlier snapshot is left"
            raise IndexCorruptError(f"{index_dir}: {exc}, {no_fallback}; {REBUILD_HINT}") from exc

    @classmethod
    def _open_folder(
        cls, index_dir: Path, folder: Path, model_sha256: str | None, dimension: int | None, encoder: str | None
    ) -> IndexStore:
        manifest = read_manifest(folder)
        check_manifest(manifest, folder, model_sha256, dimension, encoder)
        problems = damage(index_dir, manifest)
        if problems:
            raise IndexCorruptError(problems[0])
        return cls(index_dir, folder, manifest)

    def _check_consistent(self) -> None:
        live = {
            "articles": sum(s.live_articles for s in self.segments),
            "sentences": sum(int(s.entry["sentences"]) - len(s.dead_sentences) for s in self.segments),
            "chunks": sum(int(s.entry["chunks"]) - len(s.dead_chunks) for s in self.segments),
        }
        for what, count in live.items():
            if self.manifest.get(what) != count:
                raise IndexCorruptError(
                    f"{self.folder.name}: {what} count {self.manifest.get(what)} in the manifest does not match "
                    f"the {count} its segments hold"
                )

    def close(self) -> None:
        for segment in self.segments:
            segment.close()
