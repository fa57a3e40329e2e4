"""The index on disk: segments of dense vectors (FAISS), BM25 and metadata (SQLite), and the snapshots that list
them, switched atomically so that dense, BM25 and metadata always agree.

Layout of an index directory::

    CURRENT               name of the live snapshot, replaced atomically
    HISTORY               the snapshots that have been live, oldest first (pruning keeps the newest of them)
    LOCK                  held by the one writer
    pending/              vectors of an ingest that has not finished, so a re-run after a crash resumes
    segments/seg-000004/  immutable parts, each written once (index.segments)
    snap-000007/
        manifest.json     format version, model, weights hash, encoder, dimension, live counts, times, and the
                          segments in order, each with its counts, the ids of its articles deleted since it
                          was written, and the size and sha256 of its files (sizes checked on each open,
                          checksums by qa repair)

Adding articles writes new segments and a new manifest; removing or replacing articles adds their ids to the
deleted lists; nothing already written changes. When there are more than `max_segments` (or a segment is mostly
deleted), the smallest neighbours are merged into one new segment before the switch; `compact` merges all.

A writer finishes its segments and the new manifest, fsyncs them, renames the snapshot folder into place and
only then points CURRENT at it. A crash at any moment leaves CURRENT naming a complete snapshot. A live snapshot
found damaged is reported with the file that is wrong, and the newest intact snapshot that was live before it is
served instead (`IndexStore.warning` says so) until `repair` makes that one live again or a rebuild replaces both.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import sqlite3
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from index.dates import TimeMention
from index.encoder import sha256_of
from index.lexical import Lexical
from index.models import Article, IndexMismatchError, IndexStoreError
from index.readers import RawArticle
from index.segments import (
    SEGMENT_PREFIX,
    SEGMENTS,
    TITLE,
    IndexCorruptError,
    IndexedArticle,
    Segment,
    as_article,
    fsync_dir,
    reading,
    write_segment,
)

__all__ = ["TITLE", "IndexCorruptError", "IndexStore", "IndexedArticle"]

FORMAT_VERSION = 2
UPGRADABLE = (1,)  # older formats whose snapshot holds every article in meta.sqlite (`Ingestor.upgrade`)
_SNAPSHOT_PREFIX = "snap-"
_SNAPSHOT_NAME = re.compile(r"snap-[0-9]{1,12}")
_SEGMENT_NAME = re.compile(r"seg-[0-9]{1,12}")


class IndexNotFoundError(IndexStoreError):
    """No index exists at the given place yet."""


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
    folders = [*index_dir.glob(f"{_SNAPSHOT_PREFIX}*"), *index_dir.glob(f"damaged-{_SNAPSHOT_PREFIX}*")]
    numbers = [_snapshot_number(p) for p in folders if p.is_dir()]
    name = f"{_SNAPSHOT_PREFIX}{max([0, *(n for n in numbers if n is not None)]) + 1:06d}"
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
                yield RawArticle(
                    id=row["id"], title=row["title"], text=row["text"], source=row["source"], date=row["date"],
                    url=row["url"], author=row["author"], origin=row["origin"],
                )  # fmt: skip
        finally:
            db.close()


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
        has_snapshots = any(p.is_dir() for p in index_dir.glob(f"{_SNAPSHOT_PREFIX}*"))
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
    suffix = folder.name.removeprefix("damaged-")[len(_SNAPSHOT_PREFIX) :]
    return int(suffix) if suffix.isdigit() else None


def _prune(index_dir: Path, keep: int) -> None:
    """Keep the live snapshot and the newest `keep - 1` that were live before it; delete the rest, including
    snapshots that never went live (a crash before CURRENT moved) and dead writers' temporary folders; then
    delete the segments no remaining snapshot lists (a damaged snapshot set aside by `repair` keeps its own)."""
    live = live_name(index_dir)
    earlier = [n for n in reversed(live_history(index_dir)) if n != live and (index_dir / n).is_dir()]
    kept = {live, *earlier[: max(keep, 1) - 1]}
    for folder in index_dir.glob(f"{_SNAPSHOT_PREFIX}*"):
        if folder.is_dir() and folder.name not in kept:
            shutil.rmtree(folder, ignore_errors=True)
    for stale in index_dir.glob(f".{_SNAPSHOT_PREFIX}*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)
    used: set[str] = set()
    for folder in [*index_dir.glob(f"{_SNAPSHOT_PREFIX}*"), *index_dir.glob(f"damaged-{_SNAPSHOT_PREFIX}*")]:
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
            for p in index_dir.glob(f"{_SNAPSHOT_PREFIX}*")
            if p.is_dir() and is_snapshot_name(p.name) and p.name not in {*seen, damaged}
        ),
        reverse=True,
    )
    return [index_dir / n for n in [*seen, *others] if (index_dir / n).is_dir()]


def repair(index_dir: Path) -> str:
    """Check the live snapshot's files (sizes and checksums); when it is damaged, make the newest intact
    snapshot live again and set the damaged one aside as `damaged-snap-…`. Returns what was done; raises
    IndexCorruptError when no intact snapshot is left. Call under `writer_lock`."""
    name = live_name(index_dir)
    if name is None:
        raise IndexNotFoundError(f"no index at {index_dir}; create one with: qa ingest PATH")
    pointer = pointer_problem(index_dir, name)
    live = None if pointer else index_dir / name
    problems = [pointer] if pointer else _full_check(index_dir, index_dir / name)
    if live is not None and not problems:
        files = sum(len(e.get("files") or {}) for e in read_manifest(live).get("segments") or [])
        return f"{live.name} is intact ({files} files checked); nothing to do"
    for candidate in fallback_snapshots(index_dir, name if is_snapshot_name(name) else None):
        if _full_check(index_dir, candidate):
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


def _full_check(index_dir: Path, folder: Path) -> list[str]:
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


def plan_merges(entries: Sequence[dict], max_segments: int) -> list[list[int]]:
    """Which segments to merge (runs of neighbours, by position): each mostly-deleted segment on its own, then
    the neighbouring pair with the fewest live sentences, again and again, until at most `max_segments` are
    left. Small segments merge with each other long before a large one is rewritten."""
    sizes = [max(e["sentences"] - e.get("deleted_sentences", 0), 0) for e in entries]
    groups = [[i] for i in range(len(entries))]
    rewrite = {i for i, e in enumerate(entries) if e["articles"] and len(e.get("deleted") or ()) * 2 > e["articles"]}
    while len(groups) > max(max_segments, 1):
        pair = min(range(len(groups) - 1), key=lambda g: sum(sizes[i] for i in groups[g] + groups[g + 1]))
        groups[pair : pair + 2] = [groups[pair] + groups[pair + 1]]
    return [g for g in groups if len(g) > 1 or g[0] in rewrite]


def merge_segments(index_dir: Path, entries: Sequence[dict], *, dimension: int, approximate_above: int) -> dict | None:
    """Write the live articles of `entries` (in order) as one new segment; None when none is left."""
    segments = []
    try:
        sentence_offset = chunk_offset = 0
        for entry in entries:
            segments.append(Segment(index_dir, entry, sentence_offset, chunk_offset))
        articles = [a for s in segments for a in s.indexed_articles()]
    finally:
        for s in segments:
            s.close()
    if not articles:
        return None
    return write_segment(index_dir, articles, dimension=dimension, approximate_above=approximate_above)


class IndexStore:
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
        _check_manifest(manifest, folder, model_sha256, dimension, encoder)
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

    # --- counts and metadata -------------------------------------------------------------------
    @property
    def n_articles(self) -> int:
        return int(self.manifest["articles"])

    @property
    def n_sentences(self) -> int:
        return int(self.manifest["sentences"])

    @property
    def n_chunks(self) -> int:
        return int(self.manifest["chunks"])

    def _by_segment(self, rows: Iterable[int], offsets: np.ndarray) -> Iterator[tuple[Segment, list[int]]]:
        """The segments holding the global `rows` (numbered by `offsets`), each with its rows numbered locally,
        in the order given; rows past the end are left out."""
        found: dict[int, list[int]] = {}
        for row in rows:
            position = int(np.searchsorted(offsets, row, side="right")) - 1
            if 0 <= position < len(self.segments):
                found.setdefault(position, []).append(int(row) - int(offsets[position]))
        for position, local in found.items():
            yield self.segments[position], local

    def _alive(self, segment: Segment, column: str = "id") -> tuple[str, list[str]]:
        """An SQL condition leaving out the segment's deleted articles (by `column`), and its parameters."""
        if not segment.deleted:
            return "1", []
        ids = sorted(segment.deleted)
        return f"{column} NOT IN ({','.join('?' * len(ids))})", ids

    def articles(self) -> list[Article]:
        """Every article, in ingest order."""
        found = []
        for s in self.segments:
            where, params = self._alive(s)
            found += [
                as_article(r) for r in s.db.execute(f"SELECT * FROM articles WHERE {where} ORDER BY position", params)
            ]
        return found

    def article(self, article_id: str) -> Article | None:
        located = self.locate(article_id)
        return located[1] if located is not None else None

    def locate(self, article_id: str) -> tuple[str, Article] | None:
        """The name of the segment holding the live article `article_id`, and the article (None: no such)."""
        for s in reversed(self.segments):
            if s.alive(article_id):
                row = s.db.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
                if row is not None:
                    return s.name, as_article(row)
        return None

    def find_articles(self, column: str, value: str) -> list[tuple[str, Article]]:
        """(segment name, article) of the live articles whose `column` ("url" or "origin") is `value`."""
        if column not in ("url", "origin"):
            raise ValueError(f"cannot look articles up by {column!r}")
        found = []
        for s in self.segments:
            for row in s.db.execute(f"SELECT * FROM articles WHERE {column} = ?", (value,)):
                if s.alive(row["id"]):
                    found.append((s.name, as_article(row)))
        return found

    def _by_article(self, query: str, article_ids: Collection[str]) -> Iterator[tuple[Segment, tuple]]:
        ids = list(dict.fromkeys(article_ids))
        if not ids:
            return
        for start in range(0, len(ids), 900):
            part = ids[start : start + 900]
            marks = ",".join("?" * len(part))
            for s in self.segments:
                for row in s.db.execute(query.format(marks=marks), part):
                    if s.alive(row[0]):
                        yield s, tuple(row)

    def titles(self, article_ids: Collection[str]) -> dict[str, str]:
        """Article id → title, for the ids given (unknown ids are left out)."""
        query = "SELECT id, title FROM articles WHERE id IN ({marks})"
        return {row[0]: row[1] for _, row in self._by_article(query, article_ids)}

    def article_dates(self, article_ids: Collection[str]) -> dict[str, str | None]:
        """Article id → its ISO date (None when undated), for the ids given."""
        query = "SELECT id, date FROM articles WHERE id IN ({marks})"
        return {row[0]: row[1] for _, row in self._by_article(query, article_ids)}

    def sentences(self, rows: Sequence[int]) -> list[dict]:
        """Sentence rows (row, article_id, number, start, end, text, chunk_row), in the order asked."""
        found: dict[int, dict] = {}
        for s, local in self._by_segment(rows, self.sentence_offsets):
            marks = ",".join("?" * len(local))
            for r in s.db.execute(f"SELECT * FROM sentences WHERE row IN ({marks})", local):
                if s.alive(r["article_id"]):
                    found[r["row"] + s.sentence_offset] = self._sentence(s, r)
        return [found[r] for r in rows if r in found]

    @staticmethod
    def _sentence(s: Segment, r: object) -> dict:
        row = dict(r)  # type: ignore[call-overload]
        row["row"] += s.sentence_offset
        row["chunk_row"] += s.chunk_offset
        return row

    def article_times(self, article_ids: Collection[str]) -> dict[str, dict[int, list[TimeMention]]]:
        """Each article's resolved time expressions by sentence number (`TITLE` for the title; offsets into that
        sentence or the title). Articles without any are left out."""
        found: dict[str, dict[int, list[TimeMention]]] = {}
        query = 'SELECT article_id, sentence, start, "end", text, first, last, period FROM times WHERE article_id IN ({marks})'  # noqa: E501
        for _, (article_id, number, start, end, text, first, last, period) in self._by_article(query, article_ids):
            mention = TimeMention(start, end, text, date.fromisoformat(first), date.fromisoformat(last), period)
            found.setdefault(article_id, {}).setdefault(number, []).append(mention)
        return found

    def chunk_rows_in_time(
        self, dated: tuple[str, str], told: tuple[str, str] | None, *, relative_only: bool = False
    ) -> np.ndarray:
        """Chunk rows of the articles dated within `dated` (inclusive ISO dates), and, with `told`, of the
        articles whose text or title names a time overlapping it (with `relative_only`, in words that do not
        say its year: "in January" in an article of March, not "in January 1987")."""
        query = "SELECT c.row, c.article_id FROM chunks c JOIN articles a ON a.id = c.article_id WHERE a.date BETWEEN ? AND ?"  # noqa: E501
        params: list[str | int] = list(dated)
        if told is not None:
            query += (
                " OR c.article_id IN (SELECT article_id FROM times WHERE first <= ? AND last >= ?"
                " AND (? = 0 OR instr(text, substr(first, 1, 4)) = 0))"
            )
            params += [told[1], told[0], int(relative_only)]
        rows = [s.chunk_offset + r for s in self.segments for r, a in s.db.execute(query, params) if s.alive(a)]
        return np.array(sorted(rows), dtype=np.int64)

    def article_sentences(self, article_id: str) -> list[dict]:
        for s in reversed(self.segments):
            if s.alive(article_id):
                query = "SELECT * FROM sentences WHERE article_id = ? ORDER BY number"
                rows = [self._sentence(s, r) for r in s.db.execute(query, (article_id,))]
                if rows:
                    return rows
        return []

    def chunk_sentence_rows(self, chunk_rows: Sequence[int]) -> dict[int, list[int]]:
        """Sentence rows of each chunk row."""
        result: dict[int, list[int]] = {int(r): [] for r in chunk_rows}
        for s, local in self._by_segment(chunk_rows, self.chunk_offsets):
            marks = ",".join("?" * len(local))
            query = (
                "SELECT c.row AS chunk, s.row AS sentence FROM chunks c JOIN sentences s "
                "ON s.article_id = c.article_id AND s.number BETWEEN c.first_sentence AND c.last_sentence "
                f"WHERE c.row IN ({marks}) ORDER BY c.row, s.number"
            )
            for chunk, sentence in s.db.execute(query, local):
                result[chunk + s.chunk_offset].append(sentence + s.sentence_offset)
        return result

    def chunk_articles(self, chunk_rows: Sequence[int]) -> dict[int, str]:
        return {row: location[0] for row, location in self.chunk_locations(rows=chunk_rows).items()}

    def chunk_locations(
        self, *, rows: Sequence[int] | None = None, article_id: str | None = None
    ) -> dict[int, tuple[str, int, int]]:
        """Chunk row → (article id, start, end) for the rows given, or for every chunk of `article_id`."""
        found: dict[int, tuple[str, int, int]] = {}
        if article_id is not None:
            for s in reversed(self.segments):
                if s.alive(article_id):
                    query = 'SELECT row, article_id, start, "end" FROM chunks WHERE article_id = ?'
                    for row, article, start, end in s.db.execute(query, (article_id,)):
                        found[row + s.chunk_offset] = (article, start, end)
                    if found:
                        return found
            return found
        for s, local in self._by_segment(rows or [], self.chunk_offsets):
            query = f'SELECT row, article_id, start, "end" FROM chunks WHERE row IN ({",".join("?" * len(local))})'
            for row, article, start, end in s.db.execute(query, local):
                if s.alive(article):
                    found[row + s.chunk_offset] = (article, start, end)
        return found

    def sources(self) -> list[tuple[str, int]]:
        """Each source with its article count, most articles first."""
        counts: dict[str, int] = {}
        for s in self.segments:
            where, params = self._alive(s)
            query = f"SELECT COALESCE(source, ''), COUNT(*) FROM articles WHERE {where} GROUP BY 1"
            for source, n in s.db.execute(query, params):
                counts[source] = counts.get(source, 0) + n
        return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))

    def date_range(self) -> tuple[str | None, str | None]:
        firsts, lasts = [], []
        for s in self.segments:
            where, params = self._alive(s)
            query = f"SELECT MIN(date), MAX(date) FROM articles WHERE date IS NOT NULL AND {where}"
            first, last = s.db.execute(query, params).fetchone()
            if first:
                firsts.append(first)
                lasts.append(last)
        return (min(firsts), max(lasts)) if firsts else (None, None)

    def allowed_chunk_rows(
        self, sources: Sequence[str] | None, date_from: str | None, date_to: str | None
    ) -> np.ndarray | None:
        """Chunk rows whose article passes the filter, or None when nothing is filtered."""
        if not sources and not date_from and not date_to:
            return None
        clauses: list[str] = []
        params: list[str] = []
        if sources:
            clauses.append(f"COALESCE(a.source, '') IN ({','.join('?' * len(sources))})")
            params.extend(sources)
        if date_from:
            clauses.append("a.date >= ?")
            params.append(date_from)
        if date_to:
            clauses.append("a.date <= ?")
            params.append(date_to)
        query = f"SELECT c.row, c.article_id FROM chunks c JOIN articles a ON a.id = c.article_id WHERE {' AND '.join(clauses)}"  # noqa: E501
        rows = [s.chunk_offset + r for s in self.segments for r, a in s.db.execute(query, params) if s.alive(a)]
        return np.array(sorted(rows), dtype=np.int64)

    # --- vectors and search ----------------------------------------------------------------------
    def sentence_vectors_of(self, rows: Sequence[int]) -> np.ndarray:
        """The stored vectors of sentence rows, as float32, in the order given."""
        return self._vectors(rows, self.sentence_offsets, "sentence_vectors")

    def chunk_vectors_of(self, rows: Sequence[int]) -> np.ndarray:
        return self._vectors(rows, self.chunk_offsets, "chunk_vectors")

    def _vectors(self, rows: Sequence[int], offsets: np.ndarray, kind: str) -> np.ndarray:
        dimension = int(self.manifest["dimension"])
        out = np.zeros((len(rows), dimension), dtype=np.float32)
        positions = np.searchsorted(offsets, np.asarray(rows, dtype=np.int64), side="right") - 1
        for position in set(positions.tolist()):
            s = self.segments[position]
            at = np.flatnonzero(positions == position)
            local = np.asarray(rows, dtype=np.int64)[at] - offsets[position]
            with reading(f"{s.name}/{kind}.npy"):
                out[at] = np.asarray(getattr(s, kind)[local], dtype=np.float32)
        return out

    def search_chunks(self, vector: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Nearest chunks by cosine similarity: (chunk row, similarity), best first."""
        return self._search(vector, k, allowed, "chunk")

    def search_sentences(
        self, vector: np.ndarray, k: int, allowed_sentences: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        return self._search(vector, k, allowed_sentences, "sentence")

    def _search(self, vector: np.ndarray, k: int, allowed: np.ndarray | None, kind: str) -> list[tuple[int, float]]:
        if k <= 0:
            return []
        query = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
        found: list[tuple[int, float]] = []
        for s in self.segments:
            index = getattr(s, f"{kind}_index")
            vectors = getattr(s, f"{kind}_vectors")
            dead = getattr(s, f"dead_{kind}s")
            offset = getattr(s, f"{kind}_offset")
            if index.ntotal == 0:
                continue
            if allowed is not None:
                # A filtered search scores only the allowed rows exactly; the filter is rarely wide and large.
                local = allowed[(allowed >= offset) & (allowed < offset + index.ntotal)] - offset
                local = np.setdiff1d(local, dead, assume_unique=False) if len(dead) else local
                if not len(local):
                    continue
                scores = np.asarray(vectors[local], dtype=np.float32) @ query[0]
                top = np.argsort(-scores)[:k]
                found += [(offset + int(local[i]), float(scores[i])) for i in top]
                continue
            scores, ids = index.search(query, min(k + len(dead), index.ntotal))
            hits = [(int(i), float(v)) for i, v in zip(ids[0], scores[0], strict=True) if i >= 0]
            if len(dead):
                gone = set(dead.tolist())
                hits = [(i, v) for i, v in hits if i not in gone]
            found += [(offset + i, v) for i, v in hits[:k]]
        found.sort(key=lambda pair: (-pair[1], pair[0]))
        return found[:k]

    def sentence_rows_of_chunks(self, chunk_rows: np.ndarray) -> np.ndarray:
        rows = self.chunk_sentence_rows([int(r) for r in chunk_rows])
        return np.array(sorted({s for v in rows.values() for s in v}), dtype=np.int64)


def _check_manifest(
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
