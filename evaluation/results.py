"""What an evaluation run produces: one record per question and the aggregate metrics (docs/metrics.md), as
pydantic models that `evaluation.run` fills and `evaluation.report` writes out."""

from __future__ import annotations

from pydantic import BaseModel, Field

# Re-exported: evaluation.run imports the checkout's root from here.
from newsqa.paths import REPO_ROOT as REPO_ROOT

RETRIEVAL_KS = (1, 3, 5, 10, 20)


class ReturnedSentence(BaseModel):
    """One sentence `answer()` returned, as the evaluation saw it."""

    text: str
    score: float
    article_id: str
    span: str | None = None
    marked: str = Field(description="The sentence with the span in **bold**.")
    verbatim: bool = Field(description="The text is exactly the article's text at the cited offsets.")


class QuestionRecord(BaseModel):
    """Everything measured for one question."""

    id: str
    question: str
    understood_question: str
    history: list[str] = Field(default_factory=list)
    kind: str = Field(description="metrics.question_kind of the question as asked.")
    gold_type: str | None = None
    answer_type: str = Field(description="The answer type the assistant read from the question.")
    gold_answers: list[str]
    gold_article_id: str | None
    answerable: bool
    abstained: bool
    message: str = ""
    error: str | None = Field(default=None, description="An exception answer() raised (counted as abstained).")
    returned: list[ReturnedSentence] = Field(default_factory=list)
    span_text: str | None = None
    prediction: str = Field(description="What EM/F1 score: the span, else the top sentence, '' when abstained.")
    hit_rank: int | None = Field(default=None, description="1-based rank of the first returned sentence that hits.")
    hit_at_1: bool = False
    hit_at_3: bool = False
    hit_at_5: bool = False
    squad_em: float
    squad_f1: float
    em: float
    f1: float
    article_scored: bool = False
    article_rank: int | None = None
    chunk_scored: bool = False
    chunk_rank: int | None = None
    citation_correct: bool | None = None
    citations_verbatim: bool | None = None
    top_score: float | None = None
    latency_ms: float
    given_sentence: str | None = Field(
        default=None, description="SQuAD: the gold paragraph's sentence holding the (first) gold answer."
    )
    given_span: str | None = Field(default=None, description="The span answering marks in that sentence.")
    given_em: float | None = None
    given_f1: float | None = None
    given_squad_em: float | None = None
    given_squad_f1: float | None = None


class SpanScores(BaseModel):
    n: int
    squad_em: float
    squad_f1: float
    em: float
    f1: float


class RetrievalScores(BaseModel):
    n: int = Field(description="Questions scored (answerable, with a gold article or a gold chunk).")
    recall: dict[str, float] = Field(description="k → share of scored questions with a relevant item in the top k.")
    mrr: float


class CitationScores(BaseModel):
    n_scored: int = Field(description="Answered answerable questions with a gold article id.")
    correct: float = Field(description="Share of those whose top sentence is the gold article's text, verbatim.")
    n_checked: int = Field(description="Answered questions whose cited sentences were checked against the article.")
    verbatim: float = Field(description="Share of those whose every cited sentence is the article's exact text.")


class CalibrationBin(BaseModel):
    low: float
    high: float
    n: int
    mean_score: float
    hit_at_1: float


class Metrics(BaseModel):
    """Aggregate numbers over a set of question records (see docs/metrics.md)."""

    n_questions: int
    n_answerable: int
    n_unanswerable: int
    n_errors: int
    hit_at: dict[str, float] = Field(description="k → sentence hit@k over answerable questions.")
    spans: dict[str, SpanScores] = Field(description="all / answerable / unanswerable.")
    retrieval: dict[str, RetrievalScores] = Field(description="article / chunk.")
    abstention: dict[str, float]
    citation: CitationScores
    latency_ms: dict[str, float] = Field(description="p50, p95, mean, max of answer() wall time.")
    calibration: list[CalibrationBin]
    given_sentence: SpanScores | None = Field(
        default=None, description="Span EM/F1 given the sentence holding the answer (reader quality alone)."
    )


class KindScores(BaseModel):
    """The per-group breakdown row (question kind, or gold answer type)."""

    n: int
    n_answerable: int
    hit_at_1: float
    hit_at_3: float
    em: float
    f1: float
    abstained: float = Field(description="Share of the group's questions that got no answer.")


class IndexInfo(BaseModel):
    """The index the questions were asked against."""

    index_dir: str
    articles: int
    sentences: int
    chunks: int
    build_seconds: float = Field(description="Wall time of the ingest that built it (the original build if reused).")
    articles_per_second: float
    reused: bool = Field(description="True when a cached build was reused instead of ingesting again.")
    problems: int = Field(default=0, description="Inputs the ingest skipped.")
    key: str = ""


class EvalSettings(BaseModel):
    """What was run: enough to reproduce the numbers."""

    dataset: str = "custom"
    path: str | None = None
    limit: int | None = None
    seed: int = 0
    half: str = "all"
    asked_paragraphs_only: bool = False
    top_k: int = 5
    model_name: str = ""
    model_sha256: str = ""
    weights_provenance: str = ""
    weights_threshold: float | None = None
    reader: str = Field(default="", description="The reader's provenance and how it is used; empty: no reader.")
    time_aware: bool = Field(default=True, description="Time features on (False: the --no-time ablation).")
    git_commit: str | None = None
    started_at: str = ""


class EvalResult(BaseModel):
    """One evaluation run: settings, index, overall metrics, breakdowns and every question's record."""

    settings: EvalSettings
    index: IndexInfo | None = None
    metrics: Metrics
    per_kind: dict[str, KindScores]
    per_type: dict[str, KindScores] = Field(default_factory=dict, description="By the gold set's answer type.")
    subsets: dict[str, Metrics] = Field(default_factory=dict, description="E.g. SQuAD 'tune' and 'test' halves.")
    seconds: float = Field(description="Wall time of the whole question loop (answers and retrieval probes).")
    records: list[QuestionRecord]
