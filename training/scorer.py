"""Fit the sentence scorer's weights (qa/scorer_weights.json) on the tuning half of SQuAD v1.1.

For every tuning question the answer path's own retrieval (qa/answering/) gives candidate sentences and
`sentence_features` their feature vectors; a sentence is positive when it holds a gold answer (normalised
match). Ranking weights start from a listwise softmax fit and are then tuned by coordinate ascent directly on
hit@1, stopped early on a held-out fifth of the tuning questions; one logistic calibration turns the top ranking
score into the probability that the top sentence answers, so a single threshold drives abstention. The calibration is
best fitted on SQuAD v2.0 (--calibrate-index), whose unanswerable questions show what an unanswered top sentence
scores. Only the "tune" titles are used for fitting; the "test" titles are only reported.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from evaluation.gold import GoldQuestion, load_squad
from evaluation.metrics import sentence_hit_at_k
from newsqa.paths import REPO_ROOT, SQUAD_DIR
from qa.answering import AnswerPipeline, as_asked
from qa.score import FEATURES

DEFAULT_SQUAD = SQUAD_DIR / "dev-v1.1.json"
WEIGHTS_PATH = REPO_ROOT / "qa" / "scorer_weights.json"


@dataclass
class Group:
    """The candidates of one question: features (n, d) and which of them hold the answer."""

    features: np.ndarray
    labels: np.ndarray


def collect_groups(assistant, questions: list[GoldQuestion], progress: bool = True) -> list[Group]:  # type: ignore[no-untyped-def]
    """Each question's candidates, as the answer path retrieves them (`AnswerPipeline.candidates`) for the question
    as asked, with their features in retrieval order, labelled by whether they hold a gold answer."""
    groups = []
    # Features only: neither the reader nor the time prior changes them.
    pipeline = AnswerPipeline(
        encoder=assistant.encoder, store=assistant.store, weights=assistant.weights, time_aware=False
    )
    for q in tqdm(questions, desc="features", disable=not progress):
        scored = pipeline.candidates(as_asked(q.question, date.today())).scored
        if not scored:
            continue
        labels = np.array([sentence_hit_at_k([s.text], q.answers, 1) for s in scored], dtype=np.float64)
        groups.append(Group(np.stack([s.features for s in scored]), labels))
    return groups


def fit_listwise(groups: list[Group], l2: float = 1e-3, steps: int = 400, lr: float = 0.5) -> np.ndarray:
    """Weights maximising the softmax probability of the answering sentences within each question."""
    usable = [g for g in groups if g.labels.any()]
    d = usable[0].features.shape[1]
    mean = np.mean(np.concatenate([g.features for g in usable]), axis=0)
    scale = np.std(np.concatenate([g.features for g in usable]), axis=0) + 1e-6
    weights = np.zeros(d)
    for _ in range(steps):
        grad = np.zeros(d)
        for g in usable:
            x = (g.features - mean) / scale
            z = x @ weights
            p = np.exp(z - z.max())
            p /= p.sum()
            target = g.labels / g.labels.sum()
            grad += x.T @ (p - target)
        grad = grad / len(usable) + l2 * weights
        weights -= lr * grad
    return weights / scale  # back to raw feature units (the mean shift cancels within a softmax)


def _mrr(groups: list[Group], weights: np.ndarray) -> float:
    ranks = []
    for g in groups:
        hits = np.nonzero(g.labels[np.argsort(-(g.features @ weights))])[0]
        ranks.append(1.0 / (hits[0] + 1) if len(hits) else 0.0)
    return float(np.mean(ranks)) if ranks else 0.0


def fit_ranking(groups: list[Group], seed: int = 0, max_rounds: int = 6) -> np.ndarray:
    """Listwise start, then coordinate ascent on hit@1 (+0.1 MRR to break ties).

    A fifth of the tuning questions is held out and ascent stops as soon as it no longer improves there:
    the metric is easy to overfit, and the test titles must stay unseen.
    """
    order = np.random.default_rng(seed).permutation(len(groups))
    cut = len(groups) // 5
    held, fit = [groups[i] for i in order[:cut]], [groups[i] for i in order[cut:]]

    def objective(gs: list[Group], w: np.ndarray) -> float:
        return hit_at_1(gs, w) + 0.1 * _mrr(gs, w)

    weights = fit_listwise(fit)
    best_held = objective(held, weights)
    for _ in range(max_rounds):
        candidate, best_fit = weights.copy(), objective(fit, weights)
        for i in range(len(candidate)):
            for delta in (-2.0, -1.0, -0.5, -0.25, 0.25, 0.5, 1.0, 2.0):
                trial = candidate.copy()
                trial[i] += delta * max(abs(candidate[i]), 0.5) * 0.5
                score = objective(fit, trial)
                if score > best_fit + 1e-6:
                    best_fit, candidate = score, trial
        held_score = objective(held, candidate)
        if held_score <= best_held:
            break
        weights, best_held = candidate, held_score
    return weights


def fit_calibration(
    inputs: np.ndarray, correct: np.ndarray, steps: int = 3000, lr: float = 0.2
) -> tuple[np.ndarray, float]:
    """Logistic regression from a top sentence's (ranking score, question-level features) to P(it answers)."""
    mu, sd = inputs.mean(axis=0), inputs.std(axis=0) + 1e-9
    x = (inputs - mu) / sd
    coef, b = np.zeros(x.shape[1]), 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ coef + b)))
        coef -= lr * (x.T @ (p - correct) / len(x))
        b -= lr * float(np.mean(p - correct))
    return coef / sd, float(b - np.sum(coef * mu / sd))


def hit_at_1(groups: list[Group], weights: np.ndarray) -> float:
    return float(np.mean([g.labels[int(np.argmax(g.features @ weights))] for g in groups])) if groups else 0.0


def _cached(folder: Path | None, name: str, make):  # type: ignore[no-untyped-def]
    """Feature groups from `folder` when saved there by an earlier run with the same features, else made now."""
    if folder is None:
        return make()
    path = folder / f"{name}.npz"
    if path.exists():
        data = np.load(path, allow_pickle=False)
        if list(data["features"]) == list(FEATURES):
            # Read each array once: every NpzFile lookup decompresses the whole array again.
            x, y, bounds = data["x"], data["y"], data["bounds"]
            return [Group(x[a:b], y[a:b]) for a, b in itertools.pairwise(bounds)]
    groups = make()
    folder.mkdir(parents=True, exist_ok=True)
    bounds = np.cumsum([0, *(len(g.labels) for g in groups)])
    np.savez(
        path,
        x=np.concatenate([g.features for g in groups]),
        y=np.concatenate([g.labels for g in groups]),
        bounds=bounds,
        features=np.array(FEATURES),
    )
    return groups


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--path", type=Path, default=DEFAULT_SQUAD, help="SQuAD v1.1 dev JSON")
    parser.add_argument("--squad-index", type=Path, required=True, help="index of ALL the file's paragraphs")
    parser.add_argument("--limit", type=int, default=3000, help="tuning questions to sample (default 3000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the tuning sample (default 0)")
    parser.add_argument("--threshold", type=float, default=0.5, help="abstain below this probability (default 0.5)")
    parser.add_argument(
        "--calibrate-path", type=Path, default=DEFAULT_SQUAD.with_name("dev-v2.0.json"),
        help="SQuAD v2.0 dev JSON: its unanswerable questions teach the calibration to say 'not found'",
    )  # fmt: skip
    parser.add_argument("--calibrate-index", type=Path, help="index of ALL the v2.0 file's paragraphs")
    parser.add_argument(
        "--out", type=Path, default=WEIGHTS_PATH, help="weights file to write (default: the shipped one)"
    )
    parser.add_argument("--cache", type=Path, help="folder to keep the computed features in, for refitting")


def run_train_cli(args: argparse.Namespace) -> int:
    """Fit on the tune half, report hit@1 on tune and test halves, write the weights JSON."""
    from qa.assistant import Assistant

    assistant = Assistant(index_dir=args.squad_index, auto_ingest=False)
    if assistant.store is None:
        print(f"qa: no index at {args.squad_index}; build it with qa eval --dataset squad-v1.1 --index-dir ...")
        return 2
    tune = load_squad(args.path, limit=args.limit, seed=args.seed, half="tune").questions
    test = load_squad(args.path, limit=min(args.limit, 1500), seed=args.seed, half="test").questions
    started = time.perf_counter()
    tune_groups = _cached(args.cache, "tune", lambda: collect_groups(assistant, tune))
    test_groups = _cached(args.cache, "test", lambda: collect_groups(assistant, test))
    ranking = fit_ranking(tune_groups)
    calibration_groups, calibrated_on = tune_groups, "the same questions"
    if args.calibrate_index:
        # Calibrate where some questions have no answer, so "not found" is learnt too (see module docstring).
        calibrator = Assistant(index_dir=args.calibrate_index, auto_ingest=False)
        unsure = load_squad(args.calibrate_path, limit=args.limit, seed=args.seed, half="tune").questions
        calibration_groups = _cached(args.cache, "calibration", lambda: collect_groups(calibrator, unsure))
        calibrated_on = f"{len(calibration_groups)} questions of {args.calibrate_path.name}'s 'tune' titles"
    tops = np.array([[float(np.max(g.features @ ranking))] for g in calibration_groups])
    correct = np.array([g.labels[int(np.argmax(g.features @ ranking))] for g in calibration_groups])
    coef, b = fit_calibration(tops, correct)
    weights = ranking * coef[0]
    before = np.asarray(assistant.weights.weights)
    print(f"hit@1 tune: shipped {hit_at_1(tune_groups, before):.3f} -> trained {hit_at_1(tune_groups, weights):.3f}")
    print(f"hit@1 test: shipped {hit_at_1(test_groups, before):.3f} -> trained {hit_at_1(test_groups, weights):.3f}")
    data = {
        "features": list(FEATURES),
        "weights": [round(float(w), 5) for w in weights],
        "bias": round(float(b), 5),
        "threshold": args.threshold,
        "provenance": (
            f"qa train-scorer: listwise start + coordinate ascent on hit@1 (early-stopped on held-out tune questions) "
            f"+ logistic calibration on {calibrated_on}; ranking fitted on {len(tune_groups)} questions of the "
            f"SQuAD v1.1 dev 'tune' titles (seed {args.seed}); hit@1 on candidates: tune "
            f"{hit_at_1(tune_groups, weights):.3f}, test {hit_at_1(test_groups, weights):.3f}"
        ),
    }
    args.out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out} in {time.perf_counter() - started:.0f} s")
    return 0
