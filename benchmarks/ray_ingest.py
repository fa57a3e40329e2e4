"""A plain ingest against `qa ingest --ray` on a local Ray cluster, over the same Reuters articles.

    python benchmarks/ray_ingest.py [--articles 400] [--files 8] [--cpus 2] [--out benchmarks/results/ray_ingest.json]

The first --articles Reuters-21578 articles with a body (../shared/bench/news/reuters21578.jsonl) are written to
--files JSONL files (Ray reads and prepares one file per task) and ingested twice into fresh indexes: plainly,
then on a local Ray cluster of --cpus CPUs. Prints and writes, for each: articles, sentences and seconds; for Ray
also the cluster's start-up, and the overhead (Ray's ingest seconds over the plain one's, start-up apart). Checks
that both indexes hold the same articles and sentences and give the same answers to a few questions.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

from newsqa.paths import BENCHMARK_RESULTS_DIR, NEWS_BENCH_DIR

REUTERS = NEWS_BENCH_DIR / "reuters21578.jsonl"
QUESTIONS = [
    "How many bags of cocoa arrived in the week ended February 22?",
    "What was the trade surplus in January?",
    "Which company agreed to acquire the bank?",
    "How much did the oil price rise?",
]


def _write_inputs(folder: Path, articles: int, files: int) -> list[Path]:
    records = []
    with REUTERS.open(encoding="utf-8") as handle:
        for line in handle:
            if json.loads(line).get("body"):
                records.append(line)
            if len(records) == articles:
                break
    per_file = -(-len(records) // files)
    paths = []
    for n in range(files):
        path = folder / f"reuters-{n:02d}.jsonl"
        path.write_text("".join(records[n * per_file : (n + 1) * per_file]), encoding="utf-8")
        paths.append(path)
    return paths


def _held(settings, encoder):  # type: ignore[no-untyped-def]
    """(article ids in order, sentence count, the answers to QUESTIONS) of the index at `settings`."""
    from index.storage import model_stamp, open_store
    from qa.assistant import Assistant

    reader = open_store(settings, model_stamp(encoder))
    try:
        ids = [a.id for a in reader.articles(text=False)]
        sentences = reader.facts().sentences
    finally:
        reader.close()
    assistant = Assistant(settings, encoder=encoder, auto_ingest=False, reader=False)
    answers = [
        [(s.citation.article_id, s.citation.sentence_number) for s in assistant.answer(q).sentences] for q in QUESTIONS
    ]
    return ids, sentences, answers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=400)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--out", type=Path, default=BENCHMARK_RESULTS_DIR / "ray_ingest.json")
    args = parser.parse_args()
    if not REUTERS.is_file():
        print(f"{REUTERS} is missing", file=sys.stderr)
        return 2

    import ray

    from index.encoder import load_encoder
    from index.ingest import Ingestor
    from index.ingest.distributed import ingest_with_ray
    from newsqa.settings import Settings

    encoder = load_encoder()
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        inputs = _write_inputs(root, args.articles, args.files)
        plain_settings = Settings(index_dir=root / "plain")
        ray_settings = Settings(index_dir=root / "ray")

        plain = Ingestor(encoder, plain_settings).ingest(inputs, show_progress=False)
        started = time.perf_counter()
        ray.init(num_cpus=args.cpus, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
        startup = time.perf_counter() - started
        try:
            distributed = ingest_with_ray(Ingestor(encoder, ray_settings), inputs, show_progress=False)
        finally:
            ray.shutdown()

        plain_ids, plain_sentences, plain_answers = _held(plain_settings, encoder)
        ray_ids, ray_sentences, ray_answers = _held(ray_settings, encoder)

    result = {
        "articles": len(plain_ids),
        "files": len(inputs),
        "ray_cpus": args.cpus,
        "plain": {"articles": len(plain_ids), "sentences": plain_sentences, "seconds": round(plain.seconds, 2)},
        "ray": {
            "articles": len(ray_ids),
            "sentences": ray_sentences,
            "seconds": round(distributed.seconds, 2),
            "cluster_start_seconds": round(startup, 2),
        },
        "overhead": round(distributed.seconds / plain.seconds, 2),
        "same_articles": ray_ids == plain_ids,
        "same_sentences": ray_sentences == plain_sentences,
        "same_answers": ray_answers == plain_answers,
        "problems": [len(plain.problems), len(distributed.problems)],
    }
    print(json.dumps(result, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0 if result["same_articles"] and result["same_sentences"] and result["same_answers"] else 1


if __name__ == "__main__":
    sys.exit(main())
