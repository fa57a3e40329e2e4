"""Which files the inputs a user names hold: each file once, in a stable order, with a Problem for each path,
folder or link skipped and why.

Folders are walked in sorted order; hidden entries and files no reader reads (`index.readers.registry`) are
left out; a symbolic link that leads out of the folder named is skipped with a reason (a link in a shared folder
must not pull in /etc/passwd) unless links are followed; a folder linked twice is entered once, so link loops end.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from index.models import Problem
from index.readers.registry import reader_for


def input_units(paths: Sequence[Path], *, follow_symlinks: bool = False) -> Iterator[Path | Problem]:
    """What `index.readers.read_inputs` reads, in its order, without reading it: each file to read (`read_file`),
    and a Problem in its place for each path that does not exist and each folder or link skipped. Reading the
    files of this sequence in order gives exactly `read_inputs`' records, wherever each file is read."""
    for path in paths:
        if not _exists(path):
            yield Problem(path=str(path), reason="no such file or folder")
            continue
        yield from _input_items([path], follow_symlinks)


def iter_input_files(paths: Sequence[Path], *, follow_symlinks: bool = False) -> Iterator[Path]:
    """Yield the readable-looking files under `paths`, each once, in a stable order.

    Files are yielded as given (even hidden or of an unsupported type, so `read_inputs` can say why it
    skips them); folders are walked recursively in sorted order, skipping hidden entries, files whose
    suffix is not supported, folders that cannot be listed and (unless `follow_symlinks`) symbolic links that
    lead out of the folder named. Paths that do not exist yield nothing.
    """
    for item in _input_items(paths, follow_symlinks):
        if isinstance(item, Path):
            yield item


def _input_items(paths: Sequence[Path], follow_symlinks: bool) -> Iterator[Path | Problem]:
    """`iter_input_files`, with a Problem for each folder or link it skips (saying why) in its place."""
    seen: set[Path] = set()
    for path in paths:
        if _is_dir(path):
            candidates = _walk(path, _resolved(path), follow_symlinks, set())
        else:
            candidates = iter([path] if _exists(path) else [])
        for candidate in candidates:
            if isinstance(candidate, Problem):
                yield candidate
                continue
            key = _resolved(candidate)
            if key not in seen:
                seen.add(key)
                yield candidate


def _exists(path: Path) -> bool:
    # A dangling symlink is still an input the user named; reading it reports why it fails. So is a path whose
    # folder may not be searched (stat fails with permission denied): reading it says so.
    try:
        return path.exists() or path.is_symlink()
    except PermissionError:
        return True


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: reading it reports the problem for this file only
        return path.absolute()


def _walk(folder: Path, root: Path, follow_symlinks: bool, walked: set[tuple[int, int]]) -> Iterator[Path | Problem]:
    """The supported files under `folder`, in sorted order, and a Problem for each entry skipped with a reason.
    `root` is the folder the user named: links leading out of it are only followed with `follow_symlinks`;
    `walked` holds the folders already entered (a linked folder is entered once, so link loops end)."""
    try:
        info = folder.stat()
        walked.add((info.st_dev, info.st_ino))
        entries = sorted(folder.iterdir())
    except PermissionError:
        yield Problem(path=str(folder), reason="permission denied; the folder cannot be listed")
        return
    except OSError as error:
        yield Problem(path=str(folder), reason=f"the folder cannot be listed ({error.strerror or error})")
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        supported = reader_for(entry) is not None
        try:
            link = entry.is_symlink()
            if link:
                target = _resolved(entry)
                if not follow_symlinks and not target.is_relative_to(root):
                    if supported or _is_dir(entry):
                        reason = f"a symbolic link to {target}, outside {root}; qa ingest --follow-symlinks reads it"
                        yield Problem(path=str(entry), reason=reason)
                    continue
            is_dir = entry.is_dir()
        except PermissionError:
            if supported:  # what could not be an input anyway is left out quietly (/proc holds thousands)
                yield Problem(path=str(entry), reason="permission denied; check its permissions")
            continue
        except OSError:
            is_dir = False  # a dangling link or a link loop: reading it says so, for this entry only
        if is_dir:
            try:
                info = entry.stat()
            except OSError:
                continue
            if (info.st_dev, info.st_ino) not in walked:
                yield from _walk(entry, root, follow_symlinks, walked)
        elif supported:
            yield entry
