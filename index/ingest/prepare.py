"""Prepare: a read article made ready for the index — its stable id, its sentences with their offsets, its
chunks and its time expressions — or a Problem saying why it cannot go in.

Preparing needs no index and no vectors (`Candidate.item` carries empty ones), so it can run anywhere: on the
reading thread of a plain ingest, or in a Ray task per file (`index.ingest.distributed`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np

from index.ingest.chunks import make_chunks
from index.models import Article, Problem, Sentence
from index.readers import RawArticle
from index.storage import PreparedArticle
from index.text.dates import time_mentions
from index.text.sentences import split_sentences
from newsqa.settings import Settings


def content_hash(title: str, text: str) -> str:
    """The sha256 (hex) of an article's title and text: what tells a changed article from an unchanged one."""
    return hashlib.sha256(f"{title}\n\n{text}".encode()).hexdigest()


def split_article(article: Article) -> list[Sentence]:
    """The article's sentences, each carrying its offsets into `article.text`."""
    return [
        Sentence(article_id=article.id, number=i, start=s, end=e, text=article.text[s:e])
        for i, (s, e) in enumerate(split_sentences(article.text))
    ]


def add_times(item: PreparedArticle) -> None:
    """Find the time expressions of the article's title and sentences, resolved against its date (only those
    that name their year when it has none)."""
    reference = date.fromisoformat(item.article.date) if item.article.date else None
    item.title_times = time_mentions(item.article.title, reference)
    item.sentences = [s.model_copy(update={"times": time_mentions(s.text, reference)}) for s in item.sentences]


def to_article(raw: RawArticle) -> Article:
    """Give a read record its stable id: the input's own id, else a hash of its content."""
    # Metadata is part of what an article is: a changed category makes it an update. (Without any, the hash is
    # what it always was, so ids and "unchanged" stay as they were.)
    extra = "".join(f"\n{k}: {v}" for k, v in sorted(raw.fields.items()))
    digest = content_hash(raw.title, raw.text + extra)
    return Article(**raw.model_dump(exclude={"id"}), id=raw.id or digest[:16], content_hash=digest)


@dataclass
class Candidate:
    """An input article prepared for the index (split into sentences and chunks, with empty vectors), before the
    ingest decides whether it is new, an update or unchanged. `own_id`: the input gave its id (else a new content
    at the same file is a new version of the article read from it). `timed`: its time expressions are found
    already (`add_times`; a plain ingest finds them only for the articles it will write)."""

    item: PreparedArticle
    own_id: bool
    timed: bool = False


def prepare_record(
    raw: RawArticle, settings: Settings, count_tokens: Callable[[str], int], dimension: int, *, with_times: bool
) -> Candidate | Problem:
    """Give a read article its id, sentences and chunks (and, `with_times`, its time expressions); a Problem
    saying why when it cannot go in. Never raises: one broken article must never stop the ingest."""
    try:
        limit = settings.index.max_article_chars
        if len(raw.text) > limit:
            # Bounds the work and memory of one input: an article is held whole while it is split and embedded.
            reason = (
                f"{len(raw.text):,} characters after clean-up, over the {limit:,} limit of one article; "
                "split it into articles or raise QA_MAX_ARTICLE_CHARS"
            )
            return Problem(path=raw.origin, reason=reason)
        article = to_article(raw)
        sentences = split_article(article)
        if not sentences:
            return Problem(path=raw.origin, reason="no text left after clean-up")
        chunks = make_chunks(article.id, article.text, sentences, count_tokens, settings.index.chunk_max_tokens)
        empty = np.zeros((0, dimension), dtype=np.float32)
        item = PreparedArticle(article, sentences, chunks, empty, empty.copy())
        if with_times:
            add_times(item)
        return Candidate(item, own_id=raw.id is not None, timed=with_times)
    except Exception as exc:
        return Problem(path=raw.origin, reason=f"could not process: {exc}")
