"""The reader: a question–sentence cross-encoder that finds the answer span (and can rescore candidates).

It reads "[CLS] question [SEP] sentence [SEP]" with the packaged all-MiniLM-L6-v2: the embeddings and bottom
layers are the encoder's own (shared in memory, frozen), the top layers and a three-way head (answerability,
read from the mean of the pair's token states; start and end of the answer span at each sentence token) are
ours, trained by `qa train-reader` on SQuAD dev tune titles only (docs/answering.md) and shipped in qa/reader/
with their sha256, which is checked before use. reader.json says what the assistant uses it for: spans of some
answer types, and rescoring only when that was measured to help (it is off for the shipped weights). Nothing is
generated: a span is a slice of the sentence.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.encoder import ModelError, sha256_of
from qa.models import AnswerType, Span
from qa.score import ScoredSentence
from qa.spans import SPAN_EDGE, trim_end

if TYPE_CHECKING:
    import torch

READER_DIR = Path(__file__).resolve().parent / "reader"
MAX_TOKENS = 160
MAX_SPAN_TOKENS = 30


@dataclass(frozen=True)
class ReaderConfig:
    """qa/reader/reader.json: how the shipped weights fit the base model, and where they came from."""

    bottom_layers: int
    top_layers: int
    weights_file: str
    weights_sha256: str
    base_model_sha256: str
    provenance: str = ""
    # Whether the reader rescores candidates. When it does, P(answers) = sigmoid(linear * logit(p_linear) +
    # reader * r + bias) over the `candidates` best sentences of the linear scorer, and below `threshold` the
    # assistant abstains; when it does not, the linear scorer's probability and threshold stand.
    rescore: bool = False
    blend_linear: float = 1.0
    blend_reader: float = 0.0
    blend_bias: float = 0.0
    threshold: float = 0.5
    candidates: int = 8
    # Answer types whose span comes from the reader; the others keep the rule-based extractor (qa/spans.py).
    reader_span_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reading:
    """What the reader makes of one sentence: an answerability logit and its best span (character offsets)."""

    logit: float
    start: int
    end: int
    span_score: float


def _read_config(folder: Path) -> ReaderConfig:
    data = json.loads((folder / "reader.json").read_text(encoding="utf-8"))
    if "reader_span_types" in data:
        data["reader_span_types"] = tuple(data["reader_span_types"])
    return ReaderConfig(**{k: data[k] for k in ReaderConfig.__dataclass_fields__ if k in data})


def logit(p: float) -> float:
    """log(p / (1 - p)), with p kept off 0 and 1."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def extended_mask(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """A (batch, 1, 1, tokens) additive attention mask from a 0/1 padding mask."""
    import torch

    return (1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


def run_layers(layers: Sequence[Any], hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    additive = extended_mask(mask, hidden.dtype)
    for layer in layers:
        out = layer(hidden, attention_mask=additive)
        hidden = out[0] if isinstance(out, tuple) else out  # transformers 4 returns a tuple, 5 a tensor
    return hidden


def widen_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Grow a span cut inside a word (a word-piece boundary) to whole words."""
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
        end += 1
    return start, end


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


class Reader:
    """Scores (question, sentence) pairs; shares the encoder's bottom layers, adds its own top layers and head."""

    def __init__(self, bert: Any, tokenizer: Any, top: Any, head: Any, config: ReaderConfig) -> None:
        self.bert = bert
        self.tokenizer = tokenizer
        self.top = top
        self.head = head
        self.config = config

    @classmethod
    def build(cls, bert: Any, tokenizer: Any, bottom_layers: int, config: ReaderConfig | None = None) -> Reader:
        """A reader whose top layers start as copies of the base model's (for training)."""
        import torch

        layers = bert.encoder.layer
        top = torch.nn.ModuleList([copy.deepcopy(layer) for layer in layers[bottom_layers:]])
        head = torch.nn.Linear(bert.config.hidden_size, 3)
        config = config or ReaderConfig(bottom_layers, len(top), "", "", "")
        return cls(bert, tokenizer, top, head, config)

    def encode_pairs(self, question: str, sentences: Sequence[str]) -> Any:
        return self.tokenizer(
            [question] * len(sentences),
            list(sentences),
            truncation="only_second",
            max_length=MAX_TOKENS,
            padding=True,
            return_offsets_mapping=True,
            return_tensors="pt",
        )

    def bottom(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Hidden states after the shared, frozen bottom layers."""
        hidden = self.bert.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
        return run_layers(self.bert.encoder.layer[: self.config.bottom_layers], hidden, mask)

    def logits(self, hidden: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Answerability (batch,) and start, end (batch, tokens) logits from the bottom layers' output.

        Answerability is read from the mean of the pair's token states (the pooling the base model was trained
        with; its [CLS] state carries little), start and end from each token's state.
        """
        top = run_layers(self.top, hidden, mask)
        weights = mask.to(top.dtype)[..., None]
        pooled = (top * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
        per_token = self.head(top)
        return self.head(pooled)[:, 0], per_token[..., 1], per_token[..., 2]

    def read(self, question: str, sentences: Sequence[str]) -> list[Reading]:
        """Answerability logit and best span for each sentence, in the order given."""
        import torch

        if not sentences:
            return []
        enc = self.encode_pairs(question, sentences)
        with torch.inference_mode():
            mask = enc["attention_mask"]
            answerable, start, end = self.logits(self.bottom(enc["input_ids"], enc["token_type_ids"], mask), mask)
        allowed = torch.tensor(
            [[sid == 1 for sid in enc.sequence_ids(i)] for i in range(len(sentences))], dtype=torch.bool
        )
        readings = []
        spans = best_spans(start, end, allowed)
        offsets = enc["offset_mapping"].tolist()
        for i, (text, (a, b, score)) in enumerate(zip(sentences, spans, strict=True)):
            readings.append(
                Reading(float(answerable[i]), *widen_to_words(text, offsets[i][a][0], offsets[i][b][1]), score)
            )
        return readings

    def state(self) -> dict[str, torch.Tensor]:
        """The trained part's tensors (top layers and head), as saved in qa/reader/."""
        tensors = {f"top.{k}": v for k, v in self.top.state_dict().items()}
        tensors |= {f"head.{k}": v for k, v in self.head.state_dict().items()}
        return tensors

    def probability(self, linear: float, reading: Reading) -> float:
        """The blended probability that a sentence answers, from its linear-scorer probability and reading."""
        c = self.config
        z = c.blend_linear * logit(linear) + c.blend_reader * reading.logit + c.blend_bias
        return 1.0 / (1.0 + math.exp(-z))

    def save(self, folder: Path, provenance: str, base_model_sha256: str, **settings: Any) -> ReaderConfig:
        """Write the weights (float16 safetensors) and reader.json with their sha256 and blend settings."""
        import torch
        from safetensors.torch import save_file

        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "reader.safetensors"
        save_file({k: v.detach().to(torch.float16).contiguous() for k, v in self.state().items()}, str(path))
        config = ReaderConfig(
            bottom_layers=self.config.bottom_layers,
            top_layers=len(self.top),
            weights_file=path.name,
            weights_sha256=sha256_of(path),
            base_model_sha256=base_model_sha256,
            provenance=provenance,
            **settings,
        )
        data = dict(config.__dict__, reader_span_types=list(config.reader_span_types))
        (folder / "reader.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        return config


def load_reader(encoder: Any, folder: Path | None = None) -> Reader:
    """The shipped reader over a loaded `index.encoder.Encoder`, after checking both weights' hashes."""
    import torch
    from safetensors.torch import load_file

    folder = folder or READER_DIR
    if not (folder / "reader.json").is_file():
        raise ModelError(f"{folder / 'reader.json'} is missing; reinstall the project")
    config = _read_config(folder)
    if encoder.weights_sha256 != config.base_model_sha256:
        raise ModelError("the reader was trained over another base model than the loaded encoder")
    path = folder / config.weights_file
    if not path.is_file():
        raise ModelError(f"{path} is missing; reinstall the project")
    actual = sha256_of(path)
    if actual != config.weights_sha256:
        raise ModelError(f"{path} has sha256 {actual}, expected {config.weights_sha256}; reinstall the project")
    transformer = encoder.model[0].auto_model
    reader = Reader.build(transformer, encoder.model.tokenizer, config.bottom_layers, config)
    tensors = {k: v.to(torch.float32) for k, v in load_file(str(path)).items()}
    reader.top.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("top.")})
    reader.head.load_state_dict({k[5:]: v for k, v in tensors.items() if k.startswith("head.")})
    reader.top.eval()
    return reader


def rerank(reader: Reader, question: str, ranked: list[ScoredSentence]) -> list[ScoredSentence]:
    """Read the linear scorer's best candidates and re-order them by the blended probability.

    Only the `candidates` best sentences are read (the answer is among the best 8 for 94% of SQuAD questions);
    the rest are dropped, so every sentence that can be shown has been read.
    """
    top = ranked[: reader.config.candidates]
    for s, reading in zip(top, reader.read(question, [s.text for s in top]), strict=True):
        s.reading = reading
        s.score = reader.probability(s.score, reading)
    return sorted(top, key=lambda s: -s.score)


def read_missing(reader: Reader, question: str, sentences: Sequence[ScoredSentence]) -> None:
    """Read the sentences not read yet (when the reader does not rescore, only the chosen ones are read)."""
    unread = [s for s in sentences if s.reading is None]
    for s, reading in zip(unread, reader.read(question, [s.text for s in unread]), strict=True):
        s.reading = reading


def reader_span(text: str, reading: Reading, answer_type: AnswerType) -> Span | None:
    """The reader's span of `text`, trimmed of edge punctuation (None when nothing is left)."""
    start, end = reading.start, reading.end
    while start < end and text[start] in SPAN_EDGE:
        start += 1
    end = trim_end(text, start, end)
    if end <= start:
        return None
    return Span(text=text[start:end], start=start, end=end, answer_type=answer_type)
