"""Fit how the answering path uses the trained cross-encoder, on SQuAD dev's tune half only, and write it into
qa/reader/reader.json (`qa train-reader calibrate`).

For each tune question the answer path's own retrieval and linear scorer (qa/answering/) rank the candidates,
and the reader reads the best MAX_DEPTH of them. From that:
- the blend: a logistic regression from (logit of the linear probability, reader logit) to "this sentence holds
  a gold answer", over SQuAD v1.1 tune questions;
- the depth: how many candidates the reader reads, the fewest whose blended hit@1 is within DEPTH_SLACK of the
  best depth (each candidate costs latency);
- the threshold: on SQuAD v2.0's tune half (half its questions have no answer), the highest threshold that still
  answers ANSWERED of the answerable questions (every answer is a citation the user can check, so refusing an
  answerable question is the costlier error);
- the span types: given a sentence holding the answer, the reader's span against the typed extractor's per
  answer type; the typed extractor keeps a type only where it wins by SPAN_MARGIN F1 on at least 30 questions,
  and the PRODUCT_FORMAT_TYPES, whose format SQuAD does not score.
Numbers to report come from `qa eval` on the test half, never from here.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from evaluation.gold import GoldQuestion, load_squad
from evaluation.metrics import exact_match, sentence_hit_at_k, token_f1
from index.encoder import load_encoder
from newsqa.paths import SQUAD_DIR
from qa.answering import AnswerPipeline, as_asked
from qa.models import AnswerType
from qa.question import analyze
from qa.reader import READER_DIR, Reader, load_reader, logit, reader_span
from qa.spans import extract_span

MAX_DEPTH = 12
DEPTHS = (4, 6, 8, 10, 12)
DEPTH_SLACK = 0.005
ANSWERED = 0.92
SPAN_MARGIN = 0.02
# Answer types whose span format is the product's, not SQuAD's: an amount with what it counts ("310 kilogrammes",
# "212 suspects", the figure of the year asked), where SQuAD labels a bare number. They keep the typed extractor
# (the reader marks the span only when it finds no amount), whatever SQuAD F1 says.
PRODUCT_FORMAT_TYPES = ("quantity",)


@dataclass
class Candidate:
    text: str
    linear: float
    reader: float
    start: int
    end: int
    holds: bool  # holds a gold answer (as sentence hit@k counts it)


@dataclass
class Asked:
    question: str
    answer_type: str
    answers: list[str]
    candidates: list[Candidate]


def collect(assistant: Any, reader: Reader, questions: list[GoldQuestion]) -> list[Asked]:
    """Each question's MAX_DEPTH best candidates under the linear scorer, read by the reader.

    The candidates are the answer path's own (`AnswerPipeline.candidates`) for the question as asked, without the
    time prior or a reader (`reader` is the one being calibrated and reads them apart, unblended).
    """
    pipeline = AnswerPipeline(
        encoder=assistant.encoder, store=assistant.store, weights=assistant.weights, time_aware=False
    )
    out = []
    for q in tqdm(questions, desc="reading candidates"):
        understood = as_asked(q.question, date.today())
        top = pipeline.candidates(understood).ranked[:MAX_DEPTH]
        readings = pipeline.reading.readings(reader, q.question, top)
        candidates = [
            Candidate(
                s.text, s.score, r.logit, r.start, r.end, bool(q.answers) and sentence_hit_at_k([s.text], q.answers, 1)
            )
            for s, r in zip(top, readings, strict=True)
        ]
        out.append(Asked(q.question, understood.question.answer_type.value, q.answers, candidates))
    return out


def _cached(path: Path | None, make: Any) -> list[Asked]:
    if path is not None and path.is_file():
        rows = json.loads(path.read_text(encoding="utf-8"))
        return [Asked(**{**r, "candidates": [Candidate(**c) for c in r["candidates"]]}) for r in rows]
    asked = make()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([dataclasses.asdict(a) for a in asked]), encoding="utf-8")
    return asked


def _inputs(asked: list[Asked], depth: int) -> tuple[np.ndarray, np.ndarray]:
    rows = [[logit(c.linear), c.reader, float(c.holds)] for a in asked for c in a.candidates[:depth]]
    data = np.array(rows, dtype=np.float64).reshape(-1, 3)
    return data[:, :2], data[:, 2]


def fit_blend(asked: list[Asked], depth: int, steps: int = 3000, lr: float = 0.2) -> tuple[float, float, float]:
    """Logistic regression from (logit(linear), reader logit) to "holds the answer"."""
    x, y = _inputs([a for a in asked if a.answers], depth)
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mu) / sd
    coef, b = np.zeros(2), 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ coef + b)))
        coef -= lr * (z.T @ (p - y) / len(z))
        b -= lr * float(np.mean(p - y))
    w = coef / sd
    return float(w[0]), float(w[1]), float(b - np.sum(coef * mu / sd))


def blended(c: Candidate, blend: tuple[float, float, float]) -> float:
    z = blend[0] * logit(c.linear) + blend[1] * c.reader + blend[2]
    return float(1.0 / (1.0 + np.exp(-z)))


def hit_at_1(asked: list[Asked], depth: int, score: Any) -> float:
    """Share of answerable questions whose best candidate (by `score`) among the first `depth` holds the answer."""
    hits = [max(a.candidates[:depth], key=score).holds for a in asked if a.answers and a.candidates]
    return float(np.mean(hits)) if hits else 0.0


def choose_threshold(asked: list[Asked], depth: int, blend: tuple[float, float, float]) -> dict[str, float]:
    """The highest threshold (0.01 grid) that still answers ANSWERED of the answerable questions."""
    top = [(max((blended(c, blend) for c in a.candidates[:depth]), default=0.0), bool(a.answers)) for a in asked]
    answerable = np.array([s for s, ok in top if ok])
    unanswerable = np.array([s for s, ok in top if not ok])
    threshold = 0.01
    for t in np.arange(0.01, 1.0, 0.01):
        if np.mean(answerable >= t) >= ANSWERED:
            threshold = round(float(t), 2)
    return {
        "threshold": threshold,
        "answerable": float(len(answerable)),
        "answered": float(np.mean(answerable >= threshold)),
        "unanswerable": float(len(unanswerable)),
        "refused": float(np.mean(unanswerable < threshold)) if len(unanswerable) else 0.0,
    }


def span_scores(asked: list[Asked], depth: int) -> dict[str, dict[str, float]]:
    """Per answer type: EM/F1 of the reader's span and the typed extractor's, given the first candidate that
    holds a gold answer."""
    rows: dict[str, list[list[float]]] = {}
    for a in asked:
        given = next((c for c in a.candidates[:depth] if c.holds), None)
        if given is None:
            continue
        parsed = analyze(a.question)
        read = reader_span(given.text, _reading(given), parsed.answer_type)
        typed = extract_span(given.text, parsed)
        read_text = read.text if read else given.text
        typed_text = typed.text if typed else given.text
        scores = [
            exact_match(read_text, a.answers), token_f1(read_text, a.answers),
            exact_match(typed_text, a.answers), token_f1(typed_text, a.answers),
        ]  # fmt: skip
        for key in ("all", a.answer_type):
            rows.setdefault(key, []).append(scores)
    names = ("reader_em", "reader_f1", "typed_em", "typed_f1")
    return {
        key: dict(zip(names, np.mean(v, axis=0).round(4).tolist(), strict=True)) | {"n": float(len(v))}
        for key, v in rows.items()
    }


def _reading(c: Candidate) -> Any:
    from qa.cross_encoder import Reading

    return Reading(c.reader, c.start, c.end)


def calibrate(args: argparse.Namespace) -> dict[str, Any]:
    from qa.assistant import Assistant

    started = time.perf_counter()
    encoder = load_encoder()
    reader = load_reader(encoder, args.reader)
    v1_questions = load_squad(args.squad_dir / "dev-v1.1.json", limit=args.limit, seed=0, half="tune").questions
    v2_questions = load_squad(args.squad_dir / "dev-v2.0.json", limit=args.limit_v2, seed=0, half="tune").questions
    v1 = _cached(
        args.cache and args.cache / "v1-tune.json",
        lambda: collect(
            Assistant(index_dir=args.v1_index, encoder=encoder, reader=False, auto_ingest=False), reader, v1_questions
        ),
    )
    v2 = _cached(
        args.cache and args.cache / "v2-tune.json",
        lambda: collect(
            Assistant(index_dir=args.v2_index, encoder=encoder, reader=False, auto_ingest=False), reader, v2_questions
        ),
    )
    by_depth = {}
    for depth in DEPTHS:
        blend = fit_blend(v1, depth)
        by_depth[depth] = {
            "linear": hit_at_1(v1, depth, lambda c: c.linear),
            "reader": hit_at_1(v1, depth, lambda c: c.reader),
            "blend": hit_at_1(v1, depth, lambda c, blend=blend: blended(c, blend)),
            "oracle": float(np.mean([any(c.holds for c in a.candidates[:depth]) for a in v1 if a.answers])),
        }
    best = max(v["blend"] for v in by_depth.values())
    depth = min(d for d in DEPTHS if by_depth[d]["blend"] >= best - DEPTH_SLACK)
    blend = fit_blend(v1, depth)
    abstention = choose_threshold(v2, depth, blend)
    spans = span_scores(v1, depth)
    typed_types = sorted(
        t for t, v in spans.items() if t != "all" and v["n"] >= 30 and v["typed_f1"] >= v["reader_f1"] + SPAN_MARGIN
    )
    span_types = tuple(t.value for t in AnswerType if t.value not in (*typed_types, *PRODUCT_FORMAT_TYPES))
    report = {
        "questions": {"v1.1 tune": len(v1), "v2.0 tune": len(v2)},
        "hit_at_1_by_depth": by_depth,
        "depth": depth,
        "blend": blend,
        "abstention": abstention,
        "spans": spans,
        "typed_extractor_types": typed_types,
        "seconds": round(time.perf_counter() - started),
    }
    print(json.dumps(report, indent=2))
    if not args.dry_run:
        config = dataclasses.replace(
            reader.config,
            blend_linear=round(blend[0], 5), blend_reader=round(blend[1], 5), blend_bias=round(blend[2], 5),
            threshold=abstention["threshold"], candidates=depth, span_types=span_types,
        )  # fmt: skip
        config.write(args.reader)
        (args.reader / "calibration.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reader", type=Path, default=READER_DIR, help="reader folder to calibrate (default qa/reader)"
    )
    parser.add_argument(
        "--v1-index", type=Path, required=True, help="index of ALL dev-v1.1 paragraphs (qa eval --index-dir)"
    )
    parser.add_argument("--v2-index", type=Path, required=True, help="index of ALL dev-v2.0 paragraphs")
    parser.add_argument(
        "--squad-dir", type=Path, default=SQUAD_DIR, help=f"folder of the SQuAD files (default {SQUAD_DIR})"
    )
    parser.add_argument("--limit", type=int, default=1500, help="v1.1 tune questions (seeded sample)")
    parser.add_argument("--limit-v2", type=int, default=1500, help="v2.0 tune questions (seeded sample)")
    parser.add_argument("--cache", type=Path, default=None, help="keep the readings here to refit without reading")
    parser.add_argument("--dry-run", action="store_true", help="print the fit, leave reader.json as it is")
