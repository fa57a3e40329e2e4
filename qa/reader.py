"""The reader: the trained cross-encoder that reranks the scorer's best candidates, marks the answer span and
decides when nothing answers.

Its network (qa/cross_encoder.py) is all-MiniLM-L6-v2 with every layer fine-tuned on SQuAD v1.1 train by
`qa train-reader` (docs/training.md). The word-piece table stays the base model's, read (with the tokenizer) from
the encoder's verified model folder, so answering never loads the encoder's model in torch and qa/reader/ ships
only the rest (float16 safetensors, ~21 MB) with its sha256, checked before use together with the base model's.
reader.json also holds what was fitted on SQuAD dev's tune half: how the reader's logit blends with the linear
scorer's probability, the abstention threshold on that blend, how many candidates are read, and which answer
types take the reader's span rather than a typed extractor's. Nothing is generated: a span is a slice of the
sentence.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from index.encoder import ModelError, TextEncoder, sha256_of
from qa.cross_encoder import Reading, decode, encode_pairs, forward, reader_tensors
from qa.models import AnswerType, Span
from qa.score import ScoredSentence
from qa.spans import SPAN_EDGE, trim_end

READER_DIR = Path(__file__).resolve().parent / "reader"


@dataclass(frozen=True)
class ReaderConfig:
    """qa/reader/reader.json: the weights, where they came from, and what was fitted on tune data.

    P(sentence answers) = sigmoid(blend_linear * logit(p_linear) + blend_reader * reader_logit + blend_bias) over
    the `candidates` best sentences of the linear scorer; below `threshold` the assistant abstains.
    """

    weights_file: str
    weights_sha256: str
    base_model_sha256: str
    provenance: str = ""
    blend_linear: float = 0.0
    blend_reader: float = 1.0
    blend_bias: float = 0.0
    threshold: float = 0.5
    candidates: int = 8
    # Answer types whose span comes from the reader; the others keep the typed extractor (qa/spans.py).
    span_types: tuple[str, ...] = ()

    @classmethod
    def read(cls, folder: Path) -> ReaderConfig:
        data = json.loads((folder / "reader.json").read_text(encoding="utf-8"))
        known = {f.name for f in fields(cls)}
        if "span_types" in data:
            data["span_types"] = tuple(data["span_types"])
        return cls(**{k: v for k, v in data.items() if k in known})

    def write(self, folder: Path) -> None:
        data = dict(self.__dict__, span_types=list(self.span_types))
        (folder / "reader.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def logit(p: float) -> float:
    """log(p / (1 - p)), with p kept off 0 and 1."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


class Reader:
    """Reads (question, candidate sentence) pairs with the trained cross-encoder."""

    def __init__(self, bert: Any, head: Any, tokenizer: Any, config: ReaderConfig) -> None:
        self.bert = bert
        self.head = head
        self.tokenizer = tokenizer
        self.config = config

    def read(self, question: str, candidates: Sequence[tuple[str, str]]) -> list[Reading]:
        """Answerability logit and best span for each (title, sentence), in the order given."""
        import torch

        if not candidates:
            return []
        enc = encode_pairs(self.tokenizer, question, candidates)
        with torch.inference_mode():
            answerable, start, end = forward(
                self.bert, self.head, enc["input_ids"], enc["token_type_ids"], enc["attention_mask"]
            )
        return decode(enc, candidates, answerable, start, end)

    def probability(self, linear: float, reading: Reading) -> float:
        """The blended probability that a sentence answers, from its linear-scorer probability and reading."""
        c = self.config
        z = c.blend_linear * logit(linear) + c.blend_reader * reading.logit + c.blend_bias
        return 1.0 / (1.0 + math.exp(-z))


def load_reader(encoder: TextEncoder, folder: Path | None = None) -> Reader:
    """The shipped reader over a loaded encoder (its base model), after checking both weights' hashes."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    folder = folder or READER_DIR
    if not (folder / "reader.json").is_file():
        raise ModelError(f"{folder / 'reader.json'} is missing; reinstall the project")
    config = ReaderConfig.read(folder)
    if encoder.weights_sha256 != config.base_model_sha256:
        raise ModelError("the reader was trained over another base model than the loaded encoder")
    path = folder / config.weights_file
    if not path.is_file():
        raise ModelError(f"{path} is missing; reinstall the project")
    actual = sha256_of(path)
    if actual != config.weights_sha256:
        raise ModelError(f"{path} has sha256 {actual}, expected {config.weights_sha256}; reinstall the project")
    # The base model's folder and weights, as load_encoder verified them (its sha256 is the one checked above).
    base_dir = encoder.model_dir
    bert = BertModel(BertConfig.from_pretrained(str(base_dir)), add_pooling_layer=False)
    head = torch.nn.Linear(bert.config.hidden_size, 3)
    tensors = reader_tensors(path, base_dir)
    weights = {k.removeprefix("bert."): v for k, v in tensors.items() if k.startswith("bert.")}
    missing, unexpected = bert.load_state_dict(weights, strict=False)
    if unexpected or missing:
        raise ModelError(f"{path} does not fit the reader's network (missing {missing}, unexpected {unexpected})")
    head.load_state_dict({k.removeprefix("head."): v for k, v in tensors.items() if k.startswith("head.")})
    bert.eval()
    head.eval()
    return Reader(bert, head, AutoTokenizer.from_pretrained(str(base_dir)), config)


def rerank(reader: Reader, question: str, ranked: list[ScoredSentence], titles: dict[str, str]) -> list[ScoredSentence]:
    """Read the linear scorer's best candidates and order them by the blended probability.

    Only the `candidates` best are read (more cost latency; see docs/answering.md for the recall at that depth);
    the rest are dropped, so every sentence that can be shown has been read.
    """
    top = ranked[: reader.config.candidates]
    readings = reader.read(question, [(titles.get(s.article_id, ""), s.text) for s in top])
    for s, reading in zip(top, readings, strict=True):
        s.reading = reading
        s.score = reader.probability(s.score, reading)
    return sorted(top, key=lambda s: -s.score)


def reader_span(text: str, reading: Reading, answer_type: AnswerType) -> Span | None:
    """The reader's span of `text`, trimmed of edge punctuation (None when nothing is left)."""
    start, end = reading.start, reading.end
    while start < end and text[start] in SPAN_EDGE:
        start += 1
    end = trim_end(text, start, end)
    if end <= start:
        return None
    return Span(text=text[start:end], start=start, end=end, answer_type=answer_type)
