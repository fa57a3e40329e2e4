"""Fit the phrase ranker used for untyped ("what/which") questions (qa/span_weights.json).

Each tuning question of SQuAD v1.1's "tune" titles whose answer type is OTHER is paired with the first sentence
of its paragraph that holds a gold answer; every phrase candidate of that sentence gets `phrase_features`, and a
listwise softmax fit makes the candidates with the highest token F1 against the gold answers come first.
The "test" titles are only used to report.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from index.sentences import split_sentences
from qa.eval.gold import GoldQuestion, load_squad
from qa.eval.metrics import sentence_hit_at_k, token_f1
from qa.eval.train_scorer import DEFAULT_SQUAD, REPO_ROOT, Group, fit_listwise
from qa.models import AnswerType
from qa.question import analyze
from qa.spans import PHRASE_FEATURES, _phrase_candidates, phrase_features

WEIGHTS_PATH = REPO_ROOT / "qa" / "span_weights.json"


def span_groups(paragraphs: dict[str, str], questions: list[GoldQuestion]) -> tuple[list[Group], list[list[str]]]:
    """Candidate features with soft labels (token F1) per question, and each candidate's text."""
    groups, texts = [], []
    for q in questions:
        parsed = analyze(q.question)
        if parsed.answer_type != AnswerType.OTHER or q.article_id not in paragraphs:
            continue
        text = paragraphs[q.article_id]
        sentence = next(
            (text[s:e] for s, e in split_sentences(text) if sentence_hit_at_k([text[s:e]], q.answers, 1)), None
        )
        if sentence is None:
            continue
        candidates = _phrase_candidates(sentence, parsed.term_set)
        if not candidates:
            continue
        spans = [sentence[c.start : c.end] for c in candidates]
        labels = np.array([token_f1(s, q.answers) for s in spans]) ** 2
        groups.append(Group(phrase_features(sentence, candidates, parsed), labels))
        texts.append(spans)
    return groups, texts


def mean_f1(groups: list[Group], weights: np.ndarray) -> float:
    return float(np.mean([np.sqrt(g.labels[int(np.argmax(g.features @ weights))]) for g in groups]))


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--path", type=Path, default=DEFAULT_SQUAD, help="SQuAD v1.1 dev JSON")
    parser.add_argument("--out", type=Path, default=WEIGHTS_PATH)


def run_train_cli(args: argparse.Namespace) -> int:
    """Fit on the tune half's untyped questions, report F1 given the right sentence on both halves."""
    result = {}
    for half in ("tune", "test"):
        squad = load_squad(args.path, half=half)
        paragraphs = {a["id"]: a["text"] for a in squad.articles}
        result[half] = span_groups(paragraphs, squad.questions)[0]
    weights = fit_listwise(result["tune"], steps=300)
    tune, test = mean_f1(result["tune"], weights), mean_f1(result["test"], weights)
    print(f"span F1 given the right sentence, untyped questions: tune {tune:.3f}, test {test:.3f}")
    data = {
        "features": list(PHRASE_FEATURES),
        "weights": [round(float(w), 5) for w in weights],
        "provenance": (
            f"qa train-spans: listwise softmax on {len(result['tune'])} untyped questions of the SQuAD v1.1 dev "
            f"'tune' titles; F1 given the right sentence: tune {tune:.3f}, test {test:.3f}"
        ),
    }
    args.out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0
