"""Honest ingest progress (index/ingest/progress.py): one stage at a time — read, embed, write — each with its total,
as bars on a terminal, plain lines elsewhere, and one real fraction for the chat."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from index.ingest import Ingestor
from index.ingest.progress import StageBars, StageFractions
from newsqa.paths import REPO_ROOT
from newsqa.settings import Settings

STORIES = [
    "Harbour City police seized 310 kilogrammes of heroin in 2018, the force said. The haul was the largest in a "
    "decade.",
    "The harbour ferry carried 41,200 passengers in February, the port authority said on Thursday.",
    "Officers arrested 212 suspects during the year. Most of the drugs arrived by sea, the chief inspector said.",
]


def _files(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for number, story in enumerate(STORIES, start=1):
        (folder / f"story-{number}.txt").write_text(f"Story {number}\n\n{story}\n", encoding="utf-8")
    return folder


def test_every_stage_reports_its_total_and_ends_complete(encoder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    events: list[tuple[str, int, int]] = []
    fractions: list[tuple[float, str]] = []
    ingestor = Ingestor(encoder, Settings(index_dir=tmp_path / "index"))
    ingestor.batch_chunks = 1  # embed one chunk at a time, so the embed stage moves in several steps
    report = ingestor.ingest(
        [_files(tmp_path / "news")], show_progress=False, on_stage=lambda *e: events.append(e),
        on_progress=lambda f, m: fractions.append((f, m)),
    )  # fmt: skip
    assert len(report.added) == 3

    stages = [name for name, _, _ in events]
    assert stages.index("read") < stages.index("embed") < stages.index("write")
    by_stage = {name: [(done, total) for s, done, total in events if s == name] for name in ("read", "embed", "write")}
    assert by_stage["read"][-1] == (3, 3) and all(total == 3 for _, total in by_stage["read"])
    chunks = by_stage["embed"][-1][1]
    assert chunks >= 3 and by_stage["embed"][-1] == (chunks, chunks)
    assert len({done for done, _ in by_stage["embed"]}) >= 3, by_stage["embed"]  # it moved, not 0 -> 100 %
    assert [done for done, _ in by_stage["embed"]] == sorted(done for done, _ in by_stage["embed"])
    assert by_stage["write"][-1] == (3, 3)

    values = [f for f, _ in fractions]
    assert values == sorted(values) and values[-1] == 1.0 and len(set(values)) >= 5
    assert any(m.startswith("embedding: ") and m.endswith(" chunks") for _, m in fractions)


def test_plain_lines_when_not_a_terminal() -> None:
    out = io.StringIO()
    bars = StageBars(out, terminal=False)
    for event in [("read", 0, 2), ("read", 1, 2), ("read", 2, 2), ("embed", 0, 5), ("embed", 5, 5), ("embed", 5, 5)]:
        bars(*event)
    bars.close()
    # The first report and each completion are said once; progress in between waits PLAIN_EVERY_S.
    assert out.getvalue().splitlines() == [
        "read: 0 of 2 files", "read: 2 of 2 files", "embed: 0 of 5 chunks", "embed: 5 of 5 chunks",
    ]  # fmt: skip
    assert "\r" not in out.getvalue()


def test_bars_on_a_terminal() -> None:
    out = io.StringIO()
    bars = StageBars(out, terminal=True)
    bars("read", 1, 2)
    bars("read", 2, 2)
    bars("embed", 3, 4)
    bars.close()
    text = out.getvalue()
    assert "read :" in text and "2/2" in text and "embed:" in text and "3/4" in text


def test_one_fraction_for_the_chat_fills_stage_by_stage() -> None:
    seen: list[tuple[float, str]] = []
    fractions = StageFractions(lambda f, m: seen.append((round(f, 3), m)))
    for event in [("read", 1, 2), ("read", 2, 2), ("embed", 50, 100), ("embed", 100, 100), ("write", 3, 3)]:
        fractions(*event)
    assert seen == [
        (0.1, "reading: 1 of 2 files"), (0.2, "reading: 2 of 2 files"), (0.55, "embedding: 50 of 100 chunks"),
        (0.9, "embedding: 100 of 100 chunks"), (1.0, "writing: 3 of 3 articles"),
    ]  # fmt: skip


def test_the_cli_prints_plain_stage_lines_into_a_pipe(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    done = subprocess.run(
        [sys.executable, "-m", "cli", "ingest", str(_files(tmp_path / "news")), "--index-dir", str(tmp_path / "i")],
        capture_output=True, text=True, timeout=300, env=env, cwd=REPO_ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stderr.splitlines()
    assert "read: 3 of 3 files" in lines and "write: 3 of 3 articles" in lines, lines
    assert any(line.startswith("embed: ") and line.endswith(" chunks") for line in lines)
    assert "\r" not in done.stderr and done.stdout.startswith("3 added")


def test_the_overall_fraction_never_moves_back_when_a_total_grows() -> None:
    said: list[tuple[float, str]] = []
    fractions = StageFractions(lambda f, m: said.append((f, m)))
    for event in [("read", 1, 3), ("embed", 1, 1), ("read", 2, 3), ("embed", 1, 3), ("embed", 2, 3), ("read", 3, 3)]:
        fractions(*event)
    values = [f for f, _ in said]
    assert values == sorted(values)
    assert values[3] == values[2]  # the embed total grew from 1 to 3: the bar holds instead of dropping
    assert said[3][1] == "embedding: 1 of 3 chunks"  # while the message tells the true count
    fractions("write", 3, 3)
    assert said[-1][0] == 1.0
