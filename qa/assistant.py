"""The assistant: holds the loaded encoder, index and reader so repeated questions pay no start-up cost, keeps the
index current (ingest, remove, reload), and answers through the answer path (qa/answering/).

`qa.answer()` is the one-call convenience over a shared default assistant.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from pydantic import BaseModel, Field

from index.encoder import TextEncoder, load_encoder
from index.ingest import Ingestor
from index.ingest.progress import Progress
from index.models import Article, IndexNotFoundError, IngestReport
from index.storage import StoreReader, model_stamp, open_store
from newsqa.settings import Settings
from qa.answering import AnswerPipeline
from qa.followup import Turn
from qa.models import Answer, SearchFilter, Span
from qa.reader import Reader, load_reader
from qa.score import ScorerWeights, default_weights
from qa.when import DEFAULT_TIME_WEIGHTS, as_of_date


class CorpusStats(BaseModel):
    """What the index holds, for the CLI's `stats` and the web chat's corpus panel."""

    articles: int
    sentences: int
    chunks: int
    sources: list[tuple[str, int]]
    date_from: str | None
    date_to: str | None
    index_dir: str
    snapshot: str
    updated_at: str
    dense_index: dict[str, str]
    # Each metadata field the articles hold (category, section, …) with a few of its values, most common first.
    fields: dict[str, list[str]] = Field(default_factory=dict)
    warning: str | None = None  # the live snapshot is damaged and an earlier one is being served


class Assistant:
    """Answers questions over one index; keeps the model and index loaded between calls."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        encoder: TextEncoder | None = None,
        weights: ScorerWeights | None = None,
        index_dir: Path | None = None,
        auto_ingest: bool = True,
        reader: Reader | bool | None = True,
        time_aware: bool = True,
    ) -> None:
        self.settings = settings or Settings()
        self.index_dir = Path(index_dir or self.settings.index.index_dir)
        self.encoder = encoder or load_encoder(self.settings)
        self.weights = weights or default_weights()
        # The reader reranks the scorer's best candidates, decides abstention and marks the spans of the answer
        # types its reader.json names; False answers without it (the linear scorer and typed extractors alone,
        # an ablation). True loads it on the first question, so what never answers (qa stats, qa remove) never
        # imports torch.
        self._reader: Reader | None = None if reader is True else (reader or None)
        self._reader_pending = reader is True
        self._reader_lock = threading.Lock()
        # Read the question's time and prefer what was reported for it (qa/when.py); False is the ablation.
        self.time_aware = time_aware
        self.time_weights = DEFAULT_TIME_WEIGHTS
        self._lock = threading.Lock()
        self._store: StoreReader | None = None
        if self.settings.index.index_dir != self.index_dir:
            self.settings = self.settings.model_copy(update={"index_dir": self.index_dir})
        ingestor = Ingestor(self.encoder, self.settings)
        if auto_ingest and ingestor.needs_upgrade():
            # An index made by an older version: re-embed the articles it stores (ids and text kept).
            print(f"qa: upgrading the index at {self.index_dir} to the current format", file=sys.stderr)
            ingestor.upgrade()
        self.reload()
        if self._store is None and auto_ingest and self.settings.index.corpus_dir.is_dir():
            # First use: index the bundled corpus so the assistant answers out of the box.
            self.ingest([self.settings.index.corpus_dir], show_progress=False)

    @property
    def reader(self) -> Reader | None:
        """The cross-encoder reader (loaded on first use), or None when answering without it."""
        if self._reader_pending:
            with self._reader_lock:
                if self._reader_pending:
                    self._reader = load_reader(self.encoder)
                    self._reader_pending = False
        return self._reader

    @reader.setter
    def reader(self, reader: Reader | None) -> None:
        with self._reader_lock:
            self._reader, self._reader_pending = reader, False

    # --- index ------------------------------------------------------------------------------------
    @property
    def store(self) -> StoreReader | None:
        return self._store

    def reload(self) -> None:
        """Open the store as it is now (after another process changed the index, say). A damaged local snapshot
        is replaced by the last intact one, and `stats().warning` says so."""
        try:
            store: StoreReader | None = open_store(self.settings, model_stamp(self.encoder))
        except IndexNotFoundError:
            store = None
        with self._lock:
            previous, self._store = self._store, store  # questions in flight keep the view they started with
        del previous  # not closed here: a question in flight may still read it; it goes when the last one is done

    def _follow_current(self) -> None:
        """Reload when another process (a `qa ingest` beside a running chat) changed the index."""
        store = self._store
        if store is None or store.current_version() != store.facts().version:
            self.reload()

    def ingest(
        self,
        paths: Sequence[Path],
        *,
        show_progress: bool = True,
        on_progress: Progress | None = None,
        field_map: Mapping[str, str] | None = None,
    ) -> IngestReport:
        """Add files or folders to the index and start answering from the new snapshot. `field_map` names JSON
        fields that differ: {"title": "headline_text", "date": "published_at"}."""
        report = Ingestor(self.encoder, self.settings).ingest(
            [Path(p) for p in paths], show_progress=show_progress, on_progress=on_progress, field_map=field_map
        )
        self.reload()
        return report

    def remove(self, article_ids: Sequence[str]) -> IngestReport:
        report = Ingestor(self.encoder, self.settings).remove(article_ids)
        self.reload()
        return report

    def article(self, article_id: str) -> Article | None:
        found = self._store.articles([article_id]) if self._store else []
        return found[0] if found else None

    def stats(self) -> CorpusStats:
        store = self._store
        if store is None:
            return CorpusStats(
                articles=0, sentences=0, chunks=0, sources=[], date_from=None, date_to=None,
                index_dir=str(self.index_dir), snapshot="", updated_at="", dense_index={},
            )  # fmt: skip
        facts = store.facts()
        dense_index = facts.details.get("dense_index")
        return CorpusStats(
            articles=facts.articles, sentences=facts.sentences, chunks=facts.chunks,
            sources=facts.sources, date_from=facts.date_from, date_to=facts.date_to, index_dir=str(self.index_dir),
            snapshot=str(facts.details.get("snapshot", facts.version)), updated_at=facts.updated_at,
            dense_index=dense_index if isinstance(dense_index, dict) else {}, fields=facts.fields,
            warning=facts.warning,
        )  # fmt: skip

    # --- answering --------------------------------------------------------------------------------
    def pipeline(self) -> AnswerPipeline:
        """The answer path over the store as it is now, with this assistant's encoder, weights and reader (a
        question in flight keeps the store it started with)."""
        return AnswerPipeline(
            encoder=self.encoder, store=self._store, weights=self.weights, reader=lambda: self.reader,
            time_aware=self.time_aware, time_weights=self.time_weights, settings=self.settings.answering,
        )  # fmt: skip

    def answer(
        self,
        question: str,
        history: Sequence[str | Answer | Turn] | None = None,
        top_k: int | None = None,
        search_filter: SearchFilter | None = None,
        as_of: date | str | None = None,
    ) -> Answer:
        """Answer `question` with at most `top_k` cited sentences from the corpus (default: the answering
        settings' `top_k`, 3), or abstain.

        `history` holds earlier turns, oldest first: their questions (str) or their `Answer`s. Follow-ups are
        rewritten into self-contained questions, returned as `understood_question`. `as_of` is the day the
        question is asked (a date or "YYYY-MM-DD"; default today): "last month" counts from it, and articles
        published after it rank last. `Answer.time` says which date was used and how the question was read.
        """
        top_k = self.settings.answering.top_k if top_k is None else top_k
        _check_arguments(question, history, top_k, search_filter)
        day = as_of_date(as_of)
        self._follow_current()
        if search_filter is not None and search_filter.fields and not filters_on_fields(self._store):
            # Never answer from outside the filter: an index that does not keep metadata cannot apply it.
            asked = ", ".join(f"{k}={v}" for k, v in search_filter.fields.items())
            raise ValueError(f"this index cannot filter on metadata ({asked}): it does not store articles' fields")
        return self.pipeline().answer(question, history, top_k, search_filter, day)

    @property
    def threshold(self) -> float:
        """Abstain below this probability: the settings' threshold when one is set, else the reader's, fitted with
        its blend; the linear scorer's without the reader."""
        return self.pipeline().threshold

    def span_of(self, question: str, sentence: str, title: str = "") -> Span | None:
        """The span this assistant marks in `sentence` for `question` (the reader's or the typed extractor's);
        the evaluation uses it to score spans given the annotated sentence."""
        return self.pipeline().reading.span_of(question, sentence, title)


def filters_on_fields(store: object) -> bool:
    """Whether a loaded index can restrict a search to articles with given metadata (Filter.fields): a store
    says so with a true `filters_on_fields` attribute."""
    return bool(getattr(store, "filters_on_fields", False))


def _check_arguments(question: object, history: object, top_k: object, search_filter: object) -> None:
    """Refuse arguments of the wrong kind with a message that says what was expected (the boundary of the API)."""
    if not isinstance(question, str):
        raise TypeError(f"question must be a str, got {type(question).__name__}")
    if history is not None and (
        isinstance(history, str | bytes)
        or not isinstance(history, Sequence)
        or not all(isinstance(turn, str | Answer | Turn) for turn in history)
    ):
        raise TypeError("history must be a list of earlier questions (str) or Answers, oldest first")
    if isinstance(top_k, bool) or not isinstance(top_k, int):
        raise TypeError(f"top_k must be an int, got {type(top_k).__name__}")
    if top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}")
    if search_filter is not None and not isinstance(search_filter, SearchFilter):
        raise TypeError(f"search_filter must be a SearchFilter, got {type(search_filter).__name__}")
