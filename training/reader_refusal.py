"""The reader's refusal stage: go on training the shipped cross-encoder so that its logit also says "the archive
does not hold this", on the two kinds of "no" users meet.

- **Questions whose article is not in the archive.** Some SQuAD v1.1 train articles are held out; their questions
  are read against the sentences nearest to them (under the base model's embeddings, the product's dense retrieval)
  among other articles' paragraphs: the candidates retrieval returns when the answer's article is missing. None
  may hold a gold answer's text.
- **Questions written to look answerable** (SQuAD v2.0's unanswerable questions of every other title of the dev
  **tune** half: the first, third, …): read against their own paragraph's sentences nearest to them, then the
  article's.

Both groups are labelled "no sentence answers" (only the pointwise loss: every logit down). Ordinary groups (SQuAD
v1.1 train questions of other articles and the answerable v2.0 questions of the same titles, as in
training/reader.py) keep the listwise, pointwise and span losses, so the reader still ranks and marks spans.
A second set of held-out articles and the other v2.0 tune titles are never trained on; the report judges the
reader on them: for the v2.0 titles, how often the best-read sentence of the paragraph holds the answer, and, at
the logit that still answers 92 % of the answerable, how many unanswerable and article-less questions are refused.

Like training/reader.py it needs only torch, transformers and safetensors, so it runs on a GPU machine from a plain
copy of the repository. Its defaults are sized for two CPU cores (600 steps of 8 groups, 74 minutes); that run did
not move the refusals and is not shipped (docs/training.md says what was measured and what the GPU run should
use):

    python -m training.reader_refusal --data DATA.jsonl.gz --model MODEL_DIR --init qa/reader/reader.safetensors \\
        --out OUT_DIR
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file
from transformers import AutoModel, AutoTokenizer

from evaluation.normalize import normalize_answer
from qa.cross_encoder import FROZEN, reader_tensors
from training.reader import Network, optimiser_step, read, trained_tensors
from training.reader_groups import GROUP, build_groups, collate, embed, load_split, tokenize_groups

__all__ = [
    "ARTICLE_LESS", "JUDGE_ARTICLE_LESS", "build_parser", "judge", "load_network", "main", "no_answer_groups",
    "refusal_groups", "run", "unanswerable_groups",
]  # fmt: skip

# SQuAD v1.1 train titles whose questions are asked with their article missing (taught), and more (judged only).
ARTICLE_LESS = 40
JUDGE_ARTICLE_LESS = 20
POSITIVE_QUESTIONS = 4000  # ordinary v1.1 train questions in the mix, so ranking and spans are not forgotten
ARCHIVE_PARAGRAPHS = 3000  # the other articles' paragraphs that the article-less questions are read against
ARTICLE_LESS_QUESTIONS = 2000  # of the held-out titles' questions, taught
JUDGE_QUESTIONS = 800  # of the judged titles' questions, kept for the judge (it reads the first 400)
MINED_POOL = 32
ANSWERED = 0.92  # the share of answerable questions the judged threshold keeps answering (as calibration does)


def no_answer_groups(
    questions: list[dict],
    archive: list[tuple[str, str]],
    vectors: torch.Tensor,
    bert: Any,
    tokenizer: Any,
    device: str,
) -> list[dict]:
    """Each question read against the GROUP archive sentences nearest to it that hold none of its answers."""
    normalized = [normalize_answer(text) for _, text in archive]
    question_vectors = embed(bert, tokenizer, [q["question"] for q in questions], device)
    sims = question_vectors.float() @ vectors.float().T
    nearest = sims.topk(min(MINED_POOL, sims.shape[1]), dim=1).indices.tolist()
    groups = []
    for q, near in zip(questions, nearest, strict=True):
        answers = [a for a in (normalize_answer(a) for a in q["answers"]) if a]
        candidates = [archive[j] for j in near if not any(a in normalized[j] for a in answers)][:GROUP]
        if len(candidates) == GROUP:
            groups.append({"question": q["question"], "candidates": candidates, "span": None, "negative": True})
    return groups


def unanswerable_groups(paragraphs: list[dict], bert: Any, tokenizer: Any, device: str) -> list[dict]:
    """Each unanswerable question of `paragraphs` read against its paragraph's sentences nearest to it, then (to
    fill the group) its article's other sentences nearest to it."""
    by_title: dict[str, list[str]] = {}
    for record in paragraphs:
        by_title.setdefault(record["title"], []).extend(record["sentences"])
    sentences = {title: list(dict.fromkeys(texts)) for title, texts in by_title.items()}
    vectors = {title: embed(bert, tokenizer, texts, device) for title, texts in sentences.items()}
    asked = [(record, q) for record in paragraphs for q in record["qas"] if q.get("impossible")]
    question_vectors = embed(bert, tokenizer, [q["question"] for _, q in asked], device)
    groups = []
    for (record, q), qv in zip(asked, question_vectors, strict=True):
        title = record["title"]
        similarity = dict(zip(sentences[title], (vectors[title].float() @ qv.float()).tolist(), strict=True))
        own = list(dict.fromkeys(record["sentences"]))
        # Nearest first (a stable sort: equally near sentences keep their order in the article).
        chosen = sorted(own, key=similarity.__getitem__, reverse=True)[:GROUP]
        taken = set(own)
        others = [t for t in sentences[title] if t not in taken]
        chosen += sorted(others, key=similarity.__getitem__, reverse=True)[: GROUP - len(chosen)]
        if len(chosen) == GROUP:
            groups.append(
                {"question": q["question"], "candidates": [(title, t) for t in chosen], "span": None, "negative": True}
            )
    return groups


def refusal_groups(
    data: Path,
    bert: Any,
    tokenizer: Any,
    device: str,
    seed: int,
    article_less_titles: int = ARTICLE_LESS,
    judge_titles: int = JUDGE_ARTICLE_LESS,
    positives: int = POSITIVE_QUESTIONS,
    archive_paragraphs: int = ARCHIVE_PARAGRAPHS,
    article_less_questions: int = ARTICLE_LESS_QUESTIONS,
) -> dict[str, Any]:
    """Every group of the stage, by kind ("positive", "v2_positive", "v2_unanswerable", "article_less"), and what is
    kept for judging ("judge_article_less" groups, "judge_v2" paragraphs). The sizes default to the shipped run's."""
    rng = random.Random(seed)
    train = load_split(data, "train")
    titles = sorted({record["title"] for record in train})
    rng.shuffle(titles)
    held = set(titles[:article_less_titles])
    judged = set(titles[article_less_titles : article_less_titles + judge_titles])
    kept = [record for record in train if record["title"] not in held | judged]
    rng.shuffle(kept)
    sample, n = [], 0
    for record in kept:
        if n >= positives:
            break
        sample.append(record)
        n += len(record["qas"])
    out: dict[str, Any] = {"positive": build_groups(sample, bert, tokenizer, device, seed)}

    archive = [(record["title"], text) for record in kept[:archive_paragraphs] for text in record["sentences"]]
    vectors = embed(bert, tokenizer, [text for _, text in archive], device)

    def article_less(titles: set[str], limit: int) -> list[dict]:
        questions = [q for record in train if record["title"] in titles for q in record["qas"]]
        rng.shuffle(questions)
        return no_answer_groups(questions[:limit], archive, vectors, bert, tokenizer, device)

    out["article_less"] = article_less(held, article_less_questions)
    out["judge_article_less"] = article_less(judged, JUDGE_QUESTIONS)

    v2 = load_split(data, "tune-v2")
    v2_titles = list(dict.fromkeys(record["title"] for record in v2))
    taught = set(v2_titles[0::2])
    v2_taught = [record for record in v2 if record["title"] in taught]
    answerable = [dict(record, qas=[q for q in record["qas"] if q["sentence"] >= 0]) for record in v2_taught]
    out["v2_positive"] = build_groups(answerable, bert, tokenizer, device, seed + 1)
    out["v2_unanswerable"] = unanswerable_groups(v2_taught, bert, tokenizer, device)
    out["judge_v2"] = [record for record in v2 if record["title"] not in taught]
    for kind in ("positive", "v2_positive"):
        for group in out[kind]:
            group["negative"] = False
    return out


def load_network(model_dir: Path, weights: Path) -> Network:
    """The trained reader (`weights`, as qa/reader/ ships them) over the base model's frozen word pieces, in float32."""
    network = Network(AutoModel.from_pretrained(str(model_dir), add_pooling_layer=False).float())
    network.load_state_dict(reader_tensors(weights, model_dir))
    return network


@torch.no_grad()
def judge(
    network: Network,
    tokenizer: Any,
    paragraphs: list[dict],
    article_less: list[dict],
    device: str,
    v2_questions: int = 1500,
    article_less_questions: int = 400,
) -> dict[str, float]:
    """The reader on what it was not trained on (see the module's docstring)."""
    network.eval()
    answerable: list[float] = []
    unanswerable: list[float] = []
    right = asked = 0
    for record in paragraphs:
        candidates = [(record["title"], s) for s in record["sentences"]]
        for q in record["qas"]:
            if asked >= v2_questions:
                break
            asked += 1
            readings = read(network, tokenizer, q["question"], candidates, device)
            best = max(range(len(readings)), key=lambda i: readings[i].logit)
            if q.get("impossible"):
                unanswerable.append(readings[best].logit)
                continue
            answerable.append(readings[best].logit)
            sentence = normalize_answer(record["sentences"][best])
            right += any(normalize_answer(a) in sentence for a in q["answers"])
    missing = [
        max(r.logit for r in read(network, tokenizer, g["question"], g["candidates"], device))
        for g in article_less[:article_less_questions]
    ]
    network.train()
    threshold = sorted(answerable)[int((1 - ANSWERED) * len(answerable))] if answerable else float("inf")
    return {
        "v2_answerable": len(answerable),
        "v2_unanswerable": len(unanswerable),
        "v2_top_sentence_right": right / max(len(answerable), 1),
        "threshold_logit": threshold,
        "v2_unanswerable_refused": sum(u < threshold for u in unanswerable) / max(len(unanswerable), 1),
        "article_less_refused": sum(m < threshold for m in missing) / max(len(missing), 1),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Build the groups, train `args.steps` steps from `args.init`, judge before and after; writes
    reader.safetensors and refusal-report.json into `args.out` and returns the report."""
    torch.manual_seed(args.seed)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    started = time.time()
    tokenizer = AutoTokenizer.from_pretrained(str(args.model))
    base = AutoModel.from_pretrained(str(args.model), add_pooling_layer=False).float().to(device).eval()
    groups = refusal_groups(
        args.data,
        base,
        tokenizer,
        device,
        args.seed,
        args.article_less,
        args.judge_article_less,
        args.positives,
        args.archive,
        args.article_less_questions,
    )
    del base
    counts = {kind: len(v) for kind, v in groups.items()}
    print(json.dumps({"groups": counts, "seconds": round(time.time() - started)}), flush=True)

    network = load_network(args.model, args.init).to(device)
    before = judge(network, tokenizer, groups["judge_v2"], groups["judge_article_less"], device)
    print(json.dumps({"before": before}), flush=True)
    data: list[dict] = []
    for kind in ("positive", "v2_positive", "v2_unanswerable", "article_less"):
        chosen = random.Random(args.seed + 1).sample(groups[kind], len(groups[kind]))
        for tokens, group in zip(tokenize_groups(tokenizer, chosen), chosen, strict=True):
            data.append(dict(tokens, negative=group["negative"]))
    random.Random(args.seed + 2).shuffle(data)
    log = optimise(network, data, args, device)
    after = judge(network, tokenizer, groups["judge_v2"], groups["judge_article_less"], device)
    print(json.dumps({"after": after}), flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    save_file(trained_tensors(network), str(args.out / "reader.safetensors"))
    report = {
        "init": str(args.init),
        "groups": counts,
        "steps": args.steps,
        "batch_groups": args.batch,
        "lr": args.lr,
        "seed": args.seed,
        "device": torch.cuda.get_device_name() if device.startswith("cuda") else "cpu",
        "total_seconds": round(time.time() - started, 1),
        "judged_before": before,
        "judged_after": after,
        "log": log,
    }
    (args.out / "refusal-report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def optimise(network: Network, data: list[dict], args: argparse.Namespace, device: str) -> list[dict[str, Any]]:
    """AdamW over batches of `args.batch` groups (a fresh shuffle each pass), 10 % linear warm-up then linear decay,
    the word-piece table frozen, gradients clipped to norm 1; logs the loss every 50 steps."""
    network.bert.get_parameter(FROZEN).requires_grad_(False)
    params = [p for p in network.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    warmup = max(1, args.steps // 10)
    rng = random.Random(args.seed + 3)
    network.train()
    step, started, log = 0, time.time(), []
    while step < args.steps:
        order = list(range(len(data)))
        rng.shuffle(order)
        for at in range(0, len(order) - args.batch + 1, args.batch):
            if step >= args.steps:
                break
            items = [data[i] for i in order[at : at + args.batch]]
            cpu_batch = dict(collate(items), negative=torch.tensor([item["negative"] for item in items]))
            lr = args.lr * min((step + 1) / warmup, (args.steps - step) / (args.steps - warmup))
            loss, parts = optimiser_step(network, optimizer, params, cpu_batch, lr, device)
            step += 1
            if step % 50 == 0 or step == args.steps:
                log.append({"step": step, "seconds": round(time.time() - started, 1), "loss": loss.item(), **parts})
                print(json.dumps(log[-1]), flush=True)
    return log


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the file `qa train-reader prepare` wrote")
    parser.add_argument("--model", type=Path, required=True, help="the base all-MiniLM-L6-v2 folder")
    parser.add_argument("--init", type=Path, required=True, help="the reader weights to go on from (qa/reader/)")
    parser.add_argument("--out", type=Path, required=True, help="folder for reader.safetensors and the report")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch", type=int, default=8, help="question groups per step")
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=None)
    parser.add_argument(
        "--article-less", type=int, default=ARTICLE_LESS, help="train titles asked without their article"
    )
    parser.add_argument("--judge-article-less", type=int, default=JUDGE_ARTICLE_LESS, help="more, judged only")
    parser.add_argument("--positives", type=int, default=POSITIVE_QUESTIONS, help="ordinary train questions kept")
    parser.add_argument("--archive", type=int, default=ARCHIVE_PARAGRAPHS, help="paragraphs standing for the archive")
    parser.add_argument(
        "--article-less-questions", type=int, default=ARTICLE_LESS_QUESTIONS, help="of those titles' questions, taught"
    )
    return parser


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    run(build_parser(prog).parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
