"""Files a visitor uploads in the chat: checked one by one, ingested, then deleted from gradio's upload folder.

`check_uploads` splits a batch into the files to ingest and a reason for each refused one (type, size, empty,
too many); `ingest_uploads` adds the accepted ones to the index with the ingest's progress shown in the page and
returns the summary as HTML; `discard_uploads` deletes the uploaded files afterwards, so that what was uploaded
cannot be downloaded back from the server (the index keeps the text).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import gradio as gr
from gradio.utils import get_upload_folder

from index.readers import SUPPORTED_SUFFIXES
from newsqa.settings import Settings
from qa.assistant import Assistant
from ui.render import render_ingest_result

UPLOAD_SUFFIXES = sorted(SUPPORTED_SUFFIXES)
MAX_UPLOAD_FILES = 50
UPLOAD_CAP_FACTOR = 4  # uploads this many times QA_MAX_FILE_BYTES are stopped by the browser before sending


def upload_help(settings: Settings) -> str:
    """What the upload tab accepts, in one paragraph (Markdown)."""
    return (
        f"Upload {', '.join(UPLOAD_SUFFIXES)} files, up to {size_text(settings.index.max_file_bytes)} "
        f"each and {MAX_UPLOAD_FILES} at a time. JSON/JSONL records need a text field "
        "(title, source, date and url are used when present)."
    )


def ingest_uploads(assistant: Assistant, files: Sequence[str] | None, max_bytes: int, progress: gr.Progress) -> str:
    """Check and ingest the uploaded `files`, showing the ingest's stages in `progress`; the summary as HTML.

    Every uploaded file of the batch, added or refused, is deleted from gradio's upload folder afterwards; an
    index that refuses the whole batch (locked, mismatched) is a `gr.Error` that says why.
    """
    uploads = [Path(f) for f in files or []]
    try:
        accepted, rejected = check_uploads(uploads, max_bytes)
        report = None
        if accepted:
            progress(0.0, desc="reading files")

            def on_progress(fraction: float, message: str) -> None:
                progress(fraction, desc=message)

            try:
                report = assistant.ingest(accepted, show_progress=False, on_progress=on_progress)
            except Exception as exc:  # the index refused the whole batch (locked, mismatched): say why
                raise gr.Error(f"Could not add the files: {exc}") from None
        return render_ingest_result(report, rejected, {str(p): p.name for p in accepted})
    finally:
        discard_uploads(uploads)  # the index keeps the text; the files must not stay downloadable


def check_uploads(paths: Sequence[Path], max_bytes: int) -> tuple[list[Path], list[str]]:
    """Split uploads into files to ingest and messages for the refused ones (type, size, empty, too many)."""
    accepted: list[Path] = []
    refused: list[str] = []
    for number, path in enumerate(paths, start=1):
        suffix = path.suffix.lower()
        if number > MAX_UPLOAD_FILES:
            refused.append(f"{path.name}: more than {MAX_UPLOAD_FILES} files at once; upload it in another batch")
        elif suffix not in SUPPORTED_SUFFIXES:
            kind = f"{suffix!r} files" if suffix else "files without a suffix"
            refused.append(f"{path.name}: {kind} are not supported; upload {', '.join(UPLOAD_SUFFIXES)}")
        elif not path.is_file():
            refused.append(f"{path.name}: the upload did not arrive; try again")
        elif (size := path.stat().st_size) > max_bytes:
            refused.append(f"{path.name}: {size_text(size)} is over the {size_text(max_bytes)} limit per file")
        elif size == 0:
            refused.append(f"{path.name}: the file is empty")
        else:
            accepted.append(path)
    return accepted, refused


def discard_uploads(paths: Iterable[Path]) -> None:
    """Delete uploaded files (and their emptied folders) from gradio's upload folder; other paths are left alone."""
    root = Path(get_upload_folder()).resolve()
    for path in paths:
        try:
            resolved = path.resolve()
        except OSError:
            continue
        if not resolved.is_relative_to(root) or resolved == root:
            continue
        with contextlib.suppress(OSError):
            resolved.unlink(missing_ok=True)
        folder = resolved.parent
        if folder != root:
            with contextlib.suppress(OSError):
                folder.rmdir()  # gradio keeps each upload in a folder of its own; only removed when empty


def size_text(size: int) -> str:
    """A file size in words: "812 bytes", "10 KiB", "1.5 MiB", "20 MiB"."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB".replace(".0 MiB", " MiB")
