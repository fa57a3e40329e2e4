"""Group an article's sentences into chunks that fit the encoder's window, never splitting a sentence."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from index.models import Chunk, Sentence


def make_chunks(
    article_id: str,
    text: str,
    sentences: Sequence[Sentence],
    count_tokens: Callable[[str], int],
    max_tokens: int,
) -> list[Chunk]:
    """Greedily pack consecutive sentences into chunks of at most `max_tokens` word pieces.

    A single sentence longer than the limit becomes a chunk of its own (the encoder truncates it; BM25 and the
    sentence scorer still see all of it).
    """
    chunks: list[Chunk] = []
    group: list[Sentence] = []
    used = 0
    for sentence in sentences:
        cost = count_tokens(sentence.text)
        if group and used + cost > max_tokens:
            chunks.append(_chunk(article_id, text, len(chunks), group))
            group, used = [], 0
        group.append(sentence)
        used += cost
    if group:
        chunks.append(_chunk(article_id, text, len(chunks), group))
    return chunks


def _chunk(article_id: str, text: str, number: int, group: Sequence[Sentence]) -> Chunk:
    start, end = group[0].start, group[-1].end
    return Chunk(
        article_id=article_id,
        number=number,
        first_sentence=group[0].number,
        last_sentence=group[-1].number,
        start=start,
        end=end,
        text=text[start:end],
    )
