"""Where the product's files are, named once: the checkout, its bundled corpus and reports folder, and the
benchmark data (SQuAD, the news sets) kept beside the checkout, not shipped with it."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = REPO_ROOT / "corpus"  # the bundled default corpus, indexed on first use
REPORTS_DIR = REPO_ROOT / "reports"  # evaluation and benchmark reports
BENCHMARK_RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"  # the benchmarks' committed results

# Benchmark data too large to ship: it sits in ../shared/bench beside the checkout when present.
BENCH_DIR = REPO_ROOT.parent / "shared" / "bench"
SQUAD_DIR = BENCH_DIR / "squad"  # SQuAD v1.1 and v2.0 (train-v1.1.json, dev-v1.1.json, dev-v2.0.json)
NEWS_BENCH_DIR = BENCH_DIR / "news"  # bbc.jsonl, reuters21578.jsonl, news-qa-small.jsonl
