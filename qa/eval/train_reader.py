"""Train the reader (qa/reader/): a question–sentence cross-encoder that rescores candidates and marks spans.

Training data come only from SQuAD dev titles that no reported number uses: the v1.1 "tune" titles minus any
title that is also a v2.0 "test" title. For every such question the product's own retrieval and linear scorer
give candidate sentences; the sentences holding a gold answer are positives (with the answer's character span),
the best-scored others are hard negatives. SQuAD v2.0's unanswerable questions of the same titles add
negatives only. A fifth of the titles is held out from the reader: the blend of reader and linear scorer, and
the abstention calibration, are fitted there, so they see reader scores as they are on unseen text.

Training runs on CPU: the embeddings and the bottom layers are the packaged MiniLM's, frozen, so their output
is computed once per pair and cached; only the top layers and the two heads (answerability, start/end) learn.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm.auto import tqdm

if TYPE_CHECKING:
    import torch

from index.sentences import split_sentences
from qa.eval.gold import GoldQuestion, load_squad, split_by_title, title_of
from qa.eval.metrics import sentence_hit_at_k
from qa.eval.train_scorer import DEFAULT_SQUAD, REPO_ROOT
from qa.question import analyze
from qa.reader import MAX_TOKENS, Reader, Reading, logit, reader_span
from qa.retrieve import retrieve
from qa.score import score_sentences

DEFAULT_V2 = DEFAULT_SQUAD.with_name("dev-v2.0.json")
# Answer types whose spans always come from the typed extractors: their format is the product's (an amount with
# its unit, "212 suspects"; the figure of the year asked for; the quoted words), which SQuAD's labels (often a
# bare number) do not score, so SQuAD F1 cannot decide for them.
RULE_TYPES = ("quantity", "date", "quote")
# F1 the reader must gain over the typed extractor on held-out SQuAD titles before it takes an answer type over:
# it learnt from Wikipedia paragraphs, the typed extractors were written for news. (With no margin "person" went
# to the reader for +3 F1, and on the bundled article it marked "a drug suspect" for "Who directs the Coalition
# for Integrity and Social Accountability?", where the name extractor marks "Him Yun".)
SPAN_MARGIN = 0.05


@dataclass
class Pair:
    """One question–candidate pair as the reader sees it."""

    qid: int
    title: str
    question: str
    sentence: str
    label: int  # 1: the sentence holds a gold answer
    span: tuple[int, int] | None  # the answer's character offsets in `sentence`, for positives
    linear: float  # the linear scorer's probability for this candidate
    rank: int  # the candidate's rank under the linear scorer (-1: added gold sentence)
    answers: list[str]


def answer_span(sentence: str, answers: list[str]) -> tuple[int, int] | None:
    """Character offsets of the first gold answer found in `sentence` (exact, then case-insensitive)."""
    for answer in answers:
        at = sentence.find(answer)
        if at < 0:
            at = sentence.lower().find(answer.lower())
        if at >= 0 and answer.strip():
            return at, at + len(answer)
    return None


def training_titles(v1_path: Path, v2_path: Path) -> set[str]:
    """v1.1 "tune" titles that are not v2.0 "test" titles: the only titles the reader may learn from."""
    v1_tune = {title_of(a["id"]) for a in split_by_title(load_squad(v1_path))[0].articles}
    v2_test = {title_of(a["id"]) for a in split_by_title(load_squad(v2_path))[1].articles}
    return v1_tune - v2_test


def gold_sentences(path: Path) -> dict[str, list[str]]:
    """For each SQuAD question id, the sentences of its paragraph where an annotator marked the answer.

    Training labels come from these offsets, not from the answer text: a short answer such as "1973" occurs in
    many sentences that do not answer the question, and learning from those teaches the reader nothing.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, list[str]] = {}
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            bounds = split_sentences(context)
            for qa in paragraph["qas"]:
                marked = []
                for answer in qa.get("answers", []):
                    at = answer["answer_start"]
                    for a, b in bounds:
                        if a <= at < b and context[a:b] not in marked:
                            marked.append(context[a:b])
                out[qa["id"]] = marked
    return out


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def collect_pairs(  # type: ignore[no-untyped-def]
    assistant,
    questions: list[GoldQuestion],
    marked: dict[str, list[str]],
    negatives: int,
    start_qid: int = 0,
    keep_all: bool = False,
) -> list[Pair]:
    """Candidates from the product's own retrieval and scorer, labelled by the gold answers.

    Training (keep_all False): a candidate is positive when it is a sentence of the gold paragraph in which an
    annotator marked the answer (`gold_sentences`); kept are the positives, the `negatives` best-scored
    negatives, and the marked sentence itself when retrieval missed it. Reporting (keep_all True): every
    candidate in scorer order, positive when it holds a gold answer, as sentence hit@k counts it.
    """
    pairs: list[Pair] = []
    store = assistant.store
    for offset, q in enumerate(tqdm(questions, desc="candidates")):
        qid = start_qid + offset
        parsed = analyze(q.question)
        vector = assistant.encoder.encode([q.question])[0]
        scored = score_sentences(store, parsed, vector, retrieve(store, parsed, vector), assistant.weights)
        title = title_of(q.article_id) if q.article_id else ""
        gold = marked.get(q.id, []) if q.answers else []
        found, negs = False, 0
        for rank, s in enumerate(scored):
            if keep_all:
                label = int(bool(q.answers) and sentence_hit_at_k([s.text], q.answers, 1))
            else:
                label = int(s.article_id == q.article_id and any(_same_text(s.text, g) for g in gold))
            if not keep_all and not label:
                if negs >= negatives:
                    continue
                negs += 1
            found = found or bool(label)
            span = answer_span(s.text, q.answers) if label else None
            pairs.append(Pair(qid, title, q.question, s.text, label, span, s.score, rank, q.answers))
        if gold and not found and not keep_all:
            pairs.append(Pair(qid, title, q.question, gold[0], 1, answer_span(gold[0], q.answers), 0.0, -1, q.answers))
    return pairs


@dataclass
class Example:
    """A tokenised pair with its labels, and the frozen bottom layers' output once cached."""

    pair: Pair
    input_ids: list[int]
    token_type_ids: list[int]
    sentence_mask: list[bool]
    start: int  # token of the answer's first character (0: no span)
    end: int
    hidden: Any = None


def tokenise(reader: Reader, pairs: list[Pair]) -> list[Example]:
    """Word pieces of each pair and the token positions of its answer span."""
    examples = []
    for i in range(0, len(pairs), 256):
        batch = pairs[i : i + 256]
        enc = reader.tokenizer(
            [p.question for p in batch],
            [p.sentence for p in batch],
            truncation="only_second",
            max_length=MAX_TOKENS,
            return_offsets_mapping=True,
        )
        for j, p in enumerate(batch):
            seq = enc.sequence_ids(j)
            offsets = enc["offset_mapping"][j]
            start = end = 0
            if p.span is not None:
                cs, ce = p.span
                inside = [
                    k
                    for k, (o, sid) in enumerate(zip(offsets, seq, strict=True))
                    if sid == 1 and o[1] > cs and o[0] < ce
                ]
                if inside:
                    start, end = inside[0], inside[-1]
            examples.append(
                Example(p, enc["input_ids"][j], enc["token_type_ids"][j], [sid == 1 for sid in seq], start, end)
            )
    return examples


def _padded(examples: list[Example], field: str, fill: int = 0) -> torch.Tensor:
    import torch

    n = max(len(e.input_ids) for e in examples)
    return torch.tensor([getattr(e, field) + [fill] * (n - len(e.input_ids)) for e in examples])


def _masks(examples: list[Example]) -> tuple[torch.Tensor, torch.Tensor]:
    import torch

    n = max(len(e.input_ids) for e in examples)
    mask = torch.tensor([[1] * len(e.input_ids) + [0] * (n - len(e.input_ids)) for e in examples])
    sentence = torch.tensor([e.sentence_mask + [False] * (n - len(e.input_ids)) for e in examples])
    return mask, sentence


def length_batches(examples: list[Example], size: int, rng: random.Random | None = None) -> list[list[Example]]:
    """Batches of similar length (little padding), in shuffled order when `rng` is given."""
    ordered = sorted(examples, key=lambda e: len(e.input_ids))
    batches = [ordered[i : i + size] for i in range(0, len(ordered), size)]
    if rng is not None:
        rng.shuffle(batches)
    return batches


def cache_bottom(reader: Reader, examples: list[Example]) -> None:
    """Run the frozen embeddings and bottom layers once per example; keep their output (float16)."""
    import torch

    for batch in tqdm(length_batches(examples, 128), desc="frozen layers"):
        mask, _ = _masks(batch)
        with torch.inference_mode():
            hidden = reader.bottom(_padded(batch, "input_ids"), _padded(batch, "token_type_ids"), mask)
        for e, h in zip(batch, hidden, strict=True):
            e.hidden = h[: len(e.input_ids)].to(torch.float16).clone()


def _stack_hidden(batch: list[Example]) -> torch.Tensor:
    import torch

    n = max(len(e.input_ids) for e in batch)
    out = torch.zeros(len(batch), n, batch[0].hidden.shape[-1])
    for i, e in enumerate(batch):
        out[i, : len(e.input_ids)] = e.hidden.to(torch.float32)
    return out


def train(reader: Reader, examples: list[Example], epochs: int, lr: float, seed: int = 0) -> None:
    """Fit the top layers and the head on cached bottom outputs: BCE on answerability + CE on start/end."""
    import torch

    torch.manual_seed(seed)
    rng = random.Random(seed)
    params = [
        {"params": list(reader.top.parameters()), "lr": lr},
        {"params": list(reader.head.parameters()), "lr": lr * 10},
    ]
    optimiser = torch.optim.AdamW(params, weight_decay=0.01)
    batch_size = 32
    steps = epochs * math.ceil(len(examples) / batch_size)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, 1.0 - s / steps)
    )
    bce, ce = torch.nn.BCEWithLogitsLoss(), torch.nn.CrossEntropyLoss()
    reader.top.train()
    reader.head.train()
    for epoch in range(epochs):
        total, seen, started = 0.0, 0, time.perf_counter()
        bar = tqdm(length_batches(examples, batch_size, rng), desc=f"epoch {epoch + 1}/{epochs}")
        for batch in bar:
            mask, sentence = _masks(batch)
            answerable, start_logits, end_logits = reader.logits(_stack_hidden(batch), mask)
            labels = torch.tensor([float(e.pair.label) for e in batch])
            loss = bce(answerable, labels)
            spans = torch.tensor([e.start > 0 for e in batch])
            if spans.any():
                start = start_logits[spans].masked_fill(~sentence[spans], -1e4)
                end = end_logits[spans].masked_fill(~sentence[spans], -1e4)
                ys = torch.tensor([e.start for e in batch if e.start > 0])
                ye = torch.tensor([e.end for e in batch if e.start > 0])
                loss = loss + (ce(start, ys) + ce(end, ye)) / 2
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(reader.top.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            total, seen = total + float(loss) * len(batch), seen + len(batch)
            bar.set_postfix(loss=f"{total / seen:.3f}")
        print(f"epoch {epoch + 1}: loss {total / seen:.3f}, {time.perf_counter() - started:.0f} s", flush=True)
    reader.top.eval()
    reader.head.eval()


def read_pairs(reader: Reader, pairs: list[Pair], batch_size: int = 64) -> list[Reading]:
    """The reader's view of every pair (batched by question where possible)."""
    by_question: dict[tuple[int, str], list[int]] = {}
    for i, p in enumerate(pairs):
        by_question.setdefault((p.qid, p.question), []).append(i)
    readings: dict[int, Reading] = {}
    for (_, question), rows in tqdm(by_question.items(), desc="reading"):
        for i in range(0, len(rows), batch_size):
            chunk = rows[i : i + batch_size]
            for row, r in zip(chunk, reader.read(question, [pairs[k].sentence for k in chunk]), strict=True):
                readings[row] = r
    return [readings[i] for i in range(len(pairs))]


def blend_inputs(pairs: list[Pair], readings: list[Reading]) -> np.ndarray:
    return np.array([[logit(p.linear), r.logit] for p, r in zip(pairs, readings, strict=True)])


def save_pairs(path: Path, pairs: list[Pair]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for p in pairs:
            out.write(json.dumps(asdict(p)) + "\n")


def load_pairs(path: Path) -> list[Pair]:
    pairs = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            d = json.loads(line)
            d["span"] = tuple(d["span"]) if d["span"] else None
            pairs.append(Pair(**d))
    return pairs


def cmd_collect(args: argparse.Namespace) -> int:
    from qa.assistant import Assistant

    assistant = Assistant(index_dir=args.squad_index, auto_ingest=False)
    if assistant.store is None:
        print(f"no index at {args.squad_index}")
        return 2
    titles = training_titles(args.path, args.v2_path)
    squad = load_squad(args.path)
    marked = gold_sentences(args.path) | gold_sentences(args.v2_path)
    v1 = [q for q in squad.questions if q.article_id and title_of(q.article_id) in titles]
    v2 = [
        q
        for q in load_squad(args.v2_path).questions
        if not q.answers and q.article_id and title_of(q.article_id) in titles
    ]
    test = load_squad(args.path, limit=args.test_limit, seed=0, half="test").questions
    started = time.perf_counter()
    train = collect_pairs(assistant, v1, marked, negatives=args.negatives)
    train += collect_pairs(assistant, v2, marked, negatives=args.negatives, start_qid=len(v1))
    save_pairs(args.cache / "train.jsonl", train)
    save_pairs(args.cache / "test.jsonl", collect_pairs(assistant, test, marked, 0, start_qid=10**6, keep_all=True))
    print(f"{len(train)} training pairs from {len(v1)} + {len(v2)} questions in {time.perf_counter() - started:.0f} s")
    return 0


def split_held_out(pairs: list[Pair], share: float = 0.2, seed: int = 0) -> tuple[list[Pair], list[Pair]]:
    """(fit, held) by title: the held-out titles' pairs never reach the reader's training."""
    titles = sorted({p.title for p in pairs})
    random.Random(seed).shuffle(titles)
    held = set(titles[: max(1, round(len(titles) * share))])
    return [p for p in pairs if p.title not in held], [p for p in pairs if p.title in held]


def top_candidates(pairs: list[Pair], n: int) -> list[Pair]:
    """The `n` best candidates under the linear scorer, per question (pairs come in scorer order)."""
    return [p for p in pairs if 0 <= p.rank < n]


def rerank_report(pairs: list[Pair], readings: list[Reading], blend: tuple[float, float, float]) -> dict[str, float]:
    """hit@1 over each answerable question's candidates: linear scorer alone, reader alone, and the blend."""
    groups: dict[int, list[int]] = {}
    for i, p in enumerate(pairs):
        if p.answers:
            groups.setdefault(p.qid, []).append(i)
    x = blend_inputs(pairs, readings)
    blended = x @ np.array(blend[:2]) + blend[2]
    result = {"questions": float(len(groups))}
    for name, values in (("linear", x[:, 0]), ("reader", x[:, 1]), ("blend", blended)):
        result[name] = float(np.mean([pairs[rows[int(np.argmax(values[rows]))]].label for rows in groups.values()]))
    result["oracle"] = float(np.mean([max(pairs[r].label for r in rows) for rows in groups.values()]))
    return result


def span_report(pairs: list[Pair], readings: list[Reading]) -> dict[str, dict[str, float]]:
    """Per answer type (and "all"): EM/F1 of the reader's span and of the rule-based extractor, given a
    sentence that holds the answer (each question's first such sentence)."""
    from qa.eval.metrics import exact_match, token_f1
    from qa.spans import extract_span

    seen: set[int] = set()
    rows: dict[str, list[list[float]]] = {}
    for p, r in zip(pairs, readings, strict=True):
        if not p.label or p.qid in seen or p.rank < 0:
            continue
        seen.add(p.qid)
        parsed = analyze(p.question)
        read = reader_span(p.sentence, r, parsed.answer_type)
        span = read.text if read else p.sentence
        rule = extract_span(p.sentence, parsed)
        rule_text = rule.text if rule else p.sentence
        scores = [
            exact_match(span, p.answers), token_f1(span, p.answers),
            exact_match(rule_text, p.answers), token_f1(rule_text, p.answers),
        ]  # fmt: skip
        for key in ("all", parsed.answer_type.value):
            rows.setdefault(key, []).append(scores)
    return {
        key: dict(
            zip(("reader_em", "reader_f1", "rule_em", "rule_f1"), np.mean(v, axis=0).round(4).tolist(), strict=True)
        )
        | {"n": float(len(v))}
        for key, v in rows.items()
    }


def choose_threshold(pairs: list[Pair], readings: list[Reading], reader: Reader, answered: float = 0.95) -> dict:
    """The highest threshold (0.05 grid) that still answers `answered` of the answerable questions."""
    top: dict[int, tuple[float, bool]] = {}
    for p, r in zip(pairs, readings, strict=True):
        if p.rank < 0:
            continue  # a gold sentence retrieval missed: never among the candidates the assistant sees
        score = reader.probability(p.linear, r)
        if p.qid not in top or score > top[p.qid][0]:
            top[p.qid] = (score, bool(p.answers))
    answerable = np.array([s for s, a in top.values() if a])
    unanswerable = np.array([s for s, a in top.values() if not a])
    threshold = 0.05
    for t in np.arange(0.05, 1.0, 0.05):
        if np.mean(answerable >= t) >= answered:
            threshold = round(float(t), 2)
    return {
        "threshold": threshold,
        "answerable": float(len(answerable)),
        "answered": float(np.mean(answerable >= threshold)),
        "unanswerable": float(len(unanswerable)),
        "refused": float(np.mean(unanswerable < threshold)) if len(unanswerable) else 0.0,
    }


def calibrate(encoder: Any, folder: Path, cache: Path, candidates: int) -> dict:
    """Fit the blend, the threshold and the span choice on held-out titles; report on test; update reader.json."""
    import dataclasses

    from qa.eval.train_scorer import fit_calibration
    from qa.reader import load_reader

    reader = load_reader(encoder, folder)  # the shipped float16 weights, as the assistant will use them
    # Each question's 3 best candidates are all in the pairs (the negatives kept are the best-scored ones), so
    # they are an unbiased sample of what the assistant reranks; lower ranks are not (positives only).
    held = [p for p in split_held_out(load_pairs(cache / "train.jsonl"))[1] if 0 <= p.rank < 3]
    held_readings = read_pairs(reader, held)
    coef, bias = fit_calibration(blend_inputs(held, held_readings), np.array([float(p.label) for p in held]))
    blend = (float(coef[0]), float(coef[1]), bias)
    reader.config = dataclasses.replace(
        reader.config, blend_linear=blend[0], blend_reader=blend[1], blend_bias=blend[2], candidates=candidates
    )
    held_rerank = rerank_report(held, held_readings, blend)
    # Rescore only when the blend ranks the held-out candidates better than the linear scorer alone.
    rescore = held_rerank["blend"] > held_rerank["linear"] + 0.005
    abstention = choose_threshold(held, held_readings, reader) if rescore else {"threshold": 0.5}
    held_spans = span_report(held, held_readings)
    # The reader's span replaces the rules only for answer types where it is clearly better (SPAN_MARGIN) without
    # losing exact matches, and never for RULE_TYPES (see there).
    span_types = sorted(
        key
        for key, v in held_spans.items()
        if key not in ("all", *RULE_TYPES)
        and v["n"] >= 30
        and v["reader_f1"] >= v["rule_f1"] + SPAN_MARGIN
        and v["reader_em"] >= v["rule_em"]
    )
    test = top_candidates(load_pairs(cache / "test.jsonl"), candidates)
    test_readings = read_pairs(reader, test)
    report = {
        "held_out": {
            "rerank": held_rerank, "rescore": rescore, "abstention": abstention, "spans": held_spans,
        },
        "test": {"rerank": rerank_report(test, test_readings, blend), "spans": span_report(test, test_readings)},
    }  # fmt: skip
    print(json.dumps(report, indent=2))
    reader.save(
        folder, reader.config.provenance, encoder.weights_sha256,
        rescore=rescore, blend_linear=round(blend[0], 5), blend_reader=round(blend[1], 5),
        blend_bias=round(blend[2], 5), threshold=abstention["threshold"], candidates=candidates,
        reader_span_types=tuple(span_types),
    )  # fmt: skip
    (folder / "training-report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def _frozen_encoder() -> Any:
    from index.encoder import load_encoder

    encoder = load_encoder()
    transformer: Any = encoder.model[0].auto_model
    transformer.eval()
    for p in transformer.parameters():
        p.requires_grad = False
    return encoder


def cmd_train(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    encoder = _frozen_encoder()
    transformer = encoder.model[0].auto_model
    reader = Reader.build(transformer, encoder.model.tokenizer, transformer.config.num_hidden_layers - args.top_layers)
    for p in reader.top.parameters():
        p.requires_grad = True  # copies of frozen layers start frozen too
    fit, held = split_held_out(load_pairs(args.cache / "train.jsonl"))
    if args.limit:
        fit = random.Random(0).sample(fit, min(args.limit, len(fit)))
    examples = tokenise(reader, fit)
    print(f"{len(examples)} training pairs ({sum(p.label for p in fit)} positive), {len(held)} held out", flush=True)
    cache_bottom(reader, examples)
    train(reader, examples, args.epochs, args.lr)
    del examples
    provenance = (
        f"qa train-reader: top {args.top_layers} MiniLM layers + head, {args.epochs} epochs, lr {args.lr}, on "
        f"{len(fit)} question-sentence pairs of SQuAD dev v1.1 tune titles (minus v2.0 test titles) and v2.0 "
        f"unanswerable questions of those titles; blend, threshold and span choice fitted on {len(held)} pairs "
        "of held-out titles"
    )
    reader.save(args.out, provenance, encoder.weights_sha256)
    print(f"trained in {(time.perf_counter() - started) / 60:.1f} min", flush=True)
    calibrate(encoder, args.out, args.cache, args.rerank)
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    calibrate(_frozen_encoder(), args.out, args.cache, args.rerank)
    return 0


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """The `qa train-reader` steps: collect (candidates), train (weights, then calibrate), calibrate (again)."""
    steps = parser.add_subparsers(dest="step", required=True, metavar="STEP")
    collect = steps.add_parser("collect", help="candidate sentences for the training and test questions")
    collect.add_argument("--path", type=Path, default=DEFAULT_SQUAD, help="SQuAD v1.1 dev JSON")
    collect.add_argument("--v2-path", type=Path, default=DEFAULT_V2, help="SQuAD v2.0 dev JSON")
    collect.add_argument("--squad-index", type=Path, required=True, help="index of ALL the v1.1 file's paragraphs")
    collect.add_argument("--negatives", type=int, default=3, help="hard negatives per answerable question")
    collect.add_argument("--test-limit", type=int, default=1500, help="test-half questions kept for reporting")
    train_step = steps.add_parser("train", help="fit the top layers and head, then calibrate")
    train_step.add_argument("--top-layers", type=int, default=2, help="MiniLM layers to fine-tune (default 2)")
    train_step.add_argument("--epochs", type=int, default=2)
    train_step.add_argument("--lr", type=float, default=1e-4)
    train_step.add_argument("--limit", type=int, default=0, help="train on a sample of this many pairs (trials)")
    steps.add_parser("calibrate", help="refit blend, threshold and span choice of trained weights")
    for step in steps.choices.values():
        step.add_argument("--cache", type=Path, required=True, help="folder for the collected pairs")
        if step is not collect:
            step.add_argument("--out", type=Path, default=REPO_ROOT / "qa" / "reader", help="reader folder")
            step.add_argument("--rerank", type=int, default=8, help="candidates the reader rescores (default 8)")


def run_train_cli(args: argparse.Namespace) -> int:
    return {"collect": cmd_collect, "train": cmd_train, "calibrate": cmd_calibrate}[args.step](args)


def main() -> int:
    parser = argparse.ArgumentParser(prog="qa train-reader", description=__doc__.splitlines()[0])
    add_train_arguments(parser)
    return run_train_cli(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
