"""Archive-scale benchmark: ingest about 40,000 real articles and measure what a newsroom archive would feel.

The articles, all from ../shared/bench/: Reuters-21578 (the 19,043 with a body), BBC News (2,225), the 18,896
SQuAD v1.1 train paragraphs and the 2,067 SQuAD v1.1 dev paragraphs (so dev questions have answers), written as
JSON Lines feeds and ingested through the product's own reader, as a user would. Printed and written as JSON:

- ingest: articles/s and article tokens (word pieces)/s, against the raw rate of plain fp32 sentence-transformers
  encoding a sample of the same articles' sentences (each once), measured in the same run, and against the
  product's encoder alone; peak RSS of the ingest; index size on disk;
- adding 100 more articles to the full index, against the time to embed those 100 articles alone;
- load time of the index, and question latency p50/p95 over SQuAD dev questions (with hit@1 as a sanity check);
- recall@10 of the dense indexes (HNSW where a segment is large) against exact search over the same vectors.

    .venv/bin/python benchmarks/scale.py                        # everything (about 40 min on 2 cores)
    .venv/bin/python benchmarks/scale.py --fraction 0.05        # a 5% sample of each source (a few minutes)

Results: benchmarks/results/scale.json (or --out); the index is built in a temporary folder (or --index-dir).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import numpy as np

from index.encoder import Encoder, load_encoder
from index.ingest import Ingestor
from index.ingest.chunks import make_chunks
from index.ingest.prepare import split_article
from index.models import Article
from index.storage import ChunkRef, SentenceRef, StoreFacts, StoreReader, model_stamp, open_store
from index.text.sentences import split_sentences
from newsqa.paths import BENCHMARK_RESULTS_DIR, NEWS_BENCH_DIR, SQUAD_DIR
from newsqa.settings import Settings

DEFAULT_OUT = BENCHMARK_RESULTS_DIR / "scale.json"
ADDED = 100  # articles added to the full index at the end


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _squad_paragraphs(path: Path, prefix: str) -> list[dict]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    out = []
    for article in data:
        for number, paragraph in enumerate(article["paragraphs"]):
            out.append(
                {
                    "id": f"{prefix}-{article['title']}-{number}",
                    "title": article["title"].replace("_", " "),
                    "text": paragraph["context"],
                    "source": "Wikipedia (SQuAD)",
                    "questions": [
                        (qa["question"], [a["text"] for a in qa["answers"]]) for qa in paragraph.get("qas", [])
                    ],
                }
            )
    return out


def write_feeds(folder: Path, fraction: float, seed: int) -> tuple[list[dict], list[dict], list[dict]]:
    """Write the corpus as JSON Lines feeds under `folder`; returns (all records, the ADDED held-out records,
    the dev paragraphs with their questions)."""
    rng = random.Random(seed)
    reuters = []
    with (NEWS_BENCH_DIR / "reuters21578.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            r = json.loads(line)
            if (r.get("body") or "").strip():
                reuters.append(
                    {"id": f"reuters-{r['id']}", "title": r.get("title") or "", "body": r["body"],
                     "date": r.get("date"), "source": "Reuters"}
                )  # fmt: skip
    bbc = []
    with (NEWS_BENCH_DIR / "bbc.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            r = json.loads(line)
            bbc.append({"id": f"bbc-{r['id']}", "title": r.get("title") or "", "body": r["body"], "source": "BBC"})
    train = _squad_paragraphs(SQUAD_DIR / "train-v1.1.json", "train")
    dev = _squad_paragraphs(SQUAD_DIR / "dev-v1.1.json", "dev")

    def sample(records: list[dict]) -> list[dict]:
        return records if fraction >= 1 else rng.sample(records, max(1, round(len(records) * fraction)))

    reuters, bbc, train, dev = sample(reuters), sample(bbc), sample(train), sample(dev)
    rng.shuffle(reuters)
    held_out, reuters = reuters[:ADDED], reuters[ADDED:]
    folder.mkdir(parents=True, exist_ok=True)
    for name, records in (("reuters", reuters), ("bbc", bbc), ("squad-train", train), ("squad-dev", dev)):
        with (folder / f"{name}.jsonl").open("w", encoding="utf-8") as out:
            for r in records:
                out.write(json.dumps({k: v for k, v in r.items() if k != "questions"}) + "\n")
    return [*reuters, *bbc, *train, *dev], held_out, dev


def _text(record: dict) -> str:
    return record.get("body") or record.get("text") or ""


def st_fp32_rate(sentences: list[str], count_tokens: object) -> dict[str, float]:
    """Plain fp32 sentence-transformers (torch) encoding `sentences` once: sentences/s and tokens/s."""
    from sentence_transformers import SentenceTransformer

    from index.encoder import packaged_model_dir

    model = SentenceTransformer(str(packaged_model_dir()), device="cpu", local_files_only=True)
    model.encode(sentences[:64], batch_size=64)  # warm-up
    started = time.perf_counter()
    model.encode(sentences, batch_size=64, normalize_embeddings=True)
    seconds = time.perf_counter() - started
    tokens = sum(count_tokens(s) for s in sentences)  # type: ignore[operator]
    return {"sentences": len(sentences), "seconds": seconds, "sentences_per_s": len(sentences) / seconds,
            "tokens_per_s": tokens / seconds}  # fmt: skip


def chunk_jobs(encoder: Encoder, settings: Settings, texts: list[str]) -> list[tuple[str, list[tuple[int, int]]]]:
    """The chunks the product makes of `texts` (each with its sentences' spans): what its encoder is given."""
    jobs = []
    for number, text in enumerate(texts):
        article = Article(id=str(number), text=text)
        sentences = split_article(article)
        for c in make_chunks(article.id, text, sentences, encoder.count_tokens, settings.index.chunk_max_tokens):
            spans = [(s.start - c.start, s.end - c.start) for s in sentences[c.first_sentence : c.last_sentence + 1]]
            jobs.append((c.text, spans))
    return jobs


def embed_seconds(encoder: Encoder, jobs: list[tuple[str, list[tuple[int, int]]]]) -> float:
    """Time the product's encoder alone over prepared chunks (one pass each, sentences pooled from it)."""
    started = time.perf_counter()
    for text, spans in jobs:
        encoder.encode_passages([text], [spans])
    return time.perf_counter() - started


def product_encoder_rate(encoder: Encoder, settings: Settings, texts: list[str]) -> dict[str, float]:
    """The product's encoder alone on the chunks of `texts`: tokens/s."""
    jobs = chunk_jobs(encoder, settings, texts)
    seconds = embed_seconds(encoder, jobs)
    tokens = sum(min(encoder.count_tokens(t), encoder.max_tokens - 2) for t, _ in jobs)
    return {"texts": len(texts), "chunks": len(jobs), "seconds": seconds, "tokens_per_s": tokens / seconds}


def dense_recall(store: StoreReader, vectors: np.ndarray, k: int = 10) -> dict[str, float]:
    """recall@k of the store's dense search (HNSW in large segments) against exact search over the same stored
    vectors, for sentences and chunks."""
    sentence_refs: list[SentenceRef] = []
    chunk_refs: list[ChunkRef] = []
    for article in store.articles(text=False):
        sentences, chunks = store.article_parts(article.id)
        sentence_refs += [s.ref for s in sentences]
        chunk_refs += [c.ref for c in chunks]
    result = {}
    kinds = (("sentence", sentence_refs, store.sentences), ("chunk", chunk_refs, store.chunks))
    for kind, refs, read in kinds:
        records = [r for start in range(0, len(refs), 5000) for r in read(refs[start : start + 5000], vectors=True)]
        everything = np.stack([r.vector for r in records]) if records else np.zeros((0, vectors.shape[1]))
        hits = 0
        for vector in vectors:
            scores = everything @ vector
            exact = [records[int(i)].ref for i in np.argsort(-scores)[:k]]
            found = [h.ref for h in getattr(store, f"search_{kind}s")(vector, k)]
            hits += len(set(exact) & set(found))
        result[kind] = hits / (k * len(vectors))
        result[f"{kind}_rows"] = len(records)
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, with `out` defaulted by store."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=1.0, help="share of each source to use (default: all)")
    parser.add_argument("--questions", type=int, default=300, help="SQuAD dev questions asked (default: 300)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--index-dir", type=Path, help="build the index here (default: a temporary folder)")
    parser.add_argument(
        "--out", type=Path, help=f"JSON results (default: {DEFAULT_OUT}, or scale-milvus.json beside it for milvus)"
    )
    parser.add_argument(
        "--store", choices=("local", "milvus"), default="local",
        help="the store measured (milvus: a milvus-lite file in the index folder; default local)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    args.out = args.out or (DEFAULT_OUT if args.store == "local" else DEFAULT_OUT.with_name("scale-milvus.json"))
    return args


@dataclass
class Ingested:
    """The full ingest, measured."""

    articles: int
    skipped: int
    tokens: int
    seconds: float
    peak_rss_mb: float
    bytes: int


def measure_ingest(encoder: Encoder, settings: Settings, feeds: Path, records: list[dict]) -> Ingested:
    """Ingest the feeds into the empty index: time, article tokens, peak RSS and the index's size on disk."""
    started = time.perf_counter()
    report = Ingestor(encoder, settings).ingest([feeds], show_progress=sys.stderr.isatty())
    ingest_s = time.perf_counter() - started
    ingest_rss = _peak_rss_mb()
    tokens = sum(encoder.count_tokens(_text(r)) for r in records)
    articles = len(report.added)
    size = sum(p.stat().st_size for p in Path(settings.index.index_dir).rglob("*") if p.is_file())
    print(f"ingest: {articles:,} articles in {ingest_s:.0f} s ({articles / ingest_s:.1f}/s, "
          f"{tokens / ingest_s:,.0f} tokens/s); {len(report.problems)} skipped; peak RSS {ingest_rss:.0f} MB; "
          f"index {size / 2**20:.0f} MiB", flush=True)  # fmt: skip
    return Ingested(articles, len(report.problems), tokens, ingest_s, ingest_rss, size)


def measure_encoders(
    encoder: Encoder, settings: Settings, records: list[dict], seed: int
) -> tuple[dict[str, float], dict[str, float]]:
    """The raw encoder rates on a sample of the same articles: plain fp32 sentence-transformers, and the
    product's encoder alone."""
    rng = random.Random(seed)
    sample_articles = rng.sample(records, min(500, len(records)))
    sentences = [_text(r)[s:e] for r in sample_articles for s, e in split_sentences(_text(r))][:3000]
    # Measured right after the ingest, so that the machine is in the same state for all three.
    baseline = st_fp32_rate(sentences, encoder.count_tokens)
    print(f"sentence-transformers fp32 alone: {baseline['tokens_per_s']:,.0f} tokens/s", flush=True)
    product = product_encoder_rate(encoder, settings, [_text(r) for r in sample_articles])
    print(f"product encoder alone: {product['tokens_per_s']:,.0f} tokens/s", flush=True)
    return baseline, product


def measure_add(encoder: Encoder, settings: Settings, folder: Path, held_out: list[dict]) -> dict[str, float]:
    """Adding the held-out articles to the full index, against embedding those articles alone."""
    folder.mkdir()
    with (folder / "more.jsonl").open("w", encoding="utf-8") as out:
        for r in held_out:
            out.write(json.dumps(r) + "\n")
    started = time.perf_counter()
    added = Ingestor(encoder, settings).ingest([folder], show_progress=False)
    add_s = time.perf_counter() - started
    embed_100_s = embed_seconds(encoder, chunk_jobs(encoder, settings, [r["body"] for r in held_out]))
    print(f"add {len(added.added)} articles: {add_s:.1f} s; embedding them alone: {embed_100_s:.1f} s "
          f"({add_s / embed_100_s:.2f}x)", flush=True)  # fmt: skip
    return {"articles": len(added.added), "seconds": add_s, "embed_seconds": embed_100_s, "ratio": add_s / embed_100_s}


@dataclass
class Answered:
    """Loading the index, asking it questions, and its dense recall, measured."""

    load_seconds: float
    facts: StoreFacts
    questions: dict[str, float]
    recall: dict[str, float]


def measure_questions(encoder: Encoder, settings: Settings, dev: list[dict], questions: int, seed: int) -> Answered:
    """The index's load time, question latency p50/p95 over SQuAD dev questions (hit@1 as a sanity check), and
    the dense recall@10 of the first 100 questions."""
    started = time.perf_counter()
    store = open_store(settings, model_stamp(encoder))
    load_s = time.perf_counter() - started
    facts = store.facts()
    store.close()
    from evaluation.metrics import sentence_hit_at_k
    from qa.assistant import Assistant

    assistant = Assistant(settings, encoder=encoder, auto_ingest=False)
    asked = [(q, answers) for p in dev for q, answers in p["questions"]]
    asked = random.Random(seed).sample(asked, min(questions, len(asked)))
    assistant.answer(asked[0][0])  # warm-up: the reader's weights
    latencies, hits = [], 0
    for question, answers in asked:
        started = time.perf_counter()
        answer = assistant.answer(question)
        latencies.append((time.perf_counter() - started) * 1000)
        hits += bool(answer.sentences) and sentence_hit_at_k([answer.sentences[0].text], answers, 1)
    p50 = statistics.median(latencies)
    p95 = float(np.percentile(latencies, 95))
    print(f"questions: {len(asked)}, p50 {p50:.0f} ms, p95 {p95:.0f} ms, hit@1 {100 * hits / len(asked):.1f}; "
          f"load {load_s:.2f} s", flush=True)  # fmt: skip
    vectors = encoder.encode([q for q, _ in asked[:100]])
    assert assistant.store is not None
    recall = dense_recall(assistant.store, vectors)
    print(f"dense recall@10 vs exact: sentences {recall['sentence']:.3f}, chunks {recall['chunk']:.3f} "
          f"({facts.details.get('dense_index', facts.backend)})", flush=True)  # fmt: skip
    asked_section = {"asked": len(asked), "p50_ms": p50, "p95_ms": p95, "hit@1": hits / len(asked)}
    return Answered(load_s, facts, asked_section, recall)


def results_json(
    fraction: float,
    ingested: Ingested,
    rates: tuple[dict[str, float], dict[str, float]],
    add_100: dict[str, float],
    answered: Answered,
    query_rss: float,
) -> dict:
    """The results as written to the JSON file."""
    baseline, product = rates
    facts = answered.facts
    tokens_per_s = ingested.tokens / ingested.seconds
    return {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": {"cpus": len(os.sched_getaffinity(0)), "threads": os.environ.get("OMP_NUM_THREADS")},
        "corpus": {
            "articles": ingested.articles,
            "skipped": ingested.skipped,
            "tokens": ingested.tokens,
            "sentences": facts.sentences,
            "chunks": facts.chunks,
            "fraction": fraction,
        },
        "ingest": {
            "seconds": ingested.seconds,
            "articles_per_s": ingested.articles / ingested.seconds,
            "tokens_per_s": tokens_per_s,
            "encoder_passes_per_token": 1,
            "vs_sentence_transformers_fp32": tokens_per_s / baseline["tokens_per_s"],
            "vs_product_encoder_alone": tokens_per_s / product["tokens_per_s"],
            "peak_rss_mb": ingested.peak_rss_mb,
        },
        "raw_rates": {"sentence_transformers_fp32": baseline, "product_encoder": product},
        "index": {
            "bytes": ingested.bytes,
            "backend": facts.backend,
            "segments": facts.details.get("segments"),
            "dense_index": facts.details.get("dense_index"),
        },
        "add_100": add_100,
        "load_seconds": answered.load_seconds,
        "questions": answered.questions,
        "dense_recall@10": answered.recall,
        "peak_rss_mb_at_the_end": query_rss,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    scratch = Path(tempfile.mkdtemp(prefix="qa-scale-"))
    index_dir = args.index_dir or scratch / "index"
    if index_dir.exists():
        shutil.rmtree(index_dir)
    try:
        records, held_out, dev = write_feeds(scratch / "feeds", args.fraction, args.seed)
        settings = Settings(index_dir=index_dir, store=args.store)
        encoder = load_encoder(settings)
        print(f"corpus: {len(records):,} articles (+{len(held_out)} added at the end)", flush=True)
        ingested = measure_ingest(encoder, settings, scratch / "feeds", records)
        rates = measure_encoders(encoder, settings, records, args.seed)
        add_100 = measure_add(encoder, settings, scratch / "add", held_out)
        answered = measure_questions(encoder, settings, dev, args.questions, args.seed)
        results = results_json(args.fraction, ingested, rates, add_100, answered, _peak_rss_mb())
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"results: {args.out}")
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
