"""make_chunks: whole sentences only, within the encoder's window, every sentence once and in order."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.encoder import Encoder
from index.ingest.chunks import make_chunks
from index.ingest.prepare import split_article
from index.models import Article, Chunk, Sentence
from index.text.clean import clean_article
from newsqa.paths import CORPUS_DIR

SEED = CORPUS_DIR / "khmer-times-sar-kheng-drug-crimes.txt"


def seed_article() -> Article:
    return Article(id="seed", text=clean_article(SEED.read_text(encoding="utf-8")).text)


def assert_chunked(
    article: Article,
    sentences: list[Sentence],
    chunks: list[Chunk],
    count_tokens: Callable[[str], int],
    max_tokens: int,
) -> None:
    assert chunks or not sentences
    assert [c.number for c in chunks] == list(range(len(chunks)))
    next_sentence = 0
    for chunk in chunks:
        assert chunk.article_id == article.id
        # Sentence-aligned: the chunk starts at its first sentence and ends at its last one.
        assert chunk.first_sentence == next_sentence, "chunks must cover every sentence, in order"
        assert chunk.first_sentence <= chunk.last_sentence
        members = sentences[chunk.first_sentence : chunk.last_sentence + 1]
        assert chunk.start == members[0].start and chunk.end == members[-1].end
        assert chunk.text == article.text[chunk.start : chunk.end]
        if len(members) > 1:
            assert sum(count_tokens(s.text) for s in members) <= max_tokens
            assert count_tokens(chunk.text) <= max_tokens
        next_sentence = chunk.last_sentence + 1
    assert next_sentence == len(sentences)


@pytest.mark.parametrize("max_tokens", [10, 40, 90, 200, 10_000])
def test_seed_article_chunks_with_the_real_tokenizer(encoder: Encoder, max_tokens: int) -> None:
    article = seed_article()
    sentences = split_article(article)
    chunks = make_chunks(article.id, article.text, sentences, encoder.count_tokens, max_tokens)
    assert_chunked(article, sentences, chunks, encoder.count_tokens, max_tokens)
    if max_tokens == 10_000:
        assert len(chunks) == 1
    if max_tokens == 10:
        # Every seed sentence is longer than ten word pieces, so each stands alone (the encoder truncates it).
        assert len(chunks) == len(sentences)
        assert all(c.first_sentence == c.last_sentence for c in chunks)


def test_default_limit_keeps_seed_chunks_inside_the_encoder_window(encoder: Encoder) -> None:
    from newsqa.settings import Settings

    limit = Settings().index.chunk_max_tokens
    assert limit <= encoder.max_tokens
    article = seed_article()
    sentences = split_article(article)
    chunks = make_chunks(article.id, article.text, sentences, encoder.count_tokens, limit)
    assert len(chunks) > 1, "the seed article is longer than one window"
    assert_chunked(article, sentences, chunks, encoder.count_tokens, limit)


def test_a_sentence_over_the_limit_is_a_chunk_of_its_own(encoder: Encoder) -> None:
    long_sentence = "The council approved " + ", ".join(f"item {i}" for i in range(80)) + "."
    text = f"Short opening. {long_sentence} Short ending."
    article = Article(id="long", text=text)
    sentences = split_article(article)
    assert [s.text for s in sentences] == ["Short opening.", long_sentence, "Short ending."]
    chunks = make_chunks(article.id, text, sentences, encoder.count_tokens, 50)
    assert [(c.first_sentence, c.last_sentence) for c in chunks] == [(0, 0), (1, 1), (2, 2)]
    assert chunks[1].text == long_sentence
    assert_chunked(article, sentences, chunks, encoder.count_tokens, 50)


def test_no_sentences_give_no_chunks() -> None:
    assert make_chunks("empty", "", [], len, 10) == []


def _word_count(text: str) -> int:
    return len(text.split())


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=25),
    st.integers(min_value=1, max_value=60),
)
def test_any_sentence_lengths_and_limit(lengths: list[int], max_tokens: int) -> None:
    text = " ".join(" ".join(["Rain"] + ["fell"] * (n - 1)) + "." for n in lengths)
    article = Article(id="a", text=text)
    sentences = split_article(article)
    assert [_word_count(s.text) for s in sentences] == lengths
    chunks = make_chunks(article.id, text, sentences, _word_count, max_tokens)
    assert_chunked(article, sentences, chunks, _word_count, max_tokens)
