"""The Milvus layout of an index: its five collections and their rows (`expressions` holds the filter expressions
that read them).

Collections (names prefixed `newsqa_`):

    articles   one row per part of an article's text (a VARCHAR holds at most `TEXT_PART_BYTES`); every part
               carries the metadata, so any one of them describes the article. `seq` orders articles by ingest.
    chunks     one row per chunk: dense `vector`, the chunk's BM25 terms in `words` (analysed by Milvus'
               standard analyzer and turned into the sparse `sparse` field by a BM25 Function), offsets.
    sentences  one row per sentence: dense `vector`, offsets, its text and its chunk's number.
    times      one row per time expression of a sentence or title, with its range as day numbers (yyyymmdd),
               so "which articles name a time overlapping X" is a plain scalar query.
    store      key → JSON: the model stamp, the version counter, the values seen (sources, days) and
               the intents of unfinished writes (see `index.storage.milvus.writer`).

Every row of an article carries the article's id and `gen`, a hash of everything written for that version of
the article (its text, metadata, sentences, chunks, times and vectors): primary keys are `gen:...`, so writing
the same version twice writes the same rows (idempotent), and a new version never overwrites the old one's
rows before it is complete. Chunks and sentences also carry the article's source, day and metadata fields, so
a search is filtered by one Milvus expression without a join.

Milvus wants a vector field in every collection; the collections that hold no vectors (articles, times,
store) carry a two-dimensional `marker` of zeros that nothing searches.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from datetime import date

import numpy as np
from pymilvus import DataType, Function, FunctionType, MilvusClient

from index.models import Article
from index.storage.api import TITLE, PreparedArticle

PREFIX = "newsqa_"
ARTICLES = PREFIX + "articles"
CHUNKS = PREFIX + "chunks"
SENTENCES = PREFIX + "sentences"
TIMES = PREFIX + "times"
STORE = PREFIX + "store"
# Deleting an article goes through these in this order: the article rows first, so that readers stop
# listing it before its parts go.
COLLECTIONS = (ARTICLES, CHUNKS, SENTENCES, TIMES, STORE)
ARTICLE_PARTS = (ARTICLES, CHUNKS, SENTENCES, TIMES)

VARCHAR_BYTES = 65_535
TEXT_PART_BYTES = 60_000  # below a VARCHAR's limit, counted in UTF-8 bytes
ID_BYTES = 1_024
MARKER = [0.0, 0.0]
# BM25 as the local store computes it (Lucene's k1 and b), so both stores rank words alike. Milvus multiplies
# each term's saturation by (k1 + 1) where Lucene's BM25 does not; `bm25_score` divides it back out.
BM25_K1 = 1.5
BM25_B = 0.75

_NOT_WORD = re.compile(r"\W", re.UNICODE)


def bm25_score(distance: float) -> float:
    """A Milvus BM25 result's score on the local store's scale (milvus-lite reports it negated)."""
    return abs(float(distance)) / (BM25_K1 + 1.0)


def word_token(term: str) -> str:
    """A term of `index.text.tokenize.tokenize` as one token of Milvus' standard analyzer: a decimal's "." (the only
    non-word character a term can hold) becomes "_", which that analyzer keeps inside a word and no term of
    `tokenize` contains, so the mapping is one to one."""
    return _NOT_WORD.sub("_", term)


def words_field(terms: Sequence[str]) -> str:
    """The `words` value of a chunk: its terms as Milvus tokens, cut at a token boundary to fit a VARCHAR
    (only a chunk of one enormous sentence comes near; the words past the limit are not searchable)."""
    text = " ".join(word_token(t) for t in terms)
    if len(text.encode()) <= VARCHAR_BYTES:
        return text
    cut = text.encode()[:VARCHAR_BYTES].decode(errors="ignore")
    return cut[: cut.rfind(" ")] if " " in cut else ""


def day_number(iso: str | None) -> int:
    """An ISO date as yyyymmdd (0 for none), the form filters compare."""
    if not iso:
        return 0
    try:
        parsed = date.fromisoformat(iso[:10])
    except ValueError:
        return 0
    return parsed.year * 10_000 + parsed.month * 100 + parsed.day


def from_day_number(number: int) -> date:
    return date(number // 10_000, number // 100 % 100, number % 100)


def article_fields(article: Article) -> dict[str, str]:
    """The article's extra metadata (`fields`: field → value, e.g. a category) where its model has them."""
    found = getattr(article, "fields", None) or {}
    return {str(k): str(v) for k, v in dict(found).items()}


def generation(item: PreparedArticle) -> str:
    """A hash of everything written for this version of the article: equal for an identical re-write, new for
    any change (text, metadata, how it was split, its times or its vectors)."""
    digest = hashlib.sha256()
    digest.update(item.article.model_dump_json().encode())
    digest.update(json.dumps(article_fields(item.article), sort_keys=True).encode())
    digest.update(json.dumps([(s.start, s.end, [_mention(m) for m in s.times]) for s in item.sentences]).encode())
    digest.update(json.dumps([(c.first_sentence, c.last_sentence, c.start, c.end) for c in item.chunks]).encode())
    digest.update(json.dumps([_mention(m) for m in item.title_times]).encode())
    digest.update(np.ascontiguousarray(item.sentence_vectors, dtype=np.float32).tobytes())
    digest.update(np.ascontiguousarray(item.chunk_vectors, dtype=np.float32).tobytes())
    return digest.hexdigest()[:24]


def _mention(m: object) -> list:
    return [m.start, m.end, m.text, m.first.isoformat(), m.last.isoformat(), m.period]  # type: ignore[attr-defined]


def text_parts(text: str) -> list[str]:
    """`text` cut into pieces of at most `TEXT_PART_BYTES` UTF-8 bytes, never inside a character."""
    parts: list[str] = []
    data = text.encode()
    while data:
        piece = data[:TEXT_PART_BYTES].decode(errors="ignore")  # drops a cut character's first bytes
        parts.append(piece)
        data = data[len(piece.encode()) :]
    return parts or [""]


def create_collections(client: MilvusClient, dimension: int, *, server: bool) -> None:
    """Create whichever of the index's collections are missing (a no-op when all exist)."""
    existing = set(client.list_collections())
    # An exact (FLAT) search in milvus-lite, where collections are small; Milvus picks an ANN index (HNSW) on
    # a server, where they may hold millions of rows.
    dense_index = "AUTOINDEX" if server else "FLAT"
    builders = {
        ARTICLES: _articles_schema,
        CHUNKS: lambda: _chunks_schema(dimension),
        SENTENCES: lambda: _sentences_schema(dimension),
        TIMES: _times_schema,
        STORE: _store_schema,
    }
    for name, build in builders.items():
        if name in existing:
            continue
        schema = build()
        index_params = client.prepare_index_params()
        for field in schema.fields:
            if field.dtype == DataType.FLOAT_VECTOR:
                metric = "IP" if field.name == "vector" else "L2"
                index_params.add_index(
                    field_name=field.name, index_type=dense_index if field.name == "vector" else "FLAT",
                    metric_type=metric,
                )  # fmt: skip
            elif field.dtype == DataType.SPARSE_FLOAT_VECTOR:
                index_params.add_index(
                    field_name=field.name, index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                    params={"bm25_k1": BM25_K1, "bm25_b": BM25_B},
                )  # fmt: skip
        # Strong consistency: a reader sees every write acknowledged before its request (a committed ingest).
        client.create_collection(name, schema=schema, consistency_level="Strong")
        # The collection is empty, so there is nothing to wait for (and milvus-lite cannot say when an index
        # build finished: waiting only logs errors).
        client.create_index(name, index_params, sync=False)
        client.load_collection(name)


def _base(with_marker: bool = True):  # type: ignore[no-untyped-def]
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=128)
    schema.add_field("article_id", DataType.VARCHAR, max_length=ID_BYTES)
    schema.add_field("gen", DataType.VARCHAR, max_length=64)
    if with_marker:
        schema.add_field("marker", DataType.FLOAT_VECTOR, dim=2)
    return schema


def _article_scope(schema) -> None:  # type: ignore[no-untyped-def]
    """The article's filterable metadata, copied onto each row that a search returns."""
    schema.add_field("source", DataType.VARCHAR, max_length=VARCHAR_BYTES)
    schema.add_field("day", DataType.INT64)
    schema.add_field("fields", DataType.JSON)


def _articles_schema():  # type: ignore[no-untyped-def]
    schema = _base()
    schema.add_field("part", DataType.INT64)
    schema.add_field("parts", DataType.INT64)
    schema.add_field("seq", DataType.INT64)
    _article_scope(schema)
    for name in ("title", "date", "url", "author", "origin", "content_hash", "text"):
        schema.add_field(name, DataType.VARCHAR, max_length=VARCHAR_BYTES)
    schema.add_field("has_source", DataType.BOOL)
    return schema


def _chunks_schema(dimension: int):  # type: ignore[no-untyped-def]
    schema = _base(with_marker=False)
    schema.add_field("ref", DataType.VARCHAR, max_length=ID_BYTES + 16)
    schema.add_field("number", DataType.INT64)
    for name in ("start", "end", "first_sentence", "last_sentence"):
        schema.add_field(name, DataType.INT64)
    _article_scope(schema)
    schema.add_field(
        "words", DataType.VARCHAR, max_length=VARCHAR_BYTES, enable_analyzer=True, enable_match=True,
        analyzer_params={"tokenizer": "standard"},
    )  # fmt: skip
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    schema.add_function(
        Function(name="words_bm25", function_type=FunctionType.BM25, input_field_names=["words"],
                 output_field_names=["sparse"])
    )  # fmt: skip
    return schema


def _sentences_schema(dimension: int):  # type: ignore[no-untyped-def]
    schema = _base(with_marker=False)
    schema.add_field("ref", DataType.VARCHAR, max_length=ID_BYTES + 16)
    for name in ("number", "start", "end", "chunk"):
        schema.add_field(name, DataType.INT64)
    _article_scope(schema)
    # The sentence's text when it fits a VARCHAR; otherwise empty and read from the article's text.
    schema.add_field("text", DataType.VARCHAR, max_length=VARCHAR_BYTES)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    return schema


def _times_schema():  # type: ignore[no-untyped-def]
    schema = _base()
    for name in ("sentence", "start", "end", "first", "last"):
        schema.add_field(name, DataType.INT64)
    schema.add_field("text", DataType.VARCHAR, max_length=VARCHAR_BYTES)
    schema.add_field("period", DataType.VARCHAR, max_length=16)
    schema.add_field("says_year", DataType.BOOL)
    return schema


def _store_schema():  # type: ignore[no-untyped-def]
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=128)
    schema.add_field("value", DataType.JSON)
    schema.add_field("marker", DataType.FLOAT_VECTOR, dim=2)
    return schema


def chunk_ref_key(article_id: str, number: int) -> str:
    """The `ref` field of chunk and sentence rows: what a reader looks a record up by."""
    return f"{article_id}#{number}"


def article_rows(item: PreparedArticle, gen: str, seq: int) -> list[dict]:
    a = item.article
    scope = _scope(a)
    parts = text_parts(a.text)
    meta = {
        "title": a.title, "date": a.date or "", "url": a.url or "", "author": a.author or "", "origin": a.origin,
        "content_hash": a.content_hash, "has_source": a.source is not None,
    }  # fmt: skip
    return [
        {
            "pk": f"{gen}:{i}",
            "article_id": a.id,
            "gen": gen,
            "marker": MARKER,
            "part": i,
            "parts": len(parts),
            "seq": seq,
            **scope,
            **meta,
            "text": part,
        }
        for i, part in enumerate(parts)
    ]


def chunk_rows(item: PreparedArticle, gen: str, words: Sequence[Sequence[str]]) -> list[dict]:
    a = item.article
    scope = _scope(a)
    return [
        {
            "pk": f"{gen}:{c.number}",
            "article_id": a.id,
            "gen": gen,
            "ref": chunk_ref_key(a.id, c.number),
            "number": c.number,
            "start": c.start,
            "end": c.end,
            "first_sentence": c.first_sentence,
            "last_sentence": c.last_sentence,
            **scope,
            "words": words_field(terms),
            "vector": np.asarray(vector, dtype=np.float32).tolist(),
        }
        for c, terms, vector in zip(item.chunks, words, item.chunk_vectors, strict=True)
    ]


def sentence_rows(item: PreparedArticle, gen: str) -> list[dict]:
    a = item.article
    scope = _scope(a)
    chunk_of = {n: c.number for c in item.chunks for n in range(c.first_sentence, c.last_sentence + 1)}
    return [
        {
            "pk": f"{gen}:{s.number}",
            "article_id": a.id,
            "gen": gen,
            "ref": chunk_ref_key(a.id, s.number),
            "number": s.number,
            "start": s.start,
            "end": s.end,
            "chunk": chunk_of[s.number],
            **scope,
            "text": s.text if len(s.text.encode()) <= VARCHAR_BYTES else "",
            "vector": np.asarray(vector, dtype=np.float32).tolist(),
        }
        for s, vector in zip(item.sentences, item.sentence_vectors, strict=True)
    ]


def time_rows(item: PreparedArticle, gen: str) -> list[dict]:
    a = item.article
    found = [(TITLE, m) for m in item.title_times] + [(s.number, m) for s in item.sentences for m in s.times]
    return [
        {
            "pk": f"{gen}:{number}:{i}",
            "article_id": a.id,
            "gen": gen,
            "marker": MARKER,
            "sentence": number,
            "start": m.start,
            "end": m.end,
            "text": m.text,
            "first": day_number(m.first.isoformat()),
            "last": day_number(m.last.isoformat()),
            "period": m.period,
            "says_year": m.says_its_year,
        }
        for i, (number, m) in enumerate(found)
    ]


def _scope(article: Article) -> dict:
    return {"source": article.source or "", "day": day_number(article.date), "fields": article_fields(article)}
