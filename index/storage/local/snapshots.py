"""Snapshots and their manifests: which segments make up the index, switched atomically.

Layout of an index directory::

    CURRENT               name of the live snapshot, replaced atomically
    HISTORY               the snapshots that have been live, oldest first (pruning keeps the newest of them)
    LOCK                  held by the one writer
    pending/              vectors of an ingest that has not finished, so a re-run after a crash resumes
    segments/seg-000004/  immutable parts, each written once (index.storage.local.segments)
    snap-000007/
        manifest.json     format version, model, weights hash, encoder, dimension, live counts, times, and the
                          segments in order, each with its counts, the ids of its articles deleted since it
                          was written, and the size and sha256 of its files (sizes checked on each open,
                          checksums by qa repair)

A writer finishes its segments and the new manifest, fsyncs them, renames the snapshot folder into place and
only then points CURRENT at it. A crash at any moment leaves CURRENT naming a complete snapshot. Pruning keeps
the live snapshot and the newest ones live before it, and deletes the segments none of them lists.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from index.encoder import sha256_of
from index.models import IndexMismatchError, IndexStoreError
from index.storage.local.segments import SEGMENT_PREFIX, SEGMENTS, IndexCorruptError, fsync_dir

FORMAT_VERSION = 2

UPGRADABLE = (1,)  # older formats whose snapshot holds every article in meta.sqlite (`Ingestor.upgrade`)

SNAPSHOT_PREFIX = "snap-"
_SNAPSHOT_NAME = re.compile(r"snap-[0-9]{1,12}")
_SEGMENT_NAME = re.compile(r"seg-[0-9]{1,12}")

REBUILD_HINT = "re-ingest your files into a new index with: qa ingest --rebuild PATH"

REPAIR_HINT = f"qa repair makes the last intact snapshot live again; {REBUILD_HINT}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def current_snapshot(index_dir: Path) -> Path | None:
    """The live snapshot folder, or None when the directory holds no index yet."""
    name = live_name(index_dir)
    if name is None:
        return None
    problem = pointer_problem(index_dir, name)
    if problem:
        raise IndexCorruptError(f"{index_dir}: {problem}; {REPAIR_HINT}")
    return index_dir / name


def is_snapshot_name(name: str) -> bool:
    """Whether `name` is the name of a snapshot folder (snap- and digits; nothing a path could escape with)."""
    return _SNAPSHOT_NAME.fullmatch(name) is not None


def pointer_problem(index_dir: Path, name: str) -> str | None:
    """What is wrong with CURRENT holding `name` (from `live_name`), or None when it names a snapshot folder."""
    if not name:
        return "CURRENT is empty or missing"
    if not is_snapshot_name(name):
        return f"CURRENT holds {name[:40]!r}, which is not a snapshot name"
    if not (index_dir / name).is_dir():
        return f"CURRENT names {name!r}, which is not a snapshot folder"
    return None


@contextlib.contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index's write lock; a second writer gets a clear error instead of waiting forever."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        handle = (index_dir / "LOCK").open("a")
    except OSError as exc:  # a read-only disk, a folder without write permission, a LOCK that is a folder
        raise IndexStoreError(f"cannot write the index at {index_dir} ({exc.strerror or exc})") from exc
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IndexStoreError(f"another ingest is writing {index_dir}; wait for it to finish") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_snapshot(
    index_dir: Path,
    segments: Sequence[dict],
    *,
    model_name: str,
    model_sha256: str,
    encoder: str,
    dimension: int,
    keep: int = 2,
    created_at: str | None = None,
) -> Path:
    """Write a manifest listing `segments` (entries from `write_segment`, each with its `deleted` ids and
    their row counts) as a new snapshot and make it live atomically. Call under `writer_lock`."""
    index_dir.mkdir(parents=True, exist_ok=True)
    # Number above every snapshot folder, not just the live one: a crash between renaming a finished snapshot
    # into place and moving CURRENT leaves a newer, never-live folder that must not be collided with.
    # Snapshots set aside by `repair` count too, so a new one never takes a name already kept as damaged.
    folders = [*index_dir.glob(f"{SNAPSHOT_PREFIX}*"), *index_dir.glob(f"damaged-{SNAPSHOT_PREFIX}*")]
    numbers = [_snapshot_number(p) for p in folders if p.is_dir()]
    name = f"{SNAPSHOT_PREFIX}{max([0, *(n for n in numbers if n is not None)]) + 1:06d}"
    tmp = index_dir / f".{name}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    entries = [{**e, "deleted": sorted(e.get("deleted") or ())} for e in segments]
    now = _now()
    manifest = {
        "format_version": FORMAT_VERSION,
        "model_name": model_name,
        "model_sha256": model_sha256,
        "encoder": encoder,
        "dimension": dimension,
        "articles": sum(e["articles"] - len(e["deleted"]) for e in entries),
        "sentences": sum(e["sentences"] - e.get("deleted_sentences", 0) for e in entries),
        "chunks": sum(e["chunks"] - e.get("deleted_chunks", 0) for e in entries),
        "dense_index": _dense_summary(entries),
        "created_at": created_at or now,
        "updated_at": now,
        "snapshot": name,
        "segments": entries,
    }
    path = tmp / "manifest.json"
    with path.open("w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    fsync_dir(tmp)
    final = index_dir / name
    os.replace(tmp, final)
    fsync_dir(index_dir)
    make_live(index_dir, name)
    _prune(index_dir, keep)
    return final


def _dense_summary(entries: Sequence[dict]) -> dict[str, str]:
    kinds: dict[str, set[str]] = {"chunks": set(), "sentences": set()}
    for e in entries:
        for what, kind in (e.get("dense_index") or {}).items():
            kinds.setdefault(what, set()).add(kind)
    return {what: "+".join(sorted(found)) or "flat" for what, found in kinds.items()}


def make_live(index_dir: Path, name: str) -> None:
    """Point CURRENT at snapshot `name` atomically and add it (and the one it replaces) to HISTORY."""
    previous = live_name(index_dir)
    if previous is not None and pointer_problem(index_dir, previous):
        previous = None  # a damaged pointer names nothing worth remembering
    _write_atomically(index_dir / "CURRENT", name + "\n")
    fsync_dir(index_dir)
    # HISTORY is written after the switch: a crash in between leaves `name` live but unlisted, and the next
    # switch lists it then (as its `previous`). A snapshot that never became live is never listed.
    live_before = [n for n in live_history(index_dir) if n not in (previous, name)]
    _write_atomically(index_dir / "HISTORY", "".join(f"{n}\n" for n in [*live_before, previous, name] if n))


def live_history(index_dir: Path) -> list[str]:
    """Snapshot names that have been live, oldest first (from HISTORY; empty for an index made before it)."""
    try:
        # Read as bytes and decoded leniently: a damaged HISTORY only loses the lines it garbled.
        lines = (index_dir / "HISTORY").read_bytes().decode("utf-8", errors="replace").split()
    except OSError:
        return []
    return [n for n in lines if is_snapshot_name(n)]


def live_name(index_dir: Path) -> str | None:
    """What CURRENT names, without checking it; None only when the directory holds no index yet.

    CURRENT is replaced atomically, so an empty, garbled or missing one in a directory that has snapshots is
    damage (a full disk, a crash of the file system, a hand edit), not a new index: it comes back as the text it
    holds ("" when empty or missing, undecodable bytes replaced), which names no snapshot, so opening the index
    reports it and serves the last intact snapshot, and an ingest refuses to start a new index over it.
    """
    try:
        raw = (index_dir / "CURRENT").read_bytes()
    except FileNotFoundError:
        has_snapshots = any(p.is_dir() for p in index_dir.glob(f"{SNAPSHOT_PREFIX}*"))
        return "" if has_snapshots else None
    except OSError:
        return ""
    return raw.decode("utf-8", errors="replace").strip()


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def read_manifest(folder: Path) -> dict:
    """A snapshot's manifest; IndexCorruptError naming the file when it is missing or unreadable."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"{folder.name}/manifest.json is unreadable ({exc})") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("segments", []), list):
        raise IndexCorruptError(f"{folder.name}/manifest.json is not a manifest")
    for entry in manifest.get("segments") or []:
        problem = _entry_problem(entry)
        if problem:
            raise IndexCorruptError(f"{folder.name}/manifest.json: {problem}")
    return manifest


def _entry_problem(entry: object) -> str | None:
    """What makes a manifest's segment entry unusable (a wrong type, a name that is no segment), or None. Checked
    on reading so that a damaged manifest is one clear error, never a KeyError or a path outside the index."""
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        return "a segment entry has no name"
    name = entry["name"]
    if not _SEGMENT_NAME.fullmatch(name):
        return f"{name[:40]!r} is not a segment name"
    counts = ("articles", "sentences", "chunks")
    if not all(type(entry.get(k)) is int and entry[k] >= 0 for k in counts):
        return f"segment {name} has no valid counts"
    deleted = entry.get("deleted") or []
    if not isinstance(deleted, list) or not all(isinstance(d, str) for d in deleted):
        return f"segment {name} has an unreadable list of deleted articles"
    files = entry.get("files")
    if files is not None and not (
        isinstance(files, dict)
        and all(
            isinstance(f, str) and ".." not in f.split("/") and isinstance(r, dict)
            and type(r.get("bytes")) is int and isinstance(r.get("sha256"), str)
            for f, r in files.items()
        )
    ):  # fmt: skip
        return f"segment {name} has unreadable file records"
    return None


def check_manifest(
    manifest: dict, folder: Path, model_sha256: str | None, dimension: int | None, encoder: str | None
) -> None:
    hint = "re-ingest the corpus into a new index (qa ingest --rebuild PATH)"
    version = manifest.get("format_version")
    if version in UPGRADABLE:
        raise IndexMismatchError(
            f"{folder}: index format version {version}, this program reads version {FORMAT_VERSION}; "
            f"qa upgrade re-embeds the articles it holds into the new format, or {hint}"
        )
    if version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"{folder}: index format version {version}, this program reads version {FORMAT_VERSION}; {hint}"
        )
    if model_sha256 and manifest.get("model_sha256") != model_sha256:
        raise IndexMismatchError(
            f"{folder}: built with model weights {str(manifest.get('model_sha256'))[:12]}…, "
            f"but the loaded model is {model_sha256[:12]}…; {hint}"
        )
    if encoder and manifest.get("encoder") != encoder:
        raise IndexMismatchError(
            f"{folder}: vectors made by the {manifest.get('encoder')} encoder, but the loaded one is {encoder} "
            f"(QA_ENCODER); {hint}"
        )
    if dimension and manifest.get("dimension") != dimension:
        raise IndexMismatchError(
            f"{folder}: vectors have dimension {manifest.get('dimension')}, the model gives {dimension}; {hint}"
        )


def damage(index_dir: Path, manifest: dict, *, checksums: bool = False) -> list[str]:
    """What is wrong with the files of a snapshot's segments against its manifest: missing or resized files
    (and, with `checksums`, changed contents), one line each naming the segment and file. Empty when sound."""
    problems = []
    for entry in manifest.get("segments") or []:
        for name, record in (entry.get("files") or {}).items():
            path = index_dir / SEGMENTS / entry["name"] / name
            where = f"{entry['name']}/{name}"
            if not path.is_file():
                problems.append(f"{where} is missing")
            elif (size := path.stat().st_size) != record.get("bytes"):
                problems.append(f"{where} is {size:,} bytes, the manifest recorded {record.get('bytes'):,}")
            elif checksums and sha256_of(path) != record.get("sha256"):
                problems.append(f"{where} does not match its recorded sha256 (its contents changed)")
    return problems


def _snapshot_number(folder: Path) -> int | None:
    suffix = folder.name.removeprefix("damaged-")[len(SNAPSHOT_PREFIX) :]
    return int(suffix) if suffix.isdigit() else None


def _prune(index_dir: Path, keep: int) -> None:
    """Keep the live snapshot and the newest `keep - 1` that were live before it; delete the rest, including
    snapshots that never went live (a crash before CURRENT moved) and dead writers' temporary folders; then
    delete the segments no remaining snapshot lists (a damaged snapshot set aside by `repair` keeps its own)."""
    live = live_name(index_dir)
    earlier = [n for n in reversed(live_history(index_dir)) if n != live and (index_dir / n).is_dir()]
    kept = {live, *earlier[: max(keep, 1) - 1]}
    for folder in index_dir.glob(f"{SNAPSHOT_PREFIX}*"):
        if folder.is_dir() and folder.name not in kept:
            shutil.rmtree(folder, ignore_errors=True)
    for stale in index_dir.glob(f".{SNAPSHOT_PREFIX}*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)
    used: set[str] = set()
    for folder in [*index_dir.glob(f"{SNAPSHOT_PREFIX}*"), *index_dir.glob(f"damaged-{SNAPSHOT_PREFIX}*")]:
        try:
            used.update(e["name"] for e in read_manifest(folder).get("segments") or [])
        except (IndexCorruptError, KeyError, TypeError):
            return  # cannot tell what an unreadable snapshot uses: delete no segment
    root = index_dir / SEGMENTS
    for folder in root.glob(f"{SEGMENT_PREFIX}*") if root.is_dir() else []:
        if folder.name not in used:
            shutil.rmtree(folder, ignore_errors=True)
    for stale in root.glob(f".{SEGMENT_PREFIX}*.tmp") if root.is_dir() else []:
        shutil.rmtree(stale, ignore_errors=True)


def fallback_snapshots(index_dir: Path, damaged: str | None) -> list[Path]:
    """Snapshots to serve instead of a damaged live one, best first: those that were live, newest first, then
    (for an index from before HISTORY) the others by number, newest first."""
    seen = [n for n in reversed(live_history(index_dir)) if n != damaged]
    others = sorted(
        (
            p.name
            for p in index_dir.glob(f"{SNAPSHOT_PREFIX}*")
            if p.is_dir() and is_snapshot_name(p.name) and p.name not in {*seen, damaged}
        ),
        reverse=True,
    )
    return [index_dir / n for n in [*seen, *others] if (index_dir / n).is_dir()]
