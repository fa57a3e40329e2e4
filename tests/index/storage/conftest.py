"""Prepared articles for the storage tests: the bundled corpus and a spread of Reuters-21578 newswire, cleaned,
split, chunked, dated and embedded with the real pipeline pieces and the real encoder, once per session."""

from __future__ import annotations

import itertools
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest

from index.encoder import Encoder
from index.ingest.chunks import make_chunks
from index.ingest.prepare import add_times, split_article, to_article
from index.readers import RawArticle, read_inputs
from index.storage import ModelStamp, PreparedArticle
from newsqa.paths import CORPUS_DIR, NEWS_BENCH_DIR
from newsqa.settings import Settings

REUTERS = NEWS_BENCH_DIR / "reuters21578.jsonl"
REUTERS_EVERY = 100  # every 100th record: ~200 articles spread over the collection's months


def prepare(raw: RawArticle, encoder: Encoder, settings: Settings) -> PreparedArticle:
    """What ingest makes of one read record: sentences with offsets and time expressions, chunks, and the
    vectors of both from one encoder pass per chunk."""
    article = to_article(raw)
    sentences = split_article(article)
    chunks = make_chunks(article.id, article.text, sentences, encoder.count_tokens, settings.index.chunk_max_tokens)
    empty = np.zeros((0, encoder.dimension), dtype=np.float32)
    item = PreparedArticle(article, sentences, chunks, empty, empty)
    add_times(item)  # type: ignore[arg-type]  # it reads and sets .article, .sentences and .title_times
    wholes, parts = [], []
    for chunk in item.chunks:
        spans = [
            (s.start - chunk.start, s.end - chunk.start)
            for s in item.sentences[chunk.first_sentence : chunk.last_sentence + 1]
        ]
        ((whole, sentence_vectors),) = encoder.encode_passages([chunk.text], [spans])
        wholes.append(whole)
        parts.append(sentence_vectors)
    item.chunk_vectors = np.vstack(wholes).astype(np.float32)
    item.sentence_vectors = np.vstack(parts).astype(np.float32)
    return item


def reuters_records(every: int = REUTERS_EVERY) -> list[RawArticle]:
    """Every `every`-th Reuters record that has a body, read by the product's reader, with the source named."""
    if not REUTERS.is_file():
        pytest.skip(f"{REUTERS} is absent (the shared benchmark data is not shipped with the repository)")
    lines = itertools.islice(REUTERS.open(encoding="utf-8"), 0, None, every)
    records = []
    for line in lines:
        record = json.loads(line)
        if not str(record.get("body") or "").strip():
            continue
        record["source"] = "Reuters"
        records.append(record)
    return _read_records(records)


def _read_records(records: list[dict]) -> list[RawArticle]:
    """The records as the product's reader reads them from a JSON Lines file (origins named after the source)."""

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "reuters.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        return [
            r.model_copy(update={"origin": r.origin.replace(str(path), "reuters21578.jsonl")})
            for r in read_inputs([path])
            if isinstance(r, RawArticle)
        ]


@pytest.fixture(scope="session")
def model(encoder: Encoder) -> ModelStamp:
    return ModelStamp(encoder.name, encoder.weights_sha256, encoder.kind, encoder.dimension)


@pytest.fixture(scope="session")
def prepared(encoder: Encoder) -> list[PreparedArticle]:
    """The contract corpus: the bundled article first, then ~200 Reuters articles."""
    settings = Settings()
    records = [r for r in read_inputs([CORPUS_DIR]) if isinstance(r, RawArticle)] + reuters_records()
    return [prepare(r, encoder, settings) for r in records]
