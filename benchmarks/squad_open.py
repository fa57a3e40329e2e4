"""Open-corpus SQuAD benchmark: every dev paragraph is indexed, every question asked against the whole index.

Runs SQuAD v1.1 (all questions, with the tune and test halves reported from the same run) and SQuAD v2.0
(answerable and unanswerable questions), writes a full report folder per dataset (see `evaluation.report`) and one
``summary.json`` with the headline numbers of each, and prints them.

    .venv/bin/python benchmarks/squad_open.py                  # full dev sets (about 1 h on 2 CPU cores)
    .venv/bin/python benchmarks/squad_open.py --limit 1000     # a seeded sample per dataset
    .venv/bin/python benchmarks/squad_open.py --datasets squad-v1.1 --half test

The built indexes are cached (user cache folder, or --index-root) and reused while the dev file, the model and
the index code are unchanged; see docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from evaluation.datasets import DEFAULT_PATHS
from evaluation.report import summary_lines, write_report
from evaluation.results import EvalResult, Metrics
from evaluation.run import run_eval
from newsqa.paths import REPORTS_DIR


def headline(metrics: Metrics) -> dict[str, float]:
    """The numbers worth comparing across runs, as fractions (latency in ms)."""
    return {
        "questions": metrics.n_questions,
        "hit@1": metrics.hit_at.get("1", 0.0),
        "hit@3": metrics.hit_at.get("3", 0.0),
        "hit@5": metrics.hit_at.get("5", 0.0),
        "em": metrics.spans["all"].em,
        "f1": metrics.spans["all"].f1,
        "squad_em": metrics.spans["all"].squad_em,
        "squad_f1": metrics.spans["all"].squad_f1,
        "article_recall@5": metrics.retrieval["article"].recall["5"],
        "article_mrr": metrics.retrieval["article"].mrr,
        "chunk_recall@5": metrics.retrieval["chunk"].recall["5"],
        "answered_rate": metrics.abstention["answered_rate"],
        "abstention_precision": metrics.abstention["precision"],
        "abstention_recall": metrics.abstention["recall"],
        "citation_correct": metrics.citation.correct,
        "latency_p50_ms": metrics.latency_ms["p50"],
        "latency_p95_ms": metrics.latency_ms["p95"],
    }


def summary_of(result: EvalResult) -> dict[str, object]:
    """Headline numbers of one run: overall and per subset (tune/test), plus the index build."""
    index = result.index
    return {
        "settings": result.settings.model_dump(mode="json"),
        "index": index.model_dump(mode="json") if index else None,
        "seconds": result.seconds,
        "all": headline(result.metrics),
        **{name: headline(metrics) for name, metrics in result.subsets.items()},
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit status (2 when a dev file is missing)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--datasets", nargs="+", default=["squad-v1.1", "squad-v2.0"], choices=["squad-v1.1", "squad-v2.0"]
    )
    parser.add_argument("--limit", type=int, help="seeded sample of questions per dataset (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--half", choices=["tune", "test", "all"], default="all")
    parser.add_argument("--index-root", type=Path, help="keep each dataset's index in <root>/<dataset>")
    parser.add_argument("--out", type=Path, help="output folder (default: reports/benchmark-<timestamp>/)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    from index.encoder import load_encoder

    missing = [str(DEFAULT_PATHS[d]) for d in args.datasets if not DEFAULT_PATHS[d].is_file()]
    if missing:
        print(f"squad_open: missing {', '.join(missing)} (benchmark data lives in ../shared/bench/)", file=sys.stderr)
        return 2
    out = args.out or REPORTS_DIR / f"benchmark-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    encoder = load_encoder()
    summary: dict[str, object] = {}
    for dataset in args.datasets:
        result = run_eval(
            dataset, encoder=encoder, limit=args.limit, seed=args.seed, half=args.half, top_k=5,
            index_dir=args.index_root / dataset if args.index_root else None, progress=not args.quiet,
        )  # fmt: skip
        report = write_report(result, out / dataset)
        summary[dataset] = summary_of(result)
        print("\n".join(summary_lines(result)))
        print(f"report: {report}\n")
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(f"summary: {out / 'summary.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
