"""The cross-encoder trainer's data: SQuAD questions grouped with their marked sentence and hard negatives.

`load` reads the file `qa train-reader prepare` writes (training/squad_data.py); `build_groups` makes, for every
question whose answer sits in one sentence, a group of GROUP sentences: the marked one first, then other sentences
of its paragraph and the nearest sentences of other paragraphs under the base model's own embeddings (`embed`),
never one that holds a gold answer's text; `tokenize_groups` and `collate` turn groups into the model's batches.
Like training/reader.py it needs only torch (and the tokenizer it is given).
"""

from __future__ import annotations

import gzip
import json
import random
import time
from pathlib import Path
from typing import Any

import torch

from evaluation.normalize import normalize_answer
from qa.cross_encoder import MAX_TOKENS, second_segment

GROUP = 8


def load_split(path: Path, split: str) -> list[dict]:
    """The training file's paragraphs of one split ("train", "tune" or "tune-v2"), in file order."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [record for line in handle if (record := json.loads(line))["split"] == split]


def load(path: Path, limit: int | None) -> tuple[list[dict], list[dict]]:
    """The training file's train and (v1.1) tune paragraphs; with `limit`, a seeded sample of about that many train
    questions (whole paragraphs)."""
    train: list[dict] = []
    tune: list[dict] = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record["split"] in ("train", "tune"):
                (train if record["split"] == "train" else tune).append(record)
    if limit is not None:
        random.Random(0).shuffle(train)
        kept, n = [], 0
        for record in train:
            if n >= limit:
                break
            kept.append(record)
            n += len(record["qas"])
        train = kept
    return train, tune


@torch.no_grad()
def embed(bert: Any, tokenizer: Any, texts: list[str], device: str, batch: int = 512) -> torch.Tensor:
    """Mean-pooled, normalised base-model vectors: the product's encoder (all-MiniLM-L6-v2)."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = torch.empty(len(texts), bert.config.hidden_size, device=device, dtype=torch.float16)
    for at in range(0, len(order), batch):
        idx = order[at : at + batch]
        enc = tokenizer([texts[i] for i in idx], truncation=True, max_length=256, padding=True, return_tensors="pt")
        enc = {k: v.to(device) for k, v in enc.items()}
        with torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16, enabled=device != "cpu"):
            hidden = bert(**enc).last_hidden_state.float()
        m = enc["attention_mask"][..., None].float()
        vectors = torch.nn.functional.normalize((hidden * m).sum(1) / m.sum(1), dim=-1)
        out[torch.tensor(idx, device=device)] = vectors.half()
    return out


def build_groups(
    paragraphs: list[dict], bert: Any, tokenizer: Any, device: str, seed: int, mined_pool: int = 32
) -> list[dict]:
    """One group per question whose answer sits in one sentence: [marked, negatives...] (GROUP long)."""
    rng = random.Random(seed)
    sentences: list[tuple[int, int]] = []  # (paragraph, sentence number)
    for p, record in enumerate(paragraphs):
        sentences.extend((p, i) for i in range(len(record["sentences"])))
    questions = [(p, q) for p, record in enumerate(paragraphs) for q in record["qas"] if q["sentence"] >= 0]
    t = time.time()
    sent_vectors = embed(bert, tokenizer, [paragraphs[p]["sentences"][i] for p, i in sentences], device)
    question_vectors = embed(bert, tokenizer, [q["question"] for _, q in questions], device)
    paragraph_of = torch.tensor([p for p, _ in sentences], device=device)
    normalized = [normalize_answer(paragraphs[p]["sentences"][i]) for p, i in sentences]
    number_of = {pair: n for n, pair in enumerate(sentences)}
    print(f"embedded {len(sentences)} sentences and {len(questions)} questions in {time.time() - t:.0f} s", flush=True)
    groups = []
    for at in range(0, len(questions), 2048):
        block = questions[at : at + 2048]
        sims = question_vectors[at : at + 2048].float() @ sent_vectors.float().T
        own = torch.tensor([p for p, _ in block], device=device)
        sims[paragraph_of[None, :] == own[:, None]] = -2.0  # the gold paragraph's own sentences come separately
        nearest = sims.topk(min(mined_pool, sims.shape[1]), dim=1).indices.cpu().tolist()
        for (p, q), near in zip(block, nearest, strict=True):
            record = paragraphs[p]
            answers = [normalize_answer(a) for a in q["answers"] if normalize_answer(a)]

            def holds_answer(n: int, answers: list[str] = answers) -> bool:
                return any(a in normalized[n] for a in answers)

            marked = (record["title"], record["sentences"][q["sentence"]])
            own_negatives = [
                (record["title"], s)
                for i, s in enumerate(record["sentences"])
                if i != q["sentence"] and not holds_answer(number_of[p, i])
            ]
            rng.shuffle(own_negatives)
            mined = []
            for j in near:
                pj, sj = sentences[j]
                if not holds_answer(j):
                    mined.append((paragraphs[pj]["title"], paragraphs[pj]["sentences"][sj]))
            # Half the negatives from the paragraph itself, the rest (and any shortfall) from the nearest elsewhere.
            own_negatives = own_negatives[: (GROUP - 1) // 2 + 1]
            candidates = [marked, *own_negatives, *mined][:GROUP]
            if len(candidates) < GROUP:
                continue
            span = (q["start"], q["end"]) if q["exact"] else None
            groups.append({"question": q["question"], "candidates": candidates, "span": span})
    return groups


def tokenize_groups(tokenizer: Any, groups: list[dict]) -> list[dict]:
    """Token ids per group, plus the start/end token of the answer in the marked sentence (or -1)."""
    out = []
    for at in range(0, len(groups), 4096):
        block = groups[at : at + 4096]
        enc = tokenizer(
            [g["question"] for g in block for _ in range(GROUP)],
            [second_segment(t, s)[0] for g in block for t, s in g["candidates"]],
            truncation="only_second",
            max_length=MAX_TOKENS,
            return_offsets_mapping=True,
        )
        for n, g in enumerate(block):
            row = n * GROUP
            start_token = end_token = -1
            if g["span"] is not None:
                shift = second_segment(*g["candidates"][0])[1]
                a, b = g["span"][0] + shift, g["span"][1] + shift
                for t, ((x, y), sid) in enumerate(zip(enc["offset_mapping"][row], enc.sequence_ids(row), strict=True)):
                    if sid != 1 or y <= x:
                        continue
                    if start_token < 0 and x <= a < y:
                        start_token = t
                    if x < b <= y:
                        end_token = t
                if start_token < 0 or end_token < start_token:
                    start_token = end_token = -1  # truncated away: this group teaches no span
            out.append(
                {
                    "ids": enc["input_ids"][row : row + GROUP],
                    "types": enc["token_type_ids"][row : row + GROUP],
                    "start": start_token,
                    "end": end_token,
                }
            )
    return out


def collate(batch: list[dict]) -> dict[str, torch.Tensor]:
    """Tokenized groups as one padded batch: ids, token types and mask per pair, the answer's start and end."""
    rows = [ids for g in batch for ids in g["ids"]]
    types = [t for g in batch for t in g["types"]]
    width = max(len(r) for r in rows)
    ids = torch.zeros(len(rows), width, dtype=torch.long)
    tt = torch.zeros(len(rows), width, dtype=torch.long)
    mask = torch.zeros(len(rows), width, dtype=torch.long)
    for i, (r, t) in enumerate(zip(rows, types, strict=True)):
        ids[i, : len(r)] = torch.tensor(r)
        tt[i, : len(t)] = torch.tensor(t)
        mask[i, : len(r)] = 1
    return {
        "ids": ids,
        "types": tt,
        "mask": mask,
        "start": torch.tensor([g["start"] for g in batch]),
        "end": torch.tensor([g["end"] for g in batch]),
    }
