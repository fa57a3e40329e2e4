"""Peak memory of ingesting one worst-case upload: each case in a fresh `qa ingest` process and a fresh index.

    python benchmarks/upload_memory.py [--only NAME ...] [--out benchmarks/results/upload_memory.json]

The cases are files of at most QA_MAX_FILE_BYTES (20 MiB) built to cost the most per byte: one line without
punctuation, Chinese without punctuation, one JSON record or HTML paragraph holding it all, an HTML page of
600,000 small paragraphs and one with as many tags as index.readers.html_page.MAX_HTML_TAGS lets through, the largest
article accepted (just under QA_MAX_ARTICLE_CHARS, distinct words so that nothing is embedded once for many
chunks), and a JSON Lines file of such articles (slow: it embeds 20 MB of text, ten minutes or more on two
cores). Prints one JSON line per case (peak RSS of the ingest process from getrusage, seconds, exit code, the
report's first lines) and writes them all to --out.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from newsqa.paths import BENCHMARK_RESULTS_DIR, REPO_ROOT

LIMIT = 20 * 1024 * 1024 - 4096  # just under the default QA_MAX_FILE_BYTES
ARTICLE = 495_000  # just under the default QA_MAX_ARTICLE_CHARS
LOREM = "lorem ipsum dolor sit amet "


def _distinct_words(chars: int, seed: int) -> str:
    """`chars` characters of pseudo-words drawn from 50,000, so that no two chunks are the same text."""
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ra", "tu", "ne", "so", "pa", "di", "gu", "ve", "zo"]
    words = ["".join(rng.choice(syllables) for _ in range(rng.randint(1, 4))) for _ in range(50_000)]
    out: list[str] = []
    size = 0
    while size < chars:
        word = rng.choice(words)
        out.append(word)
        size += len(word) + 1
    return " ".join(out)[:chars]


def _jsonl(path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        total, number = 0, 0
        while True:
            text = _distinct_words(ARTICLE, number)
            line = json.dumps({"id": f"big-{number}", "title": f"Big {number}", "text": text}) + "\n"
            if total + len(line) > LIMIT:
                return
            handle.write(line)
            total, number = total + len(line), number + 1


PARAGRAPH = "<p>lorem ipsum dolor sit amet.</p>"
CASES: dict[str, tuple[str, Callable[[Path], None]]] = {
    "story": ("story.txt", lambda p: p.write_text("Ferry\n\nThe ferry ran late on Monday.\n", encoding="utf-8")),
    "one-line": ("one-line.txt", lambda p: p.write_text("T\n\n" + LOREM * (LIMIT // len(LOREM)), encoding="utf-8")),
    "chinese": (
        "chinese.txt",
        lambda p: p.write_text("标题\n\n" + "港口管理局表示所有码头已重新开放" * (LIMIT // 48), encoding="utf-8"),
    ),
    "json": ("big.json", lambda p: p.write_text(json.dumps({"title": "T", "text": LOREM * (LIMIT // 27)}))),
    "html-paragraph": (
        "paragraph.html",
        lambda p: p.write_text(f"<html><body><article><p>{LOREM * ((LIMIT - 100) // 27)}</p></article></body></html>"),
    ),
    "html-dom": (
        "dom.html",
        lambda p: p.write_text(f"<html><body><article>{PARAGRAPH * (LIMIT // len(PARAGRAPH))}</article></body></html>"),
    ),
    "html-at-the-tag-limit": (
        "limit.html",
        lambda p: p.write_text(f"<html><body><article>{PARAGRAPH * 24_990}</article></body></html>"),
    ),
    "largest-article": (
        "article.txt",
        lambda p: p.write_text("Big one\n\n" + _distinct_words(ARTICLE, 0), encoding="utf-8"),
    ),
    "jsonl-of-largest-articles": ("articles.jsonl", _jsonl),
}


def measure(name: str, work: Path) -> dict:
    """Ingest case `name` into a fresh index in a child process; its peak RSS (the child's alone: each case runs
    in a fresh `python -m` of this script, since getrusage keeps the largest child so far)."""
    file_name, write = CASES[name]
    path = work / file_name
    write(path)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "cli", "--index-dir", str(work / f"index-{name}"), "ingest", str(path)],
        capture_output=True, text=True, cwd=REPO_ROOT,
    )  # fmt: skip
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "case": name,
        "bytes": path.stat().st_size,
        "peak_rss_mb": round(peak_kib / 1024),
        "seconds": round(time.perf_counter() - started, 1),
        "exit": done.returncode,
        "report": done.stdout.splitlines()[:2],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", choices=sorted(CASES), help="the cases to run (default: all)")
    parser.add_argument("--case", choices=sorted(CASES), help=argparse.SUPPRESS)  # one case, in a child
    parser.add_argument("--out", type=Path, default=BENCHMARK_RESULTS_DIR / "upload_memory.json")
    args = parser.parse_args()
    if args.case:
        with tempfile.TemporaryDirectory() as work:
            print(json.dumps(measure(args.case, Path(work))), flush=True)
        return
    results = []
    for name in args.only or list(CASES):
        done = subprocess.run([sys.executable, __file__, "--case", name], capture_output=True, text=True, cwd=REPO_ROOT)
        line = (
            done.stdout.strip().splitlines()[-1]
            if done.stdout.strip()
            else json.dumps({"case": name, "error": done.stderr[-500:]})
        )
        print(line, flush=True)
        results.append(json.loads(line))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
