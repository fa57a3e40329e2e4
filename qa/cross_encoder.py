"""The cross-encoder's contract: how a (question, candidate sentence) pair becomes word pieces, how the network
reads it, and how its start/end logits become a character span of the sentence.

A pair is "[CLS] question [SEP] title | sentence [SEP]" (the article's title gives the sentence its topic, which
pronoun-led sentences lack). The network is all-MiniLM-L6-v2's BERT with one linear head of three outputs: an
answerability logit read from the mean of the pair's token states, and start and end logits per word piece.
Shared by the answering path (qa/reader.py) and the trainer (training/reader.py); it needs only torch and a
tokenizer, so the trainer also runs on a machine where the rest of the product is not installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

MAX_TOKENS = 192
# The question's share of a pair: longer questions are cut (on a word boundary) for the network only, so that
# the candidate sentence always keeps most of the window and the tokenizer never has too little to truncate.
MAX_QUESTION_TOKENS = 64
MAX_SPAN_TOKENS = 30
TITLE_SEPARATOR = " | "
# The word-piece table stays the base model's: the reader shares it with the encoder and does not ship it.
FROZEN = "embeddings.word_embeddings.weight"


@dataclass(frozen=True)
class Reading:
    """What the cross-encoder makes of one sentence: an answerability logit and its best span (character
    offsets into the sentence, end exclusive)."""

    logit: float
    start: int
    end: int


def second_segment(title: str, sentence: str) -> tuple[str, int]:
    """The pair's second text and where the sentence starts inside it."""
    if not title:
        return sentence, 0
    prefix = f"{title}{TITLE_SEPARATOR}"
    return prefix + sentence, len(prefix)


def fit_question(tokenizer: Any, question: str, max_tokens: int = MAX_QUESTION_TOKENS) -> str:
    """`question` cut to at most `max_tokens` word pieces, at the last white space before the cut (inside a
    single over-long word, at a word-piece boundary); unchanged when it fits."""
    offsets = tokenizer(
        question, add_special_tokens=False, return_offsets_mapping=True, truncation=True, max_length=max_tokens + 1
    )["offset_mapping"]
    if len(offsets) <= max_tokens:
        return question
    head = question[: offsets[max_tokens][0]]
    words = head.rstrip()
    space = max(words.rfind(" "), words.rfind("\n"), words.rfind("\t"))
    return (words[:space] if space > 0 else words).rstrip()


def encode_pairs(tokenizer: Any, question: str, candidates: Sequence[tuple[str, str]]) -> Any:
    """Word pieces of (question, (title, sentence)) pairs, padded into tensors, with character offsets (the
    question cut by `fit_question` when it is longer than its share of the window)."""
    question = fit_question(tokenizer, question)
    return tokenizer(
        [question] * len(candidates),
        [second_segment(title, text)[0] for title, text in candidates],
        truncation="only_second",
        max_length=MAX_TOKENS,
        padding=True,
        return_offsets_mapping=True,
        return_tensors="pt",
    )


def reader_tensors(weights: Path, base_model_dir: Path) -> dict[str, torch.Tensor]:
    """The reader's full state ("bert.*" and "head.*" tensors) in float32: the shipped weights, which lack the
    frozen word-piece table, with that table taken from the base model's own weights."""
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file

    tensors = {k: v.to(torch.float32) for k, v in load_file(str(weights)).items()}
    with safe_open(str(base_model_dir / "model.safetensors"), "pt") as base:
        tensors[f"bert.{FROZEN}"] = base.get_tensor(FROZEN).to(torch.float32)
    return tensors


def forward(
    bert: Any, head: Any, input_ids: torch.Tensor, token_type_ids: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Answerability (batch,) and start, end (batch, tokens) logits."""
    hidden = bert(input_ids=input_ids, token_type_ids=token_type_ids, attention_mask=mask).last_hidden_state
    weights = mask.to(hidden.dtype)[..., None]
    pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
    per_token = head(hidden)
    return head(pooled)[:, 0], per_token[..., 1], per_token[..., 2]


def sentence_tokens(encoding: Any, row: int, shift: int) -> list[bool]:
    """Which word pieces of pair `row` belong to the sentence (not the question, the title or padding)."""
    offsets = encoding["offset_mapping"][row].tolist()
    return [sid == 1 and x >= shift and y > x for sid, (x, y) in zip(encoding.sequence_ids(row), offsets, strict=True)]


def best_spans(
    start_logits: torch.Tensor, end_logits: torch.Tensor, allowed: torch.Tensor
) -> list[tuple[int, int, float]]:
    """For each row, the (start token, end token, score) maximising start + end with start <= end < start + 30."""
    import torch

    n = start_logits.shape[1]
    scores = start_logits[:, :, None] + end_logits[:, None, :]
    i = torch.arange(n)
    valid = (i[None, :] >= i[:, None]) & (i[None, :] < i[:, None] + MAX_SPAN_TOKENS)
    valid = valid[None] & allowed[:, :, None] & allowed[:, None, :]
    scores = scores.masked_fill(~valid, float("-inf")).reshape(len(scores), -1)
    best = scores.argmax(dim=1)
    return [(int(b) // n, int(b) % n, float(scores[r, b])) for r, b in enumerate(best)]


def widen_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Grow a span cut inside a word (a word-piece boundary) to whole words."""
    while 0 < start < len(text) and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while 0 < end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
        end += 1
    return start, end


def decode(
    encoding: Any,
    candidates: Sequence[tuple[str, str]],
    answerable: torch.Tensor,
    start_logits: torch.Tensor,
    end_logits: torch.Tensor,
) -> list[Reading]:
    """One Reading per candidate: its answerability logit and best span as sentence character offsets."""
    import torch

    shifts = [second_segment(title, text)[1] for title, text in candidates]
    allowed = torch.tensor([sentence_tokens(encoding, i, shifts[i]) for i in range(len(candidates))], dtype=torch.bool)
    spans = best_spans(start_logits.float().cpu(), end_logits.float().cpu(), allowed)
    readings = []
    for i, ((_, text), (a, b, _score)) in enumerate(zip(candidates, spans, strict=True)):
        if not allowed[i].any():  # the sentence was truncated away entirely: no span, the logit still counts
            readings.append(Reading(float(answerable[i]), 0, 0))
            continue
        offsets = encoding["offset_mapping"][i]
        start, end = int(offsets[a][0]) - shifts[i], int(offsets[b][1]) - shifts[i]
        readings.append(Reading(float(answerable[i]), *widen_to_words(text, start, end)))
    return readings
