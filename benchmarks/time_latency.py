"""What the time features cost per question: each dated-set question answered with and without them, in turn.

    python benchmarks/time_latency.py [--rounds 2] [--out reports/time-latency.json]

Builds (or reuses) the dated evaluation index (qa eval --dataset dated), then times `answer()` for every
question with `time_aware` on and off, alternating so both see the same machine load, and prints the median and
95th percentile of each and of the paired difference. Writes the numbers as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from newsqa.paths import REPORTS_DIR


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2, help="times every question is asked each way")
    parser.add_argument("--out", type=Path, default=REPORTS_DIR / "time-latency.json")
    args = parser.parse_args()

    from evaluation.datasets import prepare_dataset
    from index.encoder import load_encoder
    from newsqa.settings import Settings
    from qa.assistant import Assistant

    settings = Settings()
    encoder = load_encoder(settings)
    prepared = prepare_dataset("dated", encoder=encoder, settings=settings, progress=False)
    timed = Assistant(settings, encoder=encoder, index_dir=prepared.index_dir, auto_ingest=False)
    plain = Assistant(
        settings, encoder=encoder, index_dir=prepared.index_dir, auto_ingest=False, reader=timed.reader,
        time_aware=False,
    )  # fmt: skip
    for assistant in (timed, plain):
        assistant.answer("What was the trade surplus last month?")  # load lazily-initialised pieces first
    on: list[float] = []
    off: list[float] = []
    for _ in range(args.rounds):
        for question in prepared.questions:
            for assistant, times in ((timed, on), (plain, off)):
                started = time.perf_counter()
                assistant.answer(question.question, as_of=question.as_of)
                times.append((time.perf_counter() - started) * 1000)
    added = [a - b for a, b in zip(on, off, strict=True)]
    result = {
        "questions": len(prepared.questions),
        "rounds": args.rounds,
        "with_time_ms": {"p50": statistics.median(on), "p95": _p95(on)},
        "without_time_ms": {"p50": statistics.median(off), "p95": _p95(off)},
        "added_ms": {"p50": statistics.median(added), "mean": statistics.mean(added), "p95": _p95(added)},
    }
    print(f"with time features    p50 {result['with_time_ms']['p50']:.1f} ms, p95 {result['with_time_ms']['p95']:.1f}")
    print(f"without               p50 {result['without_time_ms']['p50']:.1f} ms, p95 {_p95(off):.1f}")
    print(f"added per question    p50 {result['added_ms']['p50']:.1f} ms, mean {result['added_ms']['mean']:.1f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"written: {args.out}")


def _p95(values: list[float]) -> float:
    return sorted(values)[int(0.95 * (len(values) - 1))]


if __name__ == "__main__":
    main()
