"""Question latency and encoding speed under each thread setting, on a quiet machine and beside busy processes.

    python benchmarks/threads.py [--index-dir DIR] [--out reports/threads.json]

Each setting runs in a fresh process (thread pools are fixed when torch and FAISS load): the default set by
`index.threads` (all CPUs, waiting threads sleep), one thread, and all CPUs with spinning waiters
(OMP_WAIT_POLICY=ACTIVE). Each is measured twice: on its own, and with one CPU-bound process per core running
beside it. Prints question p50 / p95 over 40 questions and the time to encode 512 sentences; writes JSON.
The index must exist (the default index, or --index-dir: e.g. a SQuAD evaluation index).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

from newsqa.paths import REPO_ROOT, REPORTS_DIR

SETTINGS = {
    "all CPUs, sleeping waiters (default)": {},
    "1 thread": {"QA_THREADS": "1"},
    "all CPUs, spinning waiters": {"OMP_WAIT_POLICY": "ACTIVE"},
}
QUESTIONS = [
    "What year did the Panthers win?", "Who founded the university?", "How many people live in Warsaw?",
    "What is the capital of Poland?", "When was Tesla born?", "How many kilograms were seized in 2019?",
    "What did the minister say about the budget?", "Where is the river?",
]  # fmt: skip

CHILD = """
import json, statistics, sys, time
from pathlib import Path

from newsqa.paths import REPO_ROOT, REPORTS_DIR
from newsqa.settings import Settings
from qa.assistant import Assistant
import torch
index_dir = sys.argv[1]
settings = Settings(index_dir=Path(index_dir)) if index_dir else Settings()
assistant = Assistant(settings, auto_ingest=False)
questions = json.loads(sys.argv[2])
assistant.answer("warm up?")
times = []
for question in questions * 5:
    started = time.perf_counter()
    assistant.answer(question)
    times.append((time.perf_counter() - started) * 1000)
texts = ["The harbour ferry carried 47,900 passengers in March, the port authority said on Tuesday."] * 512
started = time.perf_counter()
assistant.encoder.encode(texts)
encode = time.perf_counter() - started
times.sort()
print(json.dumps({"threads": torch.get_num_threads(), "p50_ms": statistics.median(times),
                  "p95_ms": times[int(0.95 * (len(times) - 1))], "encode_512_s": encode}))
"""


def _spin() -> None:
    while True:
        pass


def measure(env: dict[str, str], index_dir: str) -> dict:
    child_env = {**os.environ, "HF_HUB_OFFLINE": "1", **env}
    for name in ("QA_THREADS", "OMP_WAIT_POLICY", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if name not in env:
            child_env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, index_dir, json.dumps(QUESTIONS)],
        env=child_env, cwd=REPO_ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", default="", help="index to ask (default: the default index)")
    parser.add_argument("--out", type=Path, default=REPORTS_DIR / "threads.json")
    args = parser.parse_args()
    results = []
    for load in ("quiet", "busy"):
        hogs = []
        if load == "busy":
            hogs = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(os.cpu_count() or 1)]
            for hog in hogs:
                hog.start()
        try:
            for name, env in SETTINGS.items():
                result = measure(env, args.index_dir) | {"setting": name, "load": load}
                results.append(result)
                line = f"{load:5}  {name:38}  threads {result['threads']}  question p50 {result['p50_ms']:.0f} ms, "
                line += f"p95 {result['p95_ms']:.0f} ms  encode 512: {result['encode_512_s']:.2f} s"
                print(line, flush=True)
        finally:
            for hog in hogs:
                hog.terminate()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
