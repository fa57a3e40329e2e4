"""The read side of the Milvus store: searches as Milvus searches with filter expressions, records read back by
article id and position, and corpus facts.

A reader sees the live collections, not a snapshot: what a writer has written is visible at once (the
collections are strongly consistent). While an article is being replaced both of its versions exist for a
moment; every lookup keeps one row per record (the newest version, by the article's ingest sequence), and
searches keep each record's best hit once. The corpus facts and term statistics are counted once per reader
(a caller opens a new reader when `current_version()` moves).

Scores: cosine similarity for vectors (inner product of unit vectors). Words are BM25 over each chunk's terms
(`index.text.tokenize.tokenize`, so both stores search the same words) with k1 1.5 and b 0.75, scaled to
the local store's Lucene form. Milvus keeps the BM25 statistics itself: a Milvus server over the live rows of
a collection; milvus-lite per stored segment (a commit flushes what it wrote into one), and, for rows not yet
flushed, over those that pass the search's filter. On one segment the scores equal the local store's.
`term_weights` counts each term's document frequency as the hits of a BM25 search for it alone, so it
reflects the live rows when counted (the counts are kept for the reader's life, as its facts are).
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence

import numpy as np

from index.models import Article
from index.storage.api import (
    ChunkRecord,
    ChunkRef,
    Filter,
    Hit,
    SentenceRecord,
    SentenceRef,
    StoreFacts,
    TimePreference,
)
from index.storage.milvus.connection import SEEN, VERSION, Connection, reaching
from index.storage.milvus.schema import (
    ARTICLES,
    CHUNKS,
    SENTENCES,
    TIMES,
    bm25_score,
    both,
    chunk_ref_key,
    dated_expression,
    filter_expression,
    from_day_number,
    literal,
    one_of,
    told_expression,
    word_token,
)
from index.text.dates import TimeMention

QUERY_LIMIT = 16_384  # the most rows one Milvus query returns
LOOKUP_BATCH = 500  # ids or refs per `in [...]` expression
SCAN_BATCH = 1_000
ARTICLE_FIELDS = ["pk", "article_id", "gen", "part", "parts", "seq", "source", "has_source", "title", "date", "url",
                  "author", "origin", "content_hash", "fields"]  # fmt: skip
RECORD_FIELDS = ["article_id", "gen", "number", "start", "end"]
FIELD_SAMPLE = 500  # articles whose metadata fields facts() lists a few values of
MANY_SOURCES = 200  # above this many sources, facts() reads every article's source instead of counting each


class _NoSessionTimestamp(logging.Filter):
    """milvus-lite gives a query iterator no session timestamp, and pymilvus warns on every scan before using
    the client's clock, which is what a strongly consistent read wants anyway: that warning is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "failed to get mvccTs" not in record.getMessage()


logging.getLogger("pymilvus.client.iterator.query_iterator").addFilter(_NoSessionTimestamp())


class MilvusReader:
    """A `StoreReader` over the index's Milvus collections."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.client = connection.open()
        self._facts: StoreFacts | None = None
        self._document_frequency: dict[str, int] = {}  # term → chunks holding it ("" → all chunks)

    # --- facts ----------------------------------------------------------------------------------------
    @reaching
    def current_version(self) -> str:
        return self.connection.version()

    @reaching
    def facts(self) -> StoreFacts:
        """The facts as of this reader's first call (counted once): `current_version()` differs from their
        version once a writer committed, and the caller opens a new reader for new facts."""
        if self._facts is not None:
            return self._facts
        version = self.connection.version()
        seen = self.connection.read(SEEN) or {}
        pending = [key for key, _ in self.connection.intents()]
        stamp = self.connection.read(VERSION) or {}
        first, last = self._date_range(sorted(int(d) for d in seen.get("days", [])))
        self._facts = StoreFacts(
            backend="milvus",
            articles=self._count(ARTICLES, "part == 0"),
            sentences=self._count(SENTENCES),
            chunks=self._count(CHUNKS),
            sources=self._sources(seen.get("sources", [])),
            date_from=first,
            date_to=last,
            location=self.connection.location,
            version=version,
            updated_at=str(stamp.get("updated_at", "")),
            fields=self._fields(),
            details={"server": self.connection.server, "unfinished writes": len(pending)},
            warning=(
                f"{len(pending)} write(s) to this index stopped part-way; run the ingest again (or qa repair) "
                "to complete them"
            )
            if pending
            else None,
        )
        return self._facts

    def _count(self, collection: str, expression: str = "") -> int:
        rows = self.client.query(collection, filter=expression, output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    def _sources(self, seen: list[str]) -> list[tuple[str, int]]:
        counts: dict[str, int] = defaultdict(int)
        if len(seen) <= MANY_SOURCES:
            for source in seen:
                counts[source] = self._count(ARTICLES, f"part == 0 and source == {literal(source)}")
        else:
            for row in self._scan(ARTICLES, "part == 0", ["source"]):
                counts[row["source"]] += 1
        return sorted(((s, n) for s, n in counts.items() if n), key=lambda pair: (-pair[1], pair[0]))

    def _date_range(self, days: list[int]) -> tuple[str | None, str | None]:
        """The first and last days of live articles, trying the days ever written from each end (a day whose
        articles were all removed is skipped)."""
        present = (d for d in days if d > 0 and self._count(ARTICLES, f"part == 0 and day == {d}"))
        first = next(present, None)
        if first is None:
            return None, None
        last = next(d for d in reversed(days) if d >= first and self._count(ARTICLES, f"part == 0 and day == {d}"))
        return from_day_number(first).isoformat(), from_day_number(last).isoformat()

    def _fields(self) -> dict[str, list[str]]:
        """A few values of each metadata field, read from a sample of the articles (one query)."""
        values: dict[str, set[str]] = defaultdict(set)
        for row in self.client.query(ARTICLES, filter="part == 0", output_fields=["fields"], limit=FIELD_SAMPLE):
            for name, value in (row["fields"] or {}).items():
                values[name].add(str(value))
        return {name: sorted(found)[:5] for name, found in sorted(values.items())}

    # --- searches -------------------------------------------------------------------------------------
    @reaching
    def search_chunks(
        self, vector: np.ndarray, k: int, where: Filter | None = None, prefer: TimePreference | None = None
    ) -> list[Hit]:
        return self._dense(CHUNKS, ChunkRef, vector, k, where, prefer)

    @reaching
    def search_sentences(
        self, vector: np.ndarray, k: int, where: Filter | None = None, prefer: TimePreference | None = None
    ) -> list[Hit]:
        return self._dense(SENTENCES, SentenceRef, vector, k, where, prefer)

    def _dense(
        self, collection: str, ref: type, vector: np.ndarray, k: int, where: Filter | None,
        prefer: TimePreference | None,
    ) -> list[Hit]:  # fmt: skip
        if k <= 0:
            return []
        query = np.asarray(vector, dtype=np.float32).reshape(-1).tolist()
        results = self.client.search(
            collection, data=[query], anns_field="vector", limit=min(k, QUERY_LIMIT),
            filter=self._expression(where, prefer), output_fields=["article_id", "number"],
            search_params={"metric_type": "IP"},
        )  # fmt: skip
        return _best(((ref(h["entity"]["article_id"], int(h["entity"]["number"])), float(h["distance"]))
                      for h in results[0]), k)  # fmt: skip

    @reaching
    def search_words(
        self, terms: Sequence[str], k: int, where: Filter | None = None, prefer: TimePreference | None = None
    ) -> list[Hit]:
        text = " ".join(word_token(t) for t in dict.fromkeys(terms) if t)
        if k <= 0 or not text.strip():
            return []
        results = self.client.search(
            CHUNKS, data=[text], anns_field="sparse", limit=min(k, QUERY_LIMIT), filter=self._expression(where, prefer),
            output_fields=["article_id", "number"], search_params={"metric_type": "BM25"},
        )  # fmt: skip
        return _best(((ChunkRef(h["entity"]["article_id"], int(h["entity"]["number"])), bm25_score(h["distance"]))
                      for h in results[0]), k)  # fmt: skip

    def term_weights(self, terms: Sequence[str]) -> dict[str, float]:
        """BM25's IDF of each term, log(1 + (N - df + 0.5) / (df + 0.5)), N the live chunks and df those whose
        words hold the term."""
        frequencies = self.document_frequencies(terms)
        total = self._document_frequency.get("", 0)
        return {t: float(math.log(1.0 + (total - df + 0.5) / (df + 0.5))) for t, df in frequencies.items()}

    @reaching
    def document_frequencies(self, terms: Sequence[str]) -> dict[str, int]:
        unique = [t for t in dict.fromkeys(terms) if t]
        if not unique:
            return {}
        counted = self._document_frequency  # kept for the reader's life, like its facts
        if "" not in counted:
            counted[""] = self._count(CHUNKS)
        new = [term for term in unique if term not in counted]
        if new:
            counted.update(zip(new, self._chunks_holding(new), strict=True))
        return {term: counted[term] for term in unique}

    def _chunks_holding(self, terms: list[str]) -> list[int]:
        """How many chunks hold each term: the hits of a BM25 search for the term alone (every chunk holding it
        scores above zero), served by the sparse index; a `TEXT_MATCH` count only for a term in more chunks
        than one search returns (milvus-lite evaluates `TEXT_MATCH` row by row, a server from its own index).
        One request per term: milvus-lite answers a batch of queries slower than the same queries apart."""
        counts = []
        for token in (word_token(t) for t in terms):
            hits = self.client.search(
                CHUNKS, data=[token], anns_field="sparse", limit=QUERY_LIMIT, output_fields=[],
                search_params={"metric_type": "BM25"},
            )[0]  # fmt: skip
            found = len(hits)
            counts.append(found if found < QUERY_LIMIT else self._count(CHUNKS, f"TEXT_MATCH(words, {literal(token)})"))
        return counts

    def _expression(self, where: Filter | None, prefer: TimePreference | None) -> str:
        return both(filter_expression(where), self._prefer_expression(prefer))

    def _prefer_expression(self, prefer: TimePreference | None) -> str | None:
        if prefer is None:
            return None
        told = told_expression(prefer)
        if told is None:
            return dated_expression(prefer)
        mentioned = sorted({row["article_id"] for row in self._scan(TIMES, told, ["article_id"])})
        if not mentioned:
            return dated_expression(prefer)
        return f"{dated_expression(prefer)} or {one_of('article_id', mentioned)}"

    # --- records --------------------------------------------------------------------------------------
    @reaching
    def sentences(self, refs: Sequence[SentenceRef], *, vectors: bool = False) -> list[SentenceRecord]:
        fields = [*RECORD_FIELDS, "chunk", "text", *(["vector"] if vectors else [])]
        rows = self._live(self._by_refs(SENTENCES, refs, fields))
        found = {(r["article_id"], int(r["number"])): r for r in rows}
        long = {r["article_id"] for r in rows if not r["text"] and r["end"] > r["start"]}
        texts = {a.id: a.text for a in self.articles(long)} if long else {}
        records = []
        for ref in refs:
            row = found.get((ref[0], int(ref[1])))
            if row is not None:
                records.append(_sentence(row, texts))
        return records

    @reaching
    def chunks(self, refs: Sequence[ChunkRef], *, vectors: bool = False) -> list[ChunkRecord]:
        fields = [*RECORD_FIELDS, "first_sentence", "last_sentence", *(["vector"] if vectors else [])]
        found = {(r["article_id"], int(r["number"])): r for r in self._live(self._by_refs(CHUNKS, refs, fields))}
        return [_chunk(found[key]) for ref in refs if (key := (ref[0], int(ref[1]))) in found]

    @reaching
    def article_parts(self, article_id: str) -> tuple[list[SentenceRecord], list[ChunkRecord]]:
        where = f"article_id == {literal(article_id)}"
        sentence_rows = self._live(list(self._scan(SENTENCES, where, [*RECORD_FIELDS, "chunk", "text"])))
        chunk_rows = self._live(list(self._scan(CHUNKS, where, [*RECORD_FIELDS, "first_sentence", "last_sentence"])))
        long = any(not r["text"] and r["end"] > r["start"] for r in sentence_rows)
        texts = {a.id: a.text for a in self.articles([article_id])} if long else {}
        sentences = sorted((_sentence(r, texts) for r in sentence_rows), key=lambda s: s.number)
        chunks = sorted((_chunk(r) for r in chunk_rows), key=lambda c: c.ref.number)
        return sentences, chunks

    @reaching
    def articles(self, article_ids: Collection[str] | None = None, *, text: bool = True) -> list[Article]:
        fields = ARTICLE_FIELDS + (["text"] if text else [])
        if article_ids is None:
            rows = list(self._scan(ARTICLES, "" if text else "part == 0", fields))
        else:
            ids = list(dict.fromkeys(article_ids))
            where = "" if text else "part == 0"
            rows = [r for part in _batches(ids) for r in self._scan(ARTICLES, both(one_of("article_id", part), where),
                                                                  fields)]  # fmt: skip
        return _assemble(rows, text)

    @reaching
    def find_articles(self, *, url: str | None = None, origin: str | None = None) -> list[Article]:
        if url is None and origin is None:
            raise ValueError("find_articles needs a url or an origin")
        clauses = ["part == 0"]
        if url is not None:
            clauses.append(f"url == {literal(url)}")
        if origin is not None:
            clauses.append(f"origin == {literal(origin)}")
        return _assemble(list(self._scan(ARTICLES, " and ".join(clauses), ARTICLE_FIELDS)), text=False)

    @reaching
    def times(self, article_ids: Collection[str]) -> dict[str, dict[int, list[TimeMention]]]:
        fields = ["pk", "article_id", "gen", "sentence", "start", "end", "text", "first", "last", "period"]
        rows = [r for part in _batches(list(dict.fromkeys(article_ids)))
                for r in self._scan(TIMES, one_of("article_id", part), fields)]  # fmt: skip
        found: dict[str, dict[int, list[TimeMention]]] = {}
        # The pk's last part is the mention's position in the article's list (title first, then by sentence).
        for row in sorted(self._live(rows), key=lambda r: (r["article_id"], int(r["pk"].rsplit(":", 1)[1]))):
            mention = TimeMention(
                int(row["start"]), int(row["end"]), row["text"], from_day_number(int(row["first"])),
                from_day_number(int(row["last"])), row["period"],
            )  # fmt: skip
            found.setdefault(row["article_id"], {}).setdefault(int(row["sentence"]), []).append(mention)
        return found

    def close(self) -> None:
        self.connection.close()

    def __del__(self) -> None:
        # A reader replaced by a newer one is dropped, not closed, once no question uses it (the local store's
        # files are mapped, so callers let go instead of closing): its Milvus connection goes with it.
        with contextlib.suppress(Exception):  # nothing to report to at collection time
            self.connection.close()

    # --- helpers --------------------------------------------------------------------------------------
    def _by_refs(self, collection: str, refs: Sequence[tuple[str, int]], fields: list[str]) -> list[dict]:
        keys = list(dict.fromkeys(chunk_ref_key(a, int(n)) for a, n in refs))
        rows: list[dict] = []
        for part in _batches(keys):
            rows += self.client.query(collection, filter=one_of("ref", part), output_fields=fields,
                                      limit=QUERY_LIMIT)  # fmt: skip
        return rows

    def _scan(self, collection: str, expression: str, fields: list[str]) -> Iterator[dict]:
        """Every row matching `expression`: one query when they fit in one answer, else read in batches."""
        rows = self.client.query(collection, filter=expression, output_fields=fields, limit=QUERY_LIMIT)
        if len(rows) < QUERY_LIMIT:
            yield from rows
            return
        iterator = self.client.query_iterator(
            collection, batch_size=SCAN_BATCH, filter=expression, output_fields=fields
        )
        try:
            while batch := iterator.next():
                yield from batch
        finally:
            iterator.close()

    def _live(self, rows: list[dict]) -> list[dict]:
        """`rows` less those of an article's older version, where a replacement is under way (both exist)."""
        gens: dict[str, set[str]] = defaultdict(set)
        for row in rows:
            gens[row["article_id"]].add(row["gen"])
        doubled = [a for a, found in gens.items() if len(found) > 1]
        if not doubled:
            return rows
        live = self.live_generations(doubled)
        return [r for r in rows if r["article_id"] not in live or r["gen"] == live[r["article_id"]]]

    def live_generations(self, article_ids: Sequence[str]) -> dict[str, str]:
        """Article id → the version readers see (the newest complete one)."""
        newest: dict[str, tuple[int, str]] = {}
        for part in _batches(list(article_ids)):
            for row in self._scan(ARTICLES, both(one_of("article_id", part), "part == 0"), ["article_id", "gen",
                                                                                               "seq"]):  # fmt: skip
                seen = newest.get(row["article_id"])
                if seen is None or int(row["seq"]) > seen[0]:
                    newest[row["article_id"]] = (int(row["seq"]), row["gen"])
        return {a: gen for a, (_, gen) in newest.items()}


def _batches(values: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), LOOKUP_BATCH):
        yield values[start : start + LOOKUP_BATCH]


def _best(hits: Iterator[tuple[ChunkRef | SentenceRef, float]], k: int) -> list[Hit]:
    """One hit per record (its best score), best first, ties by ref."""
    best: dict[ChunkRef | SentenceRef, float] = {}
    for ref, score in hits:
        if ref not in best or score > best[ref]:
            best[ref] = score
    return [Hit(ref, score) for ref, score in sorted(best.items(), key=lambda pair: (-pair[1], pair[0]))[:k]]


def _vector(row: dict) -> np.ndarray | None:
    return np.asarray(row["vector"], dtype=np.float32) if "vector" in row else None


def _sentence(row: dict, texts: dict[str, str]) -> SentenceRecord:
    start, end = int(row["start"]), int(row["end"])
    text = row["text"] or texts.get(row["article_id"], "")[start:end]
    return SentenceRecord(
        ref=SentenceRef(row["article_id"], int(row["number"])), start=start, end=end, text=text,
        chunk=ChunkRef(row["article_id"], int(row["chunk"])), vector=_vector(row),
    )  # fmt: skip


def _chunk(row: dict) -> ChunkRecord:
    article_id = row["article_id"]
    numbers = range(int(row["first_sentence"]), int(row["last_sentence"]) + 1)
    sentences = tuple(SentenceRef(article_id, n) for n in numbers)
    return ChunkRecord(
        ref=ChunkRef(article_id, int(row["number"])), start=int(row["start"]), end=int(row["end"]),
        sentences=sentences, vector=_vector(row),
    )  # fmt: skip


def _assemble(rows: list[dict], text: bool) -> list[Article]:
    """Articles from their part rows: per article the newest version whose first part exists (parts are
    written last to first, so a first part means a complete article), in ingest order."""
    by_version: dict[tuple[str, str], dict[int, dict]] = defaultdict(dict)
    for row in rows:
        by_version[(row["article_id"], row["gen"])][int(row["part"])] = row
    newest: dict[str, dict[int, dict]] = {}
    for (article_id, _), parts in by_version.items():
        if 0 not in parts:
            continue
        if article_id not in newest or int(parts[0]["seq"]) > int(newest[article_id][0]["seq"]):
            newest[article_id] = parts
    has_fields = "fields" in Article.model_fields
    found = []
    for parts in sorted(newest.values(), key=lambda p: int(p[0]["seq"])):
        head = parts[0]
        extra = {"fields": dict(head["fields"] or {})} if has_fields else {}
        found.append(
            Article(
                id=head["article_id"],
                title=head["title"],
                text="".join(parts[i]["text"] for i in sorted(parts)) if text else "",
                source=head["source"] if head["has_source"] else None,
                date=head["date"] or None,
                url=head["url"] or None,
                author=head["author"] or None,
                origin=head["origin"],
                content_hash=head["content_hash"],
                **extra,
            )
        )
    return found
