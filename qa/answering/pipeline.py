"""The answer path as one object: understand → retrieve → rank → read → decide and cite.

The product (`qa.assistant.Assistant`), the evaluation's retrieval probe (evaluation/records.py) and the trainers
(training/) all go through `AnswerPipeline`, so what is evaluated and trained on is what answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from index.encoder import TextEncoder
from index.storage import StoreReader
from newsqa.settings import AnsweringSettings
from qa.answering.decide import Decide, abstain, who_said
from qa.answering.rank import Rank, Ranked
from qa.answering.read import Read
from qa.answering.retrieval import Retrieval, Retrieve
from qa.answering.time_prior import TimePrior
from qa.answering.understand import Understand, Understood
from qa.followup import Turn
from qa.models import Answer, SearchFilter
from qa.reader import Reader
from qa.score import ScoredSentence, ScorerWeights
from qa.when import DEFAULT_TIME_WEIGHTS, TimeWeights


@dataclass
class Candidates:
    """A question's candidates before the decision: what was retrieved, every retrieved sentence with its features
    (retrieval order), and the ranked candidates after the time prior and the reader (best first; with a reader,
    only the sentences it read)."""

    understood: Understood
    retrieval: Retrieval
    scored: list[ScoredSentence]
    ranked: list[ScoredSentence]


def _no_reader() -> Reader | None:
    return None


@dataclass(frozen=True)
class AnswerPipeline:
    """The components of the answer path over one store, composed.

    `reader` gives the reader when it is first needed (so a question refused before reading never loads it), or
    None to answer with the linear scorer alone; `time_aware` False answers without reading the question's time;
    `settings` give the retrieval depth and may override the fitted abstention threshold.
    """

    encoder: TextEncoder
    store: StoreReader | None
    weights: ScorerWeights
    reader: Callable[[], Reader | None] = _no_reader
    time_aware: bool = True
    time_weights: TimeWeights = DEFAULT_TIME_WEIGHTS
    settings: AnsweringSettings = field(default_factory=AnsweringSettings)

    @property
    def threshold(self) -> float:
        """Abstain below this probability: the settings' threshold when one is set, else the reader's, fitted with
        its blend (qa/reader/reader.json); the linear scorer's without the reader (qa/scorer_weights.json)."""
        if self.settings.threshold is not None:
            return self.settings.threshold
        reader = self.reader()
        return reader.config.threshold if reader is not None else self.weights.threshold

    @property
    def reading(self) -> Read:
        return Read(self.store, self.reader)

    def understand(
        self, question: str, history: Sequence[str | Answer | Turn] | None = None, as_of: date | None = None
    ) -> Understood:
        return Understand(self.store, self.time_aware).run(question, history, as_of or date.today())

    def retrieve(
        self, understood: Understood, search_filter: SearchFilter | None = None, chunks: int | None = None
    ) -> Retrieval:
        """What retrieval finds for `understood`: the sentences of the best `chunks` chunks (default: the
        settings' `chunks`)."""
        chunks = self.settings.chunks if chunks is None else chunks
        retrieve = Retrieve(self._store(), self.encoder, self.settings.depth, self.time_aware)
        return retrieve.run(understood, search_filter, chunks)

    def rank(self, understood: Understood, retrieval: Retrieval) -> Ranked:
        store = self._store()
        return Rank(store, self.weights, TimePrior(store, self.time_aware, self.time_weights)).run(
            understood, retrieval
        )

    def candidates(
        self, understood: Understood, search_filter: SearchFilter | None = None, chunks: int | None = None
    ) -> Candidates:
        """Retrieve, rank and read: the candidates the decision chooses from."""
        retrieval = self.retrieve(understood, search_filter, chunks)
        ranked = self.rank(understood, retrieval)
        read = self.reading.run(understood.text, ranked.best_first, ranked.priors)
        return Candidates(understood, retrieval, ranked.in_retrieval_order, read)

    def answer(
        self,
        question: str,
        history: Sequence[str | Answer | Turn] | None,
        top_k: int,
        search_filter: SearchFilter | None,
        as_of: date,
    ) -> Answer:
        """The whole path: the cited answer to `question`, or why there is none."""
        understood = self.understand(question, history, as_of)
        if not understood.question.terms and not understood.question.numbers:
            return abstain(understood, "Ask a question with at least one content word.")
        store = self.store
        if store is None or store.facts().sentences == 0:
            return abstain(understood, "The index holds no articles yet; add some with qa ingest.")
        attributed = who_said(store, understood, history, top_k)
        if attributed is not None:
            return attributed
        ranked = self.candidates(understood, search_filter).ranked
        return Decide(store, self.reading, self.threshold).run(understood, ranked, top_k)

    def _store(self) -> StoreReader:
        if self.store is None:
            raise ValueError("no index is loaded; add articles with qa ingest")
        return self.store
