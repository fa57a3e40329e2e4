"""Vectors of an ingest that has not finished yet, kept on disk so that a re-run after a crash resumes.

An ingest embeds in batches and saves each batch here before going on: for each chunk (keyed by the sha256 of its
text and sentence spans) a block of vectors, the chunk's first and then its sentences'; the
folder is emptied once the new snapshot is live. A run killed half-way leaves the batches it finished, and the
next run embeds only what they lack. Each batch is one file written under a temporary name and renamed into
place, so a crash leaves whole batches only; an unreadable one is ignored (its texts are embedded again).

    INDEX_DIR/pending/<model sha256, 16 hex digits>-<encoder>/part-<n>.npz   (keys, sizes, vectors)
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

PENDING = "pending"


def text_key(text: str, spans: Sequence[tuple[int, int]] = ()) -> bytes:
    """The cache key of a text (and the spans of its sentences): their sha256 digest."""
    digest = hashlib.sha256(text.encode("utf-8"))
    for start, end in spans:
        digest.update(f"\0{start}:{end}".encode())
    return digest.digest()


class PendingVectors:
    """The finished batches of an unfinished ingest into `index_dir` with the model `model_sha256`."""

    def __init__(self, index_dir: Path, model_sha256: str, dimension: int, encoder: str = "") -> None:
        self.root = index_dir / PENDING
        self.folder = self.root / f"{model_sha256[:16]}-{encoder}"
        self.dimension = dimension

    def load(self) -> dict[bytes, np.ndarray]:
        """Every block of vectors saved so far, by key."""
        found: dict[bytes, np.ndarray] = {}
        for part in sorted(self.folder.glob("part-*.npz")):
            try:
                with np.load(part, allow_pickle=False) as data:
                    keys, sizes, vectors = data["keys"], data["sizes"], data["vectors"]
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
                continue  # a damaged batch is embedded again
            if vectors.ndim != 2 or vectors.shape[1] != self.dimension or len(keys) != len(sizes):
                continue
            if int(sizes.sum()) != len(vectors):
                continue
            ends = np.cumsum(sizes)
            found.update((bytes(k), vectors[e - n : e]) for k, n, e in zip(keys, sizes, ends, strict=True))
        return found

    def save(self, keys: Sequence[bytes], blocks: Sequence[np.ndarray]) -> None:
        """Add one finished batch of blocks (atomically: a crash leaves it whole or absent)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"part-{uuid.uuid4().hex}.npz"
        tmp = self.folder / f".{name}.tmp"
        with tmp.open("wb") as handle:
            np.savez(
                handle,
                keys=np.array(list(keys), dtype="S32"),
                sizes=np.array([len(b) for b in blocks], dtype=np.int64),
                vectors=np.concatenate([np.asarray(b, dtype=np.float32) for b in blocks]),
            )
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.folder / name)

    def clear(self) -> None:
        """Forget everything (the ingest finished and its vectors are in the live snapshot)."""
        shutil.rmtree(self.root, ignore_errors=True)
