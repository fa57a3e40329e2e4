"""Records read back from the Milvus index: sentences and chunks by (article, number), an article's parts,
articles (their text reassembled from its parts), and time expressions; each lookup keeps one version of
each record where an article's replacement is under way."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence

import numpy as np

from index.models import Article
from index.storage.api import ChunkRecord, ChunkRef, SentenceRecord, SentenceRef
from index.storage.milvus.connection import reaching
from index.storage.milvus.expressions import both, literal, one_of
from index.storage.milvus.rows import CollectionRows, batches
from index.storage.milvus.schema import ARTICLES, CHUNKS, SENTENCES, TIMES, from_day_number
from index.text.dates import TimeMention

ARTICLE_FIELDS = ["pk", "article_id", "gen", "part", "parts", "seq", "source", "has_source", "title", "date", "url",
                  "author", "origin", "content_hash", "fields"]  # fmt: skip
RECORD_FIELDS = ["article_id", "gen", "number", "start", "end"]


class RecordReads(CollectionRows):
    """The record lookups of a `MilvusReader` (a mixin of it)."""

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
            rows = [r for part in batches(ids) for r in self._scan(ARTICLES, both(one_of("article_id", part), where),
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
        rows = [r for part in batches(list(dict.fromkeys(article_ids)))
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
