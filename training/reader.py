"""Fine-tune the packaged all-MiniLM-L6-v2 into the question–sentence cross-encoder that ships in qa/reader/.

Input: the file `qa train-reader prepare` writes (training/squad_data.py). For every SQuAD v1.1 train question
the trainer builds a group of GROUP sentences: the one where the annotator marked the answer (by offset), the
other sentences of its paragraph, and the sentences nearest to the question under the base model's own
embeddings (the product's dense retrieval) from other paragraphs; no negative may contain a gold answer's text.
The model reads "[CLS] question [SEP] title | sentence [SEP]" and has three outputs: an answerability logit (from
the mean of the pair's token states) and per-token start and end logits. Loss: softmax over the group (the marked
sentence must win), a pointwise binary loss on every pair (so the logit also says "nothing here answers", as when
all candidates come from other articles), and start/end cross-entropy on the marked sentence when its offset is
exact. All 6 layers learn; the word-embedding table stays the base model's (frozen), so the product shares it
with the encoder and ships only the rest (~21 MB in float16).

The groups are made in training/reader_groups.py. It needs only torch, transformers and safetensors (the pair
format and network come from qa/cross_encoder.py, SQuAD's answer normalisation and scores from
evaluation/normalize.py and evaluation/metrics.py, all free of other dependencies), so it runs on a GPU machine
that has none of the product's other dependencies (docs/training.md):

    python -m training.reader --data DATA.jsonl.gz --model MODEL_DIR --out OUT_DIR [--max-seconds N]

and the same command trains on CPU, only far slower (use --limit for a subsample).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file
from transformers import AutoModel, AutoTokenizer

from evaluation.metrics import squad_exact_match, squad_f1
from evaluation.normalize import normalize_answer
from qa.cross_encoder import FROZEN, MAX_TOKENS, Reading, decode, encode_pairs, forward
from training.reader_groups import GROUP, build_groups, collate, embed, load, tokenize_groups

__all__ = [
    "GROUP", "Network", "build_groups", "build_parser", "collate", "embed", "evaluate", "group_loss", "load", "main",
    "optimiser_step", "read", "tokenize_groups", "train", "trained_tensors",
]  # fmt: skip


class Network(torch.nn.Module):
    """The cross-encoder as one module for the optimiser: the base BERT and the three-output head."""

    def __init__(self, bert: Any) -> None:
        super().__init__()
        self.bert = bert
        self.head = torch.nn.Linear(bert.config.hidden_size, 3)

    def forward(self, ids: torch.Tensor, types: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return forward(self.bert, self.head, ids, types, mask)


def trained_tensors(model: Network) -> dict[str, torch.Tensor]:
    """What ships: every tensor but the frozen word embeddings, in float16 (names "bert.*" and "head.*")."""
    return {
        name: tensor.detach().to(torch.float16).contiguous().cpu()
        for name, tensor in model.state_dict().items()
        if name != f"bert.{FROZEN}"
    }


def group_loss(model: Network, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    """The loss of a batch of groups (listwise + pointwise + span, see the module's docstring) and its parts.

    A group flagged in `batch["negative"]` (training/reader_refusal.py) holds no answering sentence: it takes only
    the pointwise loss, with every label 0."""
    answerable, start, end = model(batch["ids"], batch["types"], batch["mask"])
    answerable = answerable.float().view(-1, GROUP)
    positive = ~batch["negative"] if "negative" in batch else torch.ones_like(batch["start"], dtype=torch.bool)
    listwise = answerable.new_zeros(())
    if positive.any():
        listwise = torch.nn.functional.cross_entropy(
            answerable[positive], torch.zeros(int(positive.sum()), dtype=torch.long, device=answerable.device)
        )
    labels = torch.zeros_like(answerable)
    labels[positive, 0] = 1.0
    pointwise = torch.nn.functional.binary_cross_entropy_with_logits(answerable, labels)
    has_span = (batch["start"] >= 0) & positive
    span = answerable.new_zeros(())
    if has_span.any():
        # Only the marked sentence (row 0 of each group) has a span; only its answer's word pieces may be picked.
        allowed = (batch["types"].view(-1, GROUP, batch["types"].shape[1])[:, 0] == 1) & (
            batch["mask"].view(-1, GROUP, batch["mask"].shape[1])[:, 0] == 1
        )
        s = start.float().view(-1, GROUP, start.shape[1])[:, 0].masked_fill(~allowed, -1e4)
        e = end.float().view(-1, GROUP, end.shape[1])[:, 0].masked_fill(~allowed, -1e4)
        span = (
            torch.nn.functional.cross_entropy(s[has_span], batch["start"][has_span])
            + torch.nn.functional.cross_entropy(e[has_span], batch["end"][has_span])
        ) / 2
    loss = listwise + pointwise + span
    return loss, {"listwise": listwise.item(), "pointwise": pointwise.item(), "span": span.item()}


# --- evaluation on the dev tune half (the numbers the product reports come from `qa eval`) ---------------------
@torch.no_grad()
def read(
    model: Network, tokenizer: Any, question: str, candidates: list[tuple[str, str]], device: str
) -> list[Reading]:
    """The Readings qa/reader.py computes at answer time (on `device`, in bfloat16 on a GPU)."""
    enc = encode_pairs(tokenizer, question, candidates)
    with torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16, enabled=device != "cpu"):
        answerable, start, end = model(
            enc["input_ids"].to(device), enc["token_type_ids"].to(device), enc["attention_mask"].to(device)
        )
    return decode(enc, candidates, answerable.float().cpu(), start, end)


def evaluate(
    model: Network, tokenizer: Any, paragraphs: list[dict], device: str, limit: int = 1500
) -> dict[str, float]:
    """On dev tune: how often the top-read sentence of the gold paragraph holds an answer, and span EM/F1 on the
    annotated sentence (the reader given the right sentence)."""
    model.eval()
    hits = em = f1_sum = 0.0
    n = 0
    for record in paragraphs:
        candidates = [(record["title"], s) for s in record["sentences"]]
        for q in record["qas"]:
            if n >= limit or q["sentence"] < 0:
                continue
            readings = read(model, tokenizer, q["question"], candidates, device)
            top = max(range(len(readings)), key=lambda i: readings[i].logit)
            hits += any(normalize_answer(a) in normalize_answer(record["sentences"][top]) for a in q["answers"])
            marked = readings[q["sentence"]]
            span = record["sentences"][q["sentence"]][marked.start : marked.end]
            em += squad_exact_match(span, q["answers"])
            f1_sum += squad_f1(span, q["answers"])
            n += 1
    model.train()
    return {
        "questions": n,
        "paragraph_hit1": hits / max(n, 1),
        "span_em": em / max(n, 1),
        "span_f1": f1_sum / max(n, 1),
    }


# --- training ------------------------------------------------------------------------------------------------
def train(args: argparse.Namespace) -> dict[str, Any]:
    """Fine-tune the cross-encoder as `args` say (`build_parser`): groups from the training file, the training
    loop, the check on the dev tune half; writes reader.safetensors and train-report.json into `args.out` and
    returns the report."""
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    started = time.time()
    tokenizer = AutoTokenizer.from_pretrained(str(args.model))
    bert = AutoModel.from_pretrained(str(args.model), add_pooling_layer=False).float().to(device)
    train_paragraphs, tune_paragraphs = load(args.data, args.limit)
    groups = build_groups(train_paragraphs, bert, tokenizer, device, args.seed)
    spans = sum(g["span"] is not None for g in groups)
    print(f"{len(groups)} groups of {GROUP} ({spans} with an exact span) in {time.time() - started:.0f} s", flush=True)
    data = tokenize_groups(tokenizer, groups)
    print(f"tokenized in {time.time() - started:.0f} s", flush=True)

    model = Network(bert).to(device)
    run = optimise(model, data, args, device)
    metrics = evaluate(model, tokenizer, tune_paragraphs, device, args.eval_questions)
    print(json.dumps(metrics), flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    save_file(trained_tensors(model), str(args.out / "reader.safetensors"))
    report = {
        "groups": len(groups),
        "groups_with_span": spans,
        "group_size": GROUP,
        "epochs_planned": args.epochs,
        "steps": run.steps,
        "steps_per_epoch": run.steps_per_epoch,
        "batch_groups": args.batch,
        "lr": args.lr,
        "seed": args.seed,
        "max_tokens": MAX_TOKENS,
        "device": torch.cuda.get_device_name() if device.startswith("cuda") else "cpu",
        "train_seconds": round(run.seconds, 1),
        "total_seconds": round(time.time() - started, 1),
        "tune": metrics,
        "log": run.log,
    }
    (args.out / "train-report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


@dataclass
class TrainingRun:
    """What the training loop did: the steps taken (of how many an epoch holds), its seconds and its loss log."""

    steps: int
    steps_per_epoch: int
    seconds: float
    log: list[dict[str, Any]]


def optimise(model: Network, data: list[dict], args: argparse.Namespace, device: str) -> TrainingRun:
    """The training loop: AdamW over shuffled batches of `args.batch` groups, 10 % linear warm-up then linear
    decay to 0, the word-piece table frozen; with `args.max_seconds` the schedule is fitted to the budget once
    the speed is known. Logs the losses every 200 steps and at the last."""
    model.bert.get_parameter(FROZEN).requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01, fused=device != "cpu")
    steps_per_epoch = math.ceil(len(data) / args.batch)
    planned = steps_per_epoch * args.epochs if args.steps is None else args.steps
    warmup = max(1, int(planned * 0.1))
    model.train()
    rng = random.Random(args.seed)
    step, train_started, log = 0, time.time(), []
    warm = train_started
    while step < planned:
        for cpu_batch in _epoch_batches(data, args.batch, args.workers, rng):
            if step >= planned:
                break
            lr = args.lr * min((step + 1) / warmup, max(0.0, (planned - step) / (planned - warmup)))
            loss, parts = optimiser_step(model, optimizer, params, cpu_batch, lr, device)
            step += 1
            if step == 10:
                warm = time.time()
            if step == 40 and args.max_seconds:
                planned = _fit_to_budget(step, planned, 30 / (time.time() - warm), args.max_seconds, train_started)
            if step % 200 == 0 or step == planned:
                log.append(
                    {"step": step, "seconds": round(time.time() - train_started, 1), "loss": loss.item(), **parts}
                )
                print(json.dumps(log[-1]), flush=True)
    return TrainingRun(step, steps_per_epoch, time.time() - train_started, log)


def _epoch_batches(data: list[dict], batch: int, workers: int, rng: random.Random) -> Any:
    """One epoch of `batch`-group batches in a fresh shuffled order, padded by `workers` processes ahead."""
    order = list(range(len(data)))
    rng.shuffle(order)
    batches = [[data[i] for i in order[at : at + batch]] for at in range(0, len(order), batch)]
    return torch.utils.data.DataLoader(
        batches,  # type: ignore[arg-type]  # a list is a map-style dataset
        batch_size=None,
        collate_fn=collate,
        num_workers=workers,
    )


def optimiser_step(
    model: Network,
    optimizer: torch.optim.Optimizer,
    params: list[torch.nn.Parameter],
    cpu_batch: dict[str, torch.Tensor],
    lr: float,
    device: str,
) -> tuple[torch.Tensor, dict[str, float]]:
    """One optimiser step at learning rate `lr` (bf16 autocast on a GPU, gradients clipped to norm 1)."""
    batch = {k: v.to(device, non_blocking=True) for k, v in cpu_batch.items()}
    for g in optimizer.param_groups:
        g["lr"] = lr
    with torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16, enabled=device != "cpu"):
        loss, parts = group_loss(model, batch)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    optimizer.step()
    return loss, parts


def _fit_to_budget(step: int, planned: int, rate: float, max_seconds: float, train_started: float) -> int:
    """The steps to plan for once the speed is known (`rate` steps a second, measured over steps 10 to 40):
    fewer than planned when they do not fit `max_seconds` of training (the steps used are recorded)."""
    affordable = step + int(rate * (max_seconds - (time.time() - train_started)))
    if affordable < planned:
        print(f"{rate:.1f} steps/s: {planned} steps do not fit {max_seconds} s; using {affordable}", flush=True)
        planned = max(affordable, step + 1)
    return planned


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the file `qa train-reader prepare` wrote")
    parser.add_argument("--model", type=Path, required=True, help="the base all-MiniLM-L6-v2 folder")
    parser.add_argument("--out", type=Path, required=True, help="folder for reader.safetensors and train-report.json")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--steps", type=int, default=None, help="train exactly this many steps (overrides --epochs)")
    parser.add_argument("--batch", type=int, default=64, help="question groups per step")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="train on about this many questions only")
    parser.add_argument("--max-seconds", type=float, default=None, help="shorten the schedule to fit this budget")
    parser.add_argument("--eval-questions", type=int, default=1500)
    parser.add_argument("--device", default=None)
    parser.add_argument("--workers", type=int, default=4, help="processes that pad batches ahead of the model")
    return parser


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    train(build_parser(prog).parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
