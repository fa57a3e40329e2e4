"""Read the ranked candidates with the trained cross-encoder (qa/reader.py): rerank them by the blended
probability, then let the time prior settle their order; and mark the span of an answer sentence."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from index.storage import StoreReader
from qa.answering.time_prior import Priors, settle
from qa.cross_encoder import Reading
from qa.models import Span
from qa.question import Question, analyze
from qa.reader import Reader, reader_span, rerank
from qa.score import ScoredSentence
from qa.spans import extract_span


@dataclass(frozen=True)
class Read:
    """Ranked candidates → the read candidates, best first; sentence → its span.

    `reader` gives the reader (loaded on first use) or None to answer without it (the linear scorer and typed
    extractors alone).
    """

    store: StoreReader | None
    reader: Callable[[], Reader | None]

    def run(self, question: str, ranked: list[ScoredSentence], priors: Priors) -> list[ScoredSentence]:
        reader = self.reader()
        if reader is not None and ranked and self.store is not None:
            ranked = rerank(reader, question, ranked, self._titles(ranked[: reader.config.candidates]))
        settle(ranked, priors)
        return ranked

    def readings(self, reader: Reader, question: str, sentences: Sequence[ScoredSentence]) -> list[Reading]:
        """`reader`'s reading of each sentence, in the order given, as the answer path pairs it with its title."""
        return reader.read(question, [(self._titles(sentences).get(s.article_id, ""), s.text) for s in sentences])

    def _titles(self, sentences: Sequence[ScoredSentence]) -> dict[str, str]:
        assert self.store is not None
        return {a.id: a.title for a in self.store.articles({s.article_id for s in sentences}, text=False)}

    def span(self, text: str, reading: Reading | None, question: Question) -> Span | None:
        """The reader's span for the answer types reader.json gives it; the typed extractor's for the others,
        and the reader's again when the typed extractor finds nothing of its type in the sentence."""
        read = reader_span(text, reading, question.answer_type) if reading is not None else None
        reader = self.reader()
        if read is not None and reader is not None and question.answer_type in reader.config.span_types:
            return read
        return extract_span(text, question) or read

    def span_of(self, question: str, sentence: str, title: str = "") -> Span | None:
        """The span marked in `sentence` for `question`, read apart from retrieval and ranking."""
        parsed = analyze(question)
        reader = self.reader()
        reading = None
        if reader is not None:
            (reading,) = reader.read(question, [(title, sentence)])
        return self.span(sentence, reading, parsed)
