"""Dense search over a loaded snapshot: each segment's FAISS index searched (or, under a filter, its allowed rows
scored exactly), the results merged best first; and the stored vectors read back by row."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from index.storage.local.rows import SegmentRows
from index.storage.local.segments import reading


class DenseSearch(SegmentRows):
    """Nearest sentences and chunks by cosine similarity, and their stored vectors (a mixin of `IndexStore`)."""

    def search_chunks(self, vector: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Nearest chunks by cosine similarity: (chunk row, similarity), best first."""
        return self._search(vector, k, allowed, "chunk")

    def search_sentences(
        self, vector: np.ndarray, k: int, allowed_sentences: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        return self._search(vector, k, allowed_sentences, "sentence")

    def _search(self, vector: np.ndarray, k: int, allowed: np.ndarray | None, kind: str) -> list[tuple[int, float]]:
        if k <= 0:
            return []
        query = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
        found: list[tuple[int, float]] = []
        for s in self.segments:
            index = getattr(s, f"{kind}_index")
            vectors = getattr(s, f"{kind}_vectors")
            dead = getattr(s, f"dead_{kind}s")
            offset = getattr(s, f"{kind}_offset")
            if index.ntotal == 0:
                continue
            if allowed is not None:
                # A filtered search scores only the allowed rows exactly; the filter is rarely wide and large.
                local = allowed[(allowed >= offset) & (allowed < offset + index.ntotal)] - offset
                local = np.setdiff1d(local, dead, assume_unique=False) if len(dead) else local
                if not len(local):
                    continue
                scores = np.asarray(vectors[local], dtype=np.float32) @ query[0]
                top = np.argsort(-scores)[:k]
                found += [(offset + int(local[i]), float(scores[i])) for i in top]
                continue
            scores, ids = index.search(query, min(k + len(dead), index.ntotal))
            hits = [(int(i), float(v)) for i, v in zip(ids[0], scores[0], strict=True) if i >= 0]
            if len(dead):
                gone = set(dead.tolist())
                hits = [(i, v) for i, v in hits if i not in gone]
            found += [(offset + i, v) for i, v in hits[:k]]
        found.sort(key=lambda pair: (-pair[1], pair[0]))
        return found[:k]

    def sentence_vectors_of(self, rows: Sequence[int]) -> np.ndarray:
        """The stored vectors of sentence rows, as float32, in the order given."""
        return self._vectors(rows, self.sentence_offsets, "sentence_vectors")

    def chunk_vectors_of(self, rows: Sequence[int]) -> np.ndarray:
        return self._vectors(rows, self.chunk_offsets, "chunk_vectors")

    def _vectors(self, rows: Sequence[int], offsets: np.ndarray, kind: str) -> np.ndarray:
        dimension = int(self.manifest["dimension"])
        out = np.zeros((len(rows), dimension), dtype=np.float32)
        positions = np.searchsorted(offsets, np.asarray(rows, dtype=np.int64), side="right") - 1
        for position in set(positions.tolist()):
            s = self.segments[position]
            at = np.flatnonzero(positions == position)
            local = np.asarray(rows, dtype=np.int64)[at] - offsets[position]
            with reading(f"{s.name}/{kind}.npy"):
                out[at] = np.asarray(getattr(s, kind)[local], dtype=np.float32)
        return out
