"""The read side's engine: one loaded snapshot, its segments' rows numbered across the whole snapshot.

`IndexStore` searches the segments (FAISS per segment, BM25 with collection-wide statistics), reads rows of
sentences, chunks, articles and time expressions back, and turns filters into arrays of allowed rows. A live
snapshot found damaged is reported with the file that is wrong, and the newest intact snapshot that was live
before it is served instead (`IndexStore.warning` says so) until `repair` makes that one live again or a rebuild
replaces both. Outside the local store, `LocalReader` (reader.py) is its face: (article, number) references,
never rows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path

import numpy as np

from index.models import Article, IndexNotFoundError, IndexStoreError
from index.storage.local.postings import Lexical
from index.storage.local.segments import IndexCorruptError, Segment, reading
from index.storage.local.snapshots import (
    REBUILD_HINT,
    REPAIR_HINT,
    check_manifest,
    damage,
    fallback_snapshots,
    is_snapshot_name,
    live_name,
    pointer_problem,
    read_manifest,
)
from index.text.dates import TimeMention


class IndexStore:
    """A loaded, read-only snapshot of the index: search it, and read articles and sentences back.

    Rows (sentences, chunks) are numbered across the snapshot's segments in manifest order; rows of deleted
    articles keep their numbers but are never returned.
    """

    def __init__(self, index_dir: Path, folder: Path, manifest: dict, warning: str | None = None) -> None:
        self.index_dir = index_dir
        self.folder = folder
        self.manifest = manifest
        self.warning = warning  # set when this is a fallback for a damaged live snapshot
        self.segments: list[Segment] = []
        sentence_offset = chunk_offset = 0
        try:
            for entry in manifest.get("segments") or []:
                segment = Segment(index_dir, entry, sentence_offset, chunk_offset)
                self.segments.append(segment)
                sentence_offset += int(entry["sentences"])
                chunk_offset += int(entry["chunks"])
            self._check_consistent()
        except BaseException:
            self.close()
            raise
        self.sentence_offsets = np.array([s.sentence_offset for s in self.segments] + [sentence_offset], np.int64)
        self.chunk_offsets = np.array([s.chunk_offset for s in self.segments] + [chunk_offset], np.int64)
        self.lexical = Lexical([s.postings for s in self.segments], [s.dead_chunks for s in self.segments])

    @classmethod
    def open(
        cls,
        index_dir: Path,
        *,
        model_sha256: str | None = None,
        dimension: int | None = None,
        encoder: str | None = None,
        fallback: bool = True,
    ) -> IndexStore:
        """Load the live snapshot, checking it was built by this code with the same model (and encoder) and
        that its files are the size its manifest recorded.

        A damaged live snapshot raises IndexCorruptError naming the file; with `fallback` the newest intact
        snapshot that was live before it is loaded instead, with `warning` saying so.
        """
        name = live_name(index_dir)
        if name is None:
            raise IndexNotFoundError(f"no index at {index_dir}; create one with: qa ingest PATH")
        damaged = name if is_snapshot_name(name) else None
        try:
            problem = pointer_problem(index_dir, name)
            if problem:
                raise IndexCorruptError(problem)
            return cls._open_folder(index_dir, index_dir / name, model_sha256, dimension, encoder)
        except IndexCorruptError as exc:
            if not fallback:
                raise IndexCorruptError(f"{index_dir}: {exc}; {REPAIR_HINT}") from exc
            for other in fallback_snapshots(index_dir, damaged):
                try:
                    store = cls._open_folder(index_dir, other, model_sha256, dimension, encoder)
                except IndexStoreError:
                    continue
                store.warning = (
                    f"{exc}; answering from the last intact snapshot, {other.name} "
                    f"(updated {store.manifest.get('updated_at', '?')}), instead. {REPAIR_HINT}"
                )
                return store
            no_fallback = "and no intact earlier snapshot is left"
            raise IndexCorruptError(f"{index_dir}: {exc}, {no_fallback}; {REBUILD_HINT}") from exc

    @classmethod
    def _open_folder(
        cls, index_dir: Path, folder: Path, model_sha256: str | None, dimension: int | None, encoder: str | None
    ) -> IndexStore:
        manifest = read_manifest(folder)
        check_manifest(manifest, folder, model_sha256, dimension, encoder)
        problems = damage(index_dir, manifest)
        if problems:
            raise IndexCorruptError(problems[0])
        return cls(index_dir, folder, manifest)

    def _check_consistent(self) -> None:
        live = {
            "articles": sum(s.live_articles for s in self.segments),
            "sentences": sum(int(s.entry["sentences"]) - len(s.dead_sentences) for s in self.segments),
            "chunks": sum(int(s.entry["chunks"]) - len(s.dead_chunks) for s in self.segments),
        }
        for what, count in live.items():
            if self.manifest.get(what) != count:
                raise IndexCorruptError(
                    f"{self.folder.name}: {what} count {self.manifest.get(what)} in the manifest does not match "
                    f"the {count} its segments hold"
                )

    def close(self) -> None:
        for segment in self.segments:
            segment.close()

    # --- counts and metadata -------------------------------------------------------------------
    @property
    def n_articles(self) -> int:
        return int(self.manifest["articles"])

    @property
    def n_sentences(self) -> int:
        return int(self.manifest["sentences"])

    @property
    def n_chunks(self) -> int:
        return int(self.manifest["chunks"])

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

    def titles(self, article_ids: Collection[str]) -> dict[str, str]:
        """Article id → title, for the ids given (unknown ids are left out)."""
        query = "SELECT id, title FROM articles WHERE id IN ({marks})"
        return {row[0]: row[1] for _, row in self._by_article(query, article_ids)}

    def article_dates(self, article_ids: Collection[str]) -> dict[str, str | None]:
        """Article id → its ISO date (None when undated), for the ids given."""
        query = "SELECT id, date FROM articles WHERE id IN ({marks})"
        return {row[0]: row[1] for _, row in self._by_article(query, article_ids)}

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

    def article_sentences(self, article_id: str) -> list[dict]:
        for s in reversed(self.segments):
            if s.alive(article_id):
                query = "SELECT * FROM sentences WHERE article_id = ? ORDER BY number"
                rows = [self._sentence(s, r) for r in s.db.execute(query, (article_id,))]
                if rows:
                    return rows
        return []

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

    def chunk_articles(self, chunk_rows: Sequence[int]) -> dict[int, str]:
        return {row: location[0] for row, location in self.chunk_locations(rows=chunk_rows).items()}

    def chunk_locations(
        self, *, rows: Sequence[int] | None = None, article_id: str | None = None
    ) -> dict[int, tuple[str, int, int]]:
        """Chunk row → (article id, start, end) for the rows given, or for every chunk of `article_id`."""
        found: dict[int, tuple[str, int, int]] = {}
        if article_id is not None:
            for s in reversed(self.segments):
                if s.alive(article_id):
                    query = 'SELECT row, article_id, start, "end" FROM chunks WHERE article_id = ?'
                    for row, article, start, end in s.db.execute(query, (article_id,)):
                        found[row + s.chunk_offset] = (article, start, end)
                    if found:
                        return found
            return found
        for s, local in self._by_segment(rows or [], self.chunk_offsets):
            query = f'SELECT row, article_id, start, "end" FROM chunks WHERE row IN ({",".join("?" * len(local))})'
            for row, article, start, end in s.db.execute(query, local):
                if s.alive(article):
                    found[row + s.chunk_offset] = (article, start, end)
        return found

    def sources(self) -> list[tuple[str, int]]:
        """Each source with its article count, most articles first."""
        counts: dict[str, int] = {}
        for s in self.segments:
            where, params = self._alive(s)
            query = f"SELECT COALESCE(source, ''), COUNT(*) FROM articles WHERE {where} GROUP BY 1"
            for source, n in s.db.execute(query, params):
                counts[source] = counts.get(source, 0) + n
        return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))

    def date_range(self) -> tuple[str | None, str | None]:
        firsts, lasts = [], []
        for s in self.segments:
            where, params = self._alive(s)
            query = f"SELECT MIN(date), MAX(date) FROM articles WHERE date IS NOT NULL AND {where}"
            first, last = s.db.execute(query, params).fetchone()
            if first:
                firsts.append(first)
                lasts.append(last)
        return (min(firsts), max(lasts)) if firsts else (None, None)

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

    def field_values(self, per_field: int = 5) -> dict[str, list[str]]:
        """Each metadata field of the live articles with a few of its values (the most common first)."""
        counts: dict[str, dict[str, int]] = {}
        for s in self.segments:
            if not s.has_fields:
                continue
            where, params = self._alive(s, "article_id")
            query = f"SELECT name, value, COUNT(*) FROM fields WHERE {where} GROUP BY name, value"
            for name, value, n in s.db.execute(query, params):
                counts.setdefault(name, {})[value] = counts.get(name, {}).get(value, 0) + n
        return {
            name: [v for v, _ in sorted(values.items(), key=lambda pair: (-pair[1], pair[0]))[:per_field]]
            for name, values in sorted(counts.items())
        }

    # --- vectors and search ----------------------------------------------------------------------
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

    def sentence_rows_of_chunks(self, chunk_rows: np.ndarray) -> np.ndarray:
        rows = self.chunk_sentence_rows([int(r) for r in chunk_rows])
        return np.array(sorted({s for v in rows.values() for s in v}), dtype=np.int64)
