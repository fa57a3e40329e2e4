"""Rows numbered across a loaded snapshot's segments, and the lookups every read of them shares: which segment
holds a row, which segment rows belong to given articles, and the SQL condition that leaves deleted articles out.

The store's reads (records.py, facts.py, filters.py, search.py) are mixins over `SegmentRows`; `IndexStore`
(store.py) loads the snapshot and combines them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator

import numpy as np

from index.storage.local.segments import Segment


class SegmentRows:
    """A snapshot's segments, with sentence and chunk rows numbered across them in manifest order
    (`sentence_offsets`, `chunk_offsets`: each segment's first row, then the total). Rows of deleted articles
    keep their numbers but are never returned."""

    manifest: dict
    segments: list[Segment]
    sentence_offsets: np.ndarray
    chunk_offsets: np.ndarray

    def _by_segment(self, rows: Iterable[int], offsets: np.ndarray) -> Iterator[tuple[Segment, list[int]]]:
        """The segments holding the global `rows` (numbered by `offsets`), each with its rows numbered locally,
        in the order given; rows past the end are left out."""
        found: dict[int, list[int]] = {}
        for row in rows:
            position = int(np.searchsorted(offsets, row, side="right")) - 1
            if 0 <= position < len(self.segments):
                found.setdefault(position, []).append(int(row) - int(offsets[position]))
        for position, local in found.items():
            yield self.segments[position], local

    def _alive(self, segment: Segment, column: str = "id") -> tuple[str, list[str]]:
        """An SQL condition leaving out the segment's deleted articles (by `column`), and its parameters."""
        if not segment.deleted:
            return "1", []
        ids = sorted(segment.deleted)
        return f"{column} NOT IN ({','.join('?' * len(ids))})", ids

    def _by_article(self, query: str, article_ids: Collection[str]) -> Iterator[tuple[Segment, tuple]]:
        ids = list(dict.fromkeys(article_ids))
        if not ids:
            return
        for start in range(0, len(ids), 900):
            part = ids[start : start + 900]
            marks = ",".join("?" * len(part))
            for s in self.segments:
                for row in s.db.execute(query.format(marks=marks), part):
                    if s.alive(row[0]):
                        yield s, tuple(row)
