"""Records read back from a loaded snapshot's SQLite tables: articles, the rows of sentences and chunks, where an
article's rows start, and its time expressions."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date

from index.models import Article
from index.storage.local.rows import SegmentRows
from index.storage.local.segments import Segment
from index.text.dates import TimeMention


class RecordReads(SegmentRows):
    """Articles and rows by id or row number, live ones only (a mixin of `IndexStore`)."""

    def articles(self) -> list[Article]:
        """Every article, in ingest order."""
        found = []
        for s in self.segments:
            where, params = self._alive(s)
            found += s.to_articles(
                s.db.execute(f"SELECT * FROM articles WHERE {where} ORDER BY position", params).fetchall()
            )
        return found

    def articles_by_id(self, article_ids: Collection[str]) -> list[Article]:
        """The live articles with these ids (unknown ids left out), in snapshot order."""
        ids = list(dict.fromkeys(article_ids))
        found = []
        for s in self.segments:
            for start in range(0, len(ids), 900):
                part = ids[start : start + 900]
                query = f"SELECT * FROM articles WHERE id IN ({','.join('?' * len(part))}) ORDER BY position"
                found += s.to_articles([r for r in s.db.execute(query, part) if s.alive(r["id"])])
        return found

    def article(self, article_id: str) -> Article | None:
        located = self.locate(article_id)
        return located[1] if located is not None else None

    def locate(self, article_id: str) -> tuple[str, Article] | None:
        """The name of the segment holding the live article `article_id`, and the article (None: no such)."""
        for s in reversed(self.segments):
            if s.alive(article_id):
                row = s.db.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
                if row is not None:
                    return s.name, s.to_articles([row])[0]
        return None

    def find_articles(self, column: str, value: str) -> list[tuple[str, Article]]:
        """(segment name, article) of the live articles whose `column` ("url" or "origin") is `value`."""
        if column not in ("url", "origin"):
            raise ValueError(f"cannot look articles up by {column!r}")
        found = []
        for s in self.segments:
            for row in s.db.execute(f"SELECT * FROM articles WHERE {column} = ?", (value,)):
                if s.alive(row["id"]):
                    found.append((s.name, s.to_articles([row])[0]))
        return found

    def article_spans(self, article_ids: Collection[str]) -> dict[str, tuple[int, int, int, int]]:
        """Live article id → (its first sentence row, its sentence count, its first chunk row, its chunk count),
        rows numbered across the snapshot: how a (article, number) reference finds its row."""
        columns = "id, first_sentence_row, n_sentences, first_chunk_row, n_chunks"
        query = f"SELECT {columns} FROM articles WHERE id IN ({{marks}})"
        return {
            row[0]: (s.sentence_offset + row[1], row[2], s.chunk_offset + row[3], row[4])
            for s, row in self._by_article(query, article_ids)
        }

    def row_refs(self, rows: Sequence[int], kind: str) -> dict[int, tuple[str, int]]:
        """Sentence or chunk row (`kind` "sentences" or "chunks") → (article id, number) for the live rows given."""
        offsets = self.sentence_offsets if kind == "sentences" else self.chunk_offsets
        found: dict[int, tuple[str, int]] = {}
        for s, local in self._by_segment(rows, offsets):
            offset = s.sentence_offset if kind == "sentences" else s.chunk_offset
            marks = ",".join("?" * len(local))
            for row, article_id, number in s.db.execute(
                f"SELECT row, article_id, number FROM {kind} WHERE row IN ({marks})", local
            ):
                if s.alive(article_id):
                    found[row + offset] = (article_id, number)
        return found

    def chunk_rows(self, rows: Sequence[int]) -> dict[int, tuple[str, int, int, int, int, int]]:
        """Chunk row → (article id, number, first sentence, last sentence, start, end) for the live rows given."""
        found: dict[int, tuple[str, int, int, int, int, int]] = {}
        for s, local in self._by_segment(rows, self.chunk_offsets):
            marks = ",".join("?" * len(local))
            query = f'SELECT row, article_id, number, first_sentence, last_sentence, start, "end" FROM chunks WHERE row IN ({marks})'  # noqa: E501
            for row, *rest in s.db.execute(query, local):
                if s.alive(rest[0]):
                    found[row + s.chunk_offset] = tuple(rest)  # type: ignore[assignment]
        return found

    def sentences(self, rows: Sequence[int]) -> list[dict]:
        """Sentence rows (row, article_id, number, start, end, text, chunk_row), in the order asked."""
        found: dict[int, dict] = {}
        for s, local in self._by_segment(rows, self.sentence_offsets):
            marks = ",".join("?" * len(local))
            for r in s.db.execute(f"SELECT * FROM sentences WHERE row IN ({marks})", local):
                if s.alive(r["article_id"]):
                    found[r["row"] + s.sentence_offset] = self._sentence(s, r)
        return [found[r] for r in rows if r in found]

    @staticmethod
    def _sentence(s: Segment, r: object) -> dict:
        row = dict(r)  # type: ignore[call-overload]
        row["row"] += s.sentence_offset
        row["chunk_row"] += s.chunk_offset
        return row

    def article_times(self, article_ids: Collection[str]) -> dict[str, dict[int, list[TimeMention]]]:
        """Each article's resolved time expressions by sentence number (`TITLE` for the title; offsets into that
        sentence or the title). Articles without any are left out."""
        found: dict[str, dict[int, list[TimeMention]]] = {}
        query = 'SELECT article_id, sentence, start, "end", text, first, last, period FROM times WHERE article_id IN ({marks})'  # noqa: E501
        for _, (article_id, number, start, end, text, first, last, period) in self._by_article(query, article_ids):
            mention = TimeMention(start, end, text, date.fromisoformat(first), date.fromisoformat(last), period)
            found.setdefault(article_id, {}).setdefault(number, []).append(mention)
        return found

    def article_sentences(self, article_id: str) -> list[dict]:
        for s in reversed(self.segments):
            if s.alive(article_id):
                query = "SELECT * FROM sentences WHERE article_id = ? ORDER BY number"
                rows = [self._sentence(s, r) for r in s.db.execute(query, (article_id,))]
                if rows:
                    return rows
        return []
