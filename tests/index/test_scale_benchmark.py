"""The archive-scale benchmark (benchmarks/scale.py) on a 2% sample: it runs end to end and its numbers hold
together. Opt-in (pytest -m benchmark); the full 40,000-article run is the documented command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from newsqa.paths import BENCH_DIR, NEWS_BENCH_DIR, REPO_ROOT


@pytest.mark.benchmark
def test_the_scale_benchmark_runs_on_a_sample_and_writes_consistent_numbers(tmp_path: Path) -> None:
    if not (NEWS_BENCH_DIR / "reuters21578.jsonl").is_file():
        pytest.skip(f"the benchmark data is not at {BENCH_DIR}")
    out = tmp_path / "scale.json"
    command = [sys.executable, str(REPO_ROOT / "benchmarks" / "scale.py"), "--fraction", "0.02", "--questions", "30"]
    done = subprocess.run([*command, "--out", str(out)], capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["corpus"]["articles"] > 700
    assert results["corpus"]["skipped"] < results["corpus"]["articles"] / 100
    assert results["add_100"]["articles"] == 100
    assert results["index"]["segments"] >= 2, "the added articles went into a segment of their own"
    assert results["dense_recall@10"]["sentence"] >= 0.98 and results["dense_recall@10"]["chunk"] >= 0.98
    assert results["questions"]["asked"] == 30 and results["questions"]["hit@1"] > 0.5
    assert (
        results["ingest"]["tokens_per_s"] > 0 and results["raw_rates"]["sentence_transformers_fp32"]["tokens_per_s"] > 0
    )
