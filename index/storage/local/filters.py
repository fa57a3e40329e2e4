"""Filters as rows: the chunk rows whose article passes a filter (sources, dates, metadata fields) or is dated in
or tells of a time asked about, and the sentence rows of chunk rows, so that a search can be narrowed to them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from index.storage.local.rows import SegmentRows


class RowFilters(SegmentRows):
    """Filters and time preferences turned into sorted arrays of allowed rows (a mixin of `IndexStore`)."""

    def allowed_chunk_rows(
        self,
        sources: Sequence[str] | None,
        date_from: str | None,
        date_to: str | None,
        fields: Sequence[tuple[str, str]] = (),
    ) -> np.ndarray | None:
        """Chunk rows whose article passes the filter (each of `fields` a metadata name and the value it must
        have), or None when nothing is filtered."""
        if not sources and not date_from and not date_to and not fields:
            return None
        clauses: list[str] = []
        params: list[str] = []
        if sources:
            clauses.append(f"COALESCE(a.source, '') IN ({','.join('?' * len(sources))})")
            params.extend(sources)
        if date_from:
            clauses.append("a.date >= ?")
            params.append(date_from)
        if date_to:
            clauses.append("a.date <= ?")
            params.append(date_to)
        for name, value in fields:
            clauses.append("c.article_id IN (SELECT article_id FROM fields WHERE name = ? AND value = ?)")
            params += [name, value]
        query = f"SELECT c.row, c.article_id FROM chunks c JOIN articles a ON a.id = c.article_id WHERE {' AND '.join(clauses)}"  # noqa: E501
        rows = [
            s.chunk_offset + r
            for s in self.segments
            if s.has_fields or not fields  # a segment without metadata has no article with the fields asked
            for r, a in s.db.execute(query, params)
            if s.alive(a)
        ]
        return np.array(sorted(rows), dtype=np.int64)

    def chunk_rows_in_time(
        self, dated: tuple[str, str], told: tuple[str, str] | None, *, relative_only: bool = False
    ) -> np.ndarray:
        """Chunk rows of the articles dated within `dated` (inclusive ISO dates), and, with `told`, of the
        articles whose text or title names a time overlapping it (with `relative_only`, in words that do not
        say its year: "in January" in an article of March, not "in January 1987")."""
        query = "SELECT c.row, c.article_id FROM chunks c JOIN articles a ON a.id = c.article_id WHERE a.date BETWEEN ? AND ?"  # noqa: E501
        params: list[str | int] = list(dated)
        if told is not None:
            query += (
                " OR c.article_id IN (SELECT article_id FROM times WHERE first <= ? AND last >= ?"
                " AND (? = 0 OR instr(text, substr(first, 1, 4)) = 0))"
            )
            params += [told[1], told[0], int(relative_only)]
        rows = [s.chunk_offset + r for s in self.segments for r, a in s.db.execute(query, params) if s.alive(a)]
        return np.array(sorted(rows), dtype=np.int64)

    def sentence_rows_of_chunks(self, chunk_rows: np.ndarray) -> np.ndarray:
        rows = self.chunk_sentence_rows([int(r) for r in chunk_rows])
        return np.array(sorted({s for v in rows.values() for s in v}), dtype=np.int64)

    def chunk_sentence_rows(self, chunk_rows: Sequence[int]) -> dict[int, list[int]]:
        """Sentence rows of each chunk row."""
        result: dict[int, list[int]] = {int(r): [] for r in chunk_rows}
        for s, local in self._by_segment(chunk_rows, self.chunk_offsets):
            marks = ",".join("?" * len(local))
            query = (
                "SELECT c.row AS chunk, s.row AS sentence FROM chunks c JOIN sentences s "
                "ON s.article_id = c.article_id AND s.number BETWEEN c.first_sentence AND c.last_sentence "
                f"WHERE c.row IN ({marks}) ORDER BY c.row, s.number"
            )
            for chunk, sentence in s.db.execute(query, local):
                result[chunk + s.chunk_offset].append(sentence + s.sentence_offset)
        return result
