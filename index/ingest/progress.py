"""How far an ingest has got, stage by stage: read (files), embed (chunks), write (articles), each with its total.

The ingest calls a `StageProgress` — `(stage, done, total)` — as each stage moves; `total` may grow while files
are still being read (what is to be embedded and written is only known once it has been read). `StageBars`
shows the stages on a terminal as one tqdm bar each, or as plain lines when the output is not a terminal (a log,
a pipe: no carriage returns); `StageFractions` turns them into one overall fraction and a message, for the chat's
progress bar.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

__all__ = ["STAGES", "FileCount", "Progress", "StageBars", "StageFractions", "StageListeners", "StageProgress"]

StageProgress = Callable[[str, int, int], None]  # (stage, done, total)
Progress = Callable[[float, str], None]  # (fraction of the whole ingest, message): the chat's single bar
STAGES = {"read": "files", "embed": "chunks", "write": "articles"}
# Share of the whole each stage takes in the chat's single bar: embedding is where the time goes.
_WEIGHTS = {"read": 0.2, "embed": 0.7, "write": 0.1}
PLAIN_EVERY_S = 5.0


class StageBars:
    """Progress on `stream` (default stderr): tqdm bars on a terminal, else a plain line per stage every few
    seconds and when it completes. Thread-safe (embedding reports from its own thread)."""

    def __init__(self, stream: IO[str] | None = None, *, terminal: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self._bars: dict[str, Any] = {}
        self._said: dict[str, tuple[float, int, int]] = {}
        self._lock = threading.Lock()

    def __call__(self, stage: str, done: int, total: int) -> None:
        with self._lock:
            if self.terminal:
                self._bar(stage, done, total)
            else:
                self._line(stage, done, total)

    def _bar(self, stage: str, done: int, total: int) -> None:
        from tqdm.auto import tqdm

        bar = self._bars.get(stage)
        if bar is None:
            bar = self._bars[stage] = tqdm(
                total=total, desc=f"{stage:<5}", unit=f" {STAGES.get(stage, 'items')}", position=len(self._bars),
                file=self.stream, leave=True,
            )  # fmt: skip
        if bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    def _line(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        last = self._said.get(stage)
        finished = total > 0 and done >= total
        if last is not None and (last[1:] == (done, total) or (not finished and now - last[0] < PLAIN_EVERY_S)):
            return
        self._said[stage] = (now, done, total)
        print(f"{stage}: {done:,} of {total:,} {STAGES.get(stage, 'items')}", file=self.stream, flush=True)

    def close(self) -> None:
        with self._lock:
            for bar in self._bars.values():
                bar.close()
            self._bars.clear()


class StageFractions:
    """One overall fraction and message from the stages, for a single progress bar: read, embed and write each
    fill their share (`_WEIGHTS`) by their own done/total."""

    def __init__(self, report: Progress) -> None:
        self.report = report
        self._done: dict[str, float] = {}
        self._shown = 0.0
        self._lock = threading.Lock()

    def __call__(self, stage: str, done: int, total: int) -> None:
        with self._lock:
            self._done[stage] = min(1.0, done / total) if total > 0 else 0.0
            fraction = sum(_WEIGHTS.get(s, 0.0) * f for s, f in self._done.items())
            verb = {"read": "reading", "embed": "embedding", "write": "writing"}.get(stage, stage)
            message = f"{verb}: {done:,} of {total:,} {STAGES.get(stage, 'items')}"
            # Written is the end of the ingest (the new snapshot is live): exactly 1, never a rounding short of it.
            finished = stage == "write" and done >= total
            # While files are still being read the embed total grows (1 of 1 chunks, then 1 of 3), so the sum can
            # dip: the bar holds where it was instead of moving back, and the message says the true counts.
            self._shown = 1.0 if finished else max(self._shown, min(fraction, 0.99))
            self.report(self._shown, message)


class StageListeners:
    """One ingest's `StageProgress`: each report goes to every listener — `on_stage` as it is, `on_progress` as one
    fraction and a message (`StageFractions`), and, with `show_progress`, to stderr (`StageBars`)."""

    def __init__(self, on_stage: StageProgress | None, on_progress: Progress | None, show_progress: bool) -> None:
        self.listeners: list[StageProgress] = [on_stage] if on_stage else []
        if on_progress is not None:
            self.listeners.append(StageFractions(on_progress))
        self.bars = StageBars() if show_progress else None
        if self.bars is not None:
            self.listeners.append(self.bars)

    def __call__(self, stage: str, done: int, total: int) -> None:
        for listener in self.listeners:
            listener(stage, done, total)

    def close(self) -> None:
        if self.bars is not None:
            self.bars.close()


class FileCount:
    """The read stage's count: files read so far, from the records' origins ("path" or "path:line"), out of
    `total` (the listing's length, when known)."""

    def __init__(self, total: int | None) -> None:
        self.total = total
        self.files: set[str] = set()

    def seen(self, origin: str) -> tuple[int, int]:
        """(done, total) once a record of `origin` is read."""
        path, _, line = origin.rpartition(":")
        self.files.add(path if line.isdigit() and path else origin)
        # The file being read counts once its next one starts (or reading ends).
        done = len(self.files) - 1
        return done, max(self.total or 0, len(self.files))

    def finished(self) -> tuple[int, int]:
        total = max(self.total or 0, len(self.files))
        return total, total
