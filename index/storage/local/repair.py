"""Repair: when the live snapshot is damaged, make the newest intact one that was live before it live again.

A damaged live snapshot is found by checking every file of its segments against the size and sha256 its manifest
recorded and by loading it; it is set aside as `damaged-snap-…` (kept, and its segments with it) rather than
deleted, so nothing is lost that a person might still want to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

from index.models import IndexNotFoundError, IndexStoreError
from index.storage.local.segments import IndexCorruptError, fsync_dir
from index.storage.local.snapshots import (
    REBUILD_HINT,
    damage,
    fallback_snapshots,
    is_snapshot_name,
    live_name,
    make_live,
    pointer_problem,
    read_manifest,
)
from index.storage.local.store import IndexStore


def repair(index_dir: Path) -> str:
    """Check the live snapshot's files (sizes and checksums); when it is damaged, make the newest intact
    snapshot live again and set the damaged one aside as `damaged-snap-…`. Returns what was done; raises
    IndexCorruptError when no intact snapshot is left. Call under `writer_lock`."""
    name = live_name(index_dir)
    if name is None:
        raise IndexNotFoundError(f"no index at {index_dir}; create one with: qa ingest PATH")
    pointer = pointer_problem(index_dir, name)
    live = None if pointer else index_dir / name
    problems = [pointer] if pointer else full_check(index_dir, index_dir / name)
    if live is not None and not problems:
        files = sum(len(e.get("files") or {}) for e in read_manifest(live).get("segments") or [])
        return f"{live.name} is intact ({files} files checked); nothing to do"
    for candidate in fallback_snapshots(index_dir, name if is_snapshot_name(name) else None):
        if full_check(index_dir, candidate):
            continue
        make_live(index_dir, candidate.name)
        kept = ""
        if live is not None:
            aside = index_dir / f"damaged-{live.name}"
            os.replace(live, aside)
            fsync_dir(index_dir)
            kept = f" and the damaged snapshot is kept as {aside.name}"
        return (
            f"{problems[0]}; {candidate.name} (updated {read_manifest(candidate).get('updated_at', '?')}) is live "
            f"again{kept}. Ingest your files again to add what came after"
        )
    raise IndexCorruptError(f"{problems[0]}, and no intact earlier snapshot is left; {REBUILD_HINT}")


def full_check(index_dir: Path, folder: Path) -> list[str]:
    try:
        manifest = read_manifest(folder)
    except IndexCorruptError as exc:
        return [str(exc)]
    problems = damage(index_dir, manifest, checksums=True)
    if not problems:
        try:
            IndexStore(index_dir, folder, manifest).close()
        except IndexStoreError as exc:
            problems.append(str(exc))
    return problems
