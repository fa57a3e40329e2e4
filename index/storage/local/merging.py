"""Merge policy: when an ingest leaves too many segments (or mostly deleted ones), which neighbours to rewrite as
one, and the rewriting itself (live articles only, in order, vectors copied rather than re-embedded).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from index.storage.local.segments import Segment, write_segment


def plan_merges(entries: Sequence[dict], max_segments: int) -> list[list[int]]:
    """Which segments to merge (runs of neighbours, by position): each mostly-deleted segment on its own, then
    the neighbouring pair with the fewest live sentences, again and again, until at most `max_segments` are
    left. Small segments merge with each other long before a large one is rewritten."""
    sizes = [max(e["sentences"] - e.get("deleted_sentences", 0), 0) for e in entries]
    groups = [[i] for i in range(len(entries))]
    rewrite = {i for i, e in enumerate(entries) if e["articles"] and len(e.get("deleted") or ()) * 2 > e["articles"]}
    while len(groups) > max(max_segments, 1):
        pair = min(range(len(groups) - 1), key=lambda g: sum(sizes[i] for i in groups[g] + groups[g + 1]))
        groups[pair : pair + 2] = [groups[pair] + groups[pair + 1]]
    return [g for g in groups if len(g) > 1 or g[0] in rewrite]


def merge_segments(index_dir: Path, entries: Sequence[dict], *, dimension: int, approximate_above: int) -> dict | None:
    """Write the live articles of `entries` (in order) as one new segment; None when none is left."""
    segments = []
    try:
        sentence_offset = chunk_offset = 0
        for entry in entries:
            segments.append(Segment(index_dir, entry, sentence_offset, chunk_offset))
        articles = [a for s in segments for a in s.indexed_articles()]
    finally:
        for s in segments:
            s.close()
    if not articles:
        return None
    return write_segment(index_dir, articles, dimension=dimension, approximate_above=approximate_above)
