"""The answering core: question → (follow-up rewrite) → retrieve → score sentences → extract span → Answer.

`Assistant` holds the loaded encoder and index so repeated questions pay no start-up cost; `qa.answer()`
is the one-call convenience over a shared default assistant.
"""

from __future__ import annotations

import math
import re
import sys
import threading
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from pydantic import BaseModel, Field

from index.encoder import Encoder, load_encoder
from index.ingest import Ingestor
from index.ingest.progress import Progress
from index.models import Article, IndexNotFoundError, IngestReport
from index.readers.pdf_document import page_at
from index.settings import Settings
from index.storage import SentenceRef, StoreReader, TimePreference, model_stamp, open_store
from index.text.dates import TimeMention, says_its_year
from qa.cross_encoder import Reading
from qa.followup import Turn, rewrite
from qa.models import Answer, AnswerType, Citation, CitedSentence, QuestionTime, SearchFilter, Span
from qa.question import Question, analyze
from qa.reader import Reader, load_reader, reader_span, rerank
from qa.retrieve import retrieve
from qa.score import ScoredSentence, ScorerWeights, default_weights, score_sentences
from qa.spans import extract_span, speaker_of
from qa.when import (
    DEFAULT_TIME_WEIGHTS,
    as_of_date,
    asks_about_time,
    dated_window,
    fact_dates,
    newest_date,
    read_time,
    time_prior,
)

NOT_FOUND = "Not found in the corpus."
_WHO_SAID = re.compile(
    r"^\s*(?:and\s+|but\s+)?who\s+(?:said|says|told|stated|claimed|announced|reported|warned|wrote)\s+"
    r"(?:that|this|it|so)\b",
    re.I,
)
# A supporting sentence must score at least this share of the best one to be shown beside it.
_SUPPORT_RATIO = 0.5


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
        encoder: Encoder | None = None,
        weights: ScorerWeights | None = None,
        index_dir: Path | None = None,
        auto_ingest: bool = True,
        reader: Reader | bool | None = True,
        time_aware: bool = True,
    ) -> None:
        self.settings = settings or Settings()
        self.index_dir = Path(index_dir or self.settings.index_dir)
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
        if self.settings.index_dir != self.index_dir:
            self.settings = self.settings.model_copy(update={"index_dir": self.index_dir})
        ingestor = Ingestor(self.encoder, self.settings)
        if auto_ingest and ingestor.needs_upgrade():
            # An index made by an older version: re-embed the articles it stores (ids and text kept).
            print(f"qa: upgrading the index at {self.index_dir} to the current format", file=sys.stderr)
            ingestor.upgrade()
        self.reload()
        if self._store is None and auto_ingest and self.settings.corpus_dir.is_dir():
            # First use: index the bundled corpus so the assistant answers out of the box.
            self.ingest([self.settings.corpus_dir], show_progress=False)

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
    def answer(
        self,
        question: str,
        history: Sequence[str | Answer | Turn] | None = None,
        top_k: int = 3,
        search_filter: SearchFilter | None = None,
        as_of: date | str | None = None,
    ) -> Answer:
        """Answer `question` with cited sentences from the corpus, or abstain.

        `history` holds earlier turns, oldest first: their questions (str) or their `Answer`s. Follow-ups are
        rewritten into self-contained questions, returned as `understood_question`. `as_of` is the day the
        question is asked (a date or "YYYY-MM-DD"; default today): "last month" counts from it, and articles
        published after it rank last. `Answer.time` says which date was used and how the question was read.
        """
        _check_arguments(question, history, top_k, search_filter)
        day = as_of_date(as_of)
        self._follow_current()
        if search_filter is not None and search_filter.fields and not filters_on_fields(self._store):
            # Never answer from outside the filter: an index that does not keep metadata cannot apply it.
            asked = ", ".join(f"{k}={v}" for k, v in search_filter.fields.items())
            raise ValueError(f"this index cannot filter on metadata ({asked}): it does not store articles' fields")
        asked = " ".join(question.split())
        understood = rewrite(asked, history)
        parsed = analyze(understood)
        when = read_time(understood, day) if self.time_aware else QuestionTime(as_of=day)
        store = self._store
        if not parsed.terms and not parsed.numbers:
            return _abstain(asked, understood, parsed, "Ask a question with at least one content word.", when)
        if store is None or store.facts().sentences == 0:
            message = "The index holds no articles yet; add some with qa ingest."
            return _abstain(asked, understood, parsed, message, when)
        previous = _last_answer(history)
        if previous is not None and _WHO_SAID.match(asked):
            attributed = self._attribution(store, previous.sentences[0])
            if attributed:
                return Answer(
                    question=asked, understood_question=understood, answer_type=AnswerType.PERSON, found=True,
                    sentences=attributed[:top_k] if top_k > 1 else attributed[:1], time=when,
                )  # fmt: skip
        vector = self.encoder.encode([understood])[0]
        prefer = self._time_preference(when)
        found = retrieve(store, parsed, vector, search_filter=search_filter, prefer=prefer)
        ranked = score_sentences(store, parsed, vector, found, self.weights)
        priors = self._time_priors(store, ranked, when)
        if priors:
            # Which candidates the reader reads is decided with the time prior; it then adds to the final odds.
            ranked.sort(key=lambda s: -(_log_odds(s.score) + priors[s.ref]))
        if self.reader is not None and ranked:
            titles = {
                a.id: a.title
                for a in store.articles({s.article_id for s in ranked[: self.reader.config.candidates]}, text=False)
            }
            ranked = rerank(self.reader, understood, ranked, titles)
        if priors and ranked:
            # The prior reorders the candidates, counted from the one it puts first: that one keeps the reader's
            # own probability (so whether to answer at all stays the reader's call, never made surer by a date),
            # and the others move by how much better or worse their time fits.
            adjusted = {s.ref: _log_odds(s.score) + priors[s.ref] for s in ranked}
            ranked.sort(key=lambda s: -adjusted[s.ref])
            shift = priors[ranked[0].ref]
            for s in ranked:
                s.score = _probability(adjusted[s.ref] - shift)
        if not ranked or ranked[0].score < self.threshold:
            best = f" (closest sentence scored {ranked[0].score:.2f})" if ranked else ""
            message = f"{NOT_FOUND} No sentence answers this question{best}."
            return _abstain(asked, understood, parsed, message, when)
        chosen = _select(ranked, top_k, self.threshold)
        times = store.times({s.article_id for s in chosen})
        articles = {a.id: a for a in store.articles({s.article_id for s in chosen})}  # text: a PDF's page
        cited = [
            self._cite(articles[s.article_id], s, parsed, times.get(s.article_id, {}).get(s.number, [])) for s in chosen
        ]
        if parsed.answer_type == AnswerType.PERSON and cited[0].span is None:
            # '"…," he said.' answers a who-question only with the sentence that names him.
            named = self._attribution(store, cited[0])
            if named and named[0].text != cited[0].text:
                cited = [cited[0], named[0], *cited[1:]][: max(top_k, 2)]
        return Answer(
            question=asked, understood_question=understood, answer_type=parsed.answer_type, found=True,
            sentences=cited, message="", time=when,
        )  # fmt: skip

    def _time_preference(self, when: QuestionTime) -> TimePreference | None:
        """The articles of the time asked about (qa/when.py), for retrieval to prefer."""
        window = dated_window(when) if self.time_aware else None
        if window is None:
            return None
        told = (when.first.isoformat(), when.last.isoformat()) if when.first and when.last else None
        # For "in 2019", an article saying "in 2019" is BM25's to find; one saying "last year" in 2020 is not.
        literal = says_its_year(when.expression, when.first)
        return TimePreference((window[0].isoformat(), window[1].isoformat()), told, relative_only=literal)

    def _time_priors(
        self, store: StoreReader, ranked: list[ScoredSentence], when: QuestionTime
    ) -> dict[SentenceRef, float]:
        """Each candidate's time prior in log-odds (empty when time features are off)."""
        if not self.time_aware or not ranked:
            return {}
        ids = {s.article_id for s in ranked}
        dates = {a.id: a.date for a in store.articles(ids, text=False)}
        times = store.times(ids) if asks_about_time(when) else {}
        newest = newest_date(when, dates.values())
        priors = {}
        for s in ranked:
            in_article = times.get(s.article_id, {})
            others = {n: t for n, t in in_article.items() if n != s.number}
            priors[s.ref] = time_prior(
                when, dates.get(s.article_id), in_article.get(s.number, []), others, newest, self.time_weights
            )
        return priors

    @property
    def threshold(self) -> float:
        """Abstain below this probability: the reader's, fitted with its blend; the linear scorer's without it."""
        return self.reader.config.threshold if self.reader is not None else self.weights.threshold

    def span_of(self, question: str, sentence: str, title: str = "") -> Span | None:
        """The span this assistant marks in `sentence` for `question` (the reader's or the typed extractor's);
        the evaluation uses it to score spans given the annotated sentence."""
        parsed = analyze(question)
        reading = None
        if self.reader is not None:
            (reading,) = self.reader.read(question, [(title, sentence)])
        return self._span(sentence, reading, parsed)

    def _span(self, text: str, reading: Reading | None, question: Question) -> Span | None:
        """The reader's span for the answer types reader.json gives it; the typed extractor's for the others,
        and the reader's again when the typed extractor finds nothing of its type in the sentence."""
        read = reader_span(text, reading, question.answer_type) if reading is not None else None
        if read is not None and self.reader is not None and question.answer_type in self.reader.config.span_types:
            return read
        return extract_span(text, question) or read

    def _cite(
        self, article: Article, sentence: ScoredSentence, question: Question, times: Sequence[TimeMention]
    ) -> CitedSentence:
        return CitedSentence(
            text=sentence.text,
            score=round(sentence.score, 4),
            span=self._span(sentence.text, sentence.reading, question),
            citation=Citation(
                article_id=article.id,
                title=article.title,
                source=article.source,
                date=article.date,
                url=article.url,
                origin=article.origin,
                fields=dict(article.fields),
                page=page_at(article.text, sentence.start) if article.origin.lower().endswith(".pdf") else None,
                fact_dates=fact_dates(times),
                sentence_number=sentence.number,
                start=sentence.start,
                end=sentence.end,
            ),
        )

    def _attribution(self, store: StoreReader, cited: CitedSentence) -> list[CitedSentence]:
        """Who a cited sentence is attributed to: itself when it names the speaker, else the nearest earlier
        sentence of the article that does (for '"…," he said.'); the attributed sentence follows as evidence."""
        c = cited.citation
        rows = {r.number: r for r in store.article_parts(c.article_id)[0]}
        for number in range(c.sentence_number, max(c.sentence_number - 5, -1), -1):
            row = rows.get(number)
            span = speaker_of(row.text) if row is not None else None
            if row is None or span is None:
                continue
            named = CitedSentence(
                text=row.text, score=cited.score, span=span,
                citation=c.model_copy(update={"sentence_number": number, "start": row.start, "end": row.end}),
            )  # fmt: skip
            return [named] if number == c.sentence_number else [named, cited.model_copy(update={"span": None})]
        return []


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


def _select(ranked: list[ScoredSentence], top_k: int, threshold: float) -> list[ScoredSentence]:
    """The best sentence, then further ones that also clear the bar (distinct text only)."""
    chosen: list[ScoredSentence] = []
    seen: set[str] = set()
    floor = max(threshold, ranked[0].score * _SUPPORT_RATIO)
    for s in ranked:
        if len(chosen) >= top_k:
            break
        key = " ".join(s.text.lower().split())
        if key in seen or (chosen and s.score < floor):
            continue
        seen.add(key)
        chosen.append(s)
    return chosen


def _last_answer(history: Sequence[str | Answer | Turn] | None) -> Answer | None:
    """The previous turn's answer, when the history carries it and it found something."""
    last = history[-1] if history else None
    answer = last.answer if isinstance(last, Turn) else last
    return answer if isinstance(answer, Answer) and answer.found and answer.sentences else None


def _abstain(asked: str, understood: str, parsed: Question, message: str, when: QuestionTime) -> Answer:
    return Answer(
        question=asked, understood_question=understood, answer_type=parsed.answer_type, found=False,
        sentences=[], message=message, time=when,
    )  # fmt: skip


def _log_odds(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _probability(log_odds: float) -> float:
    return 1.0 / (1.0 + math.exp(-log_odds))
