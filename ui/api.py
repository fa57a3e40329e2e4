"""The plain REST API beside the web chat: JSON in, JSON out, described by OpenAPI at /api/v1/openapi.json.

`api_routes(assistant, settings, access)` gives the routes `ui.app.launch` hands to the chat's server:
POST /api/v1/answer, POST /api/v1/articles, GET and DELETE /api/v1/articles/{id}, GET /api/v1/stats (all under
one FastAPI sub-application, so its error handlers answer only for the API) and GET /healthz. They call only
`qa.Assistant`'s public methods. With a sign-in set, a request must carry the chat's session cookie or HTTP
Basic credentials (the same user and password); failed Basic sign-ins count in the chat's login throttle. The
server's Host/Origin guard covers these routes like every other. Every error is `{"error": "..."}` with its
status code.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import math
import tempfile
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Mount, Route

from index.settings import Settings
from newsqa.errors import NewsQAError
from qa.assistant import Assistant
from qa.models import Answer, SearchFilter
from ui.arguments import MAX_QUESTION_CHARS, MAX_TOP_K  # the chat's limits, so every way in takes the same
from ui.guard import LoginThrottle

__all__ = ["API_PREFIX", "ApiAccess", "api_routes"]

API_PREFIX = "/api/v1"
MAX_HISTORY_TURNS = 50
MAX_RECORDS = 1000  # articles per POST /api/v1/articles
ANSWER_WORKERS = 2  # questions answered at once, like the chat's queue
log = logging.getLogger(__name__)


class ApiAccess:
    """Who may call the API: anyone without a sign-in; with one, the chat's signed-in session (cookie) or HTTP
    Basic credentials. `session_user(request)` reads the chat's cookie; it is set once the server runs."""

    def __init__(self, auth: tuple[str, str] | None, throttle: LoginThrottle | None = None) -> None:
        self.auth = auth
        self.throttle = throttle
        self.session_user: Callable[[Request], str | None] = lambda request: None

    def check(self, request: Request) -> None:
        """Raise 401 (or 429 while the client's IP is cooling down) unless the request may go on."""
        if self.auth is None or self.session_user(request) is not None:
            return
        ip = request.client.host if request.client else "unknown"
        if self.throttle is not None and (wait := self.throttle.retry_after(ip)) > 0:
            seconds = math.ceil(wait)
            raise HTTPException(
                429, f"too many failed sign-ins; try again in {seconds} s", {"Retry-After": str(seconds)}
            )
        given = _basic_credentials(request.headers.get("authorization", ""))
        if given is None:
            raise HTTPException(401, "sign in: send HTTP Basic credentials (the chat's user and password)", _CHALLENGE)
        user_ok = hmac.compare_digest(given[0].encode(), self.auth[0].encode())
        password_ok = hmac.compare_digest(given[1].encode(), self.auth[1].encode())
        if not (user_ok and password_ok):
            if self.throttle is not None:
                self.throttle.failed(ip)
            raise HTTPException(401, "wrong user name or password", _CHALLENGE)
        if self.throttle is not None:
            self.throttle.succeeded(ip)


_CHALLENGE = {"WWW-Authenticate": 'Basic realm="news archive", charset="UTF-8"'}


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


# --- the request and response bodies (their descriptions are the OpenAPI document's) ----------------------------
class ApiFilter(BaseModel):
    """Which articles may answer."""

    model_config = ConfigDict(extra="forbid")

    sources: list[str] | None = Field(
        default=None, description='Only articles from these sources, e.g. ["Khmer Times"]; empty or absent: all.'
    )
    date_from: str | None = Field(default=None, description="Only articles dated on or after this day (YYYY-MM-DD).")
    date_to: str | None = Field(default=None, description="Only articles dated on or before this day (YYYY-MM-DD).")
    fields: dict[str, str] | None = Field(
        default=None,
        description='Only articles whose metadata has these values, e.g. {"category": "business"} (needs an index '
        "that stores articles' fields).",
    )


class AnswerRequest(BaseModel):
    """A question, with the conversation so far."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(
        min_length=1, max_length=MAX_QUESTION_CHARS, description="The question as a user would type it."
    )
    history: list[str | Answer] = Field(
        default_factory=list,
        max_length=MAX_HISTORY_TURNS,
        description="Earlier turns, oldest first: their questions (strings) or the answers this API returned for "
        'them. Follow-ups such as "and in 2018?" are understood from them.',
    )
    top_k: int = Field(default=3, ge=1, le=MAX_TOP_K, description="At most this many sentences in the answer.")
    as_of: str | None = Field(
        default=None,
        description='The day the question is asked as of (YYYY-MM-DD): "last month" counts from it and articles '
        "published after it rank last. Absent: today.",
    )
    filters: ApiFilter | None = Field(default=None, description="Which articles may answer; absent: all.")


class ArticleIn(BaseModel):
    """An article to add, as a JSONL feed would give it. Other scalar fields are kept as the article's metadata
    where the index keeps them."""

    model_config = ConfigDict(extra="allow")

    text: str = Field(min_length=1, description="The article's body (plain text; paragraphs separated by blank lines).")
    id: str | None = Field(default=None, description="Its id; absent: a hash of its content. The same id replaces.")
    title: str | None = Field(default=None, description="The title.")
    source: str | None = Field(default=None, description="The publication.")
    date: str | None = Field(default=None, description="The publication date (YYYY-MM-DD, or a date in words).")
    url: str | None = Field(default=None, description="Where it was published.")
    author: str | None = Field(default=None, description="Who wrote it.")


class ArticlesRequest(BaseModel):
    """Articles to add to the index."""

    model_config = ConfigDict(extra="forbid")

    articles: list[ArticleIn] = Field(
        min_length=1, max_length=MAX_RECORDS, description=f"The articles (1 to {MAX_RECORDS} per request)."
    )


class Refused(BaseModel):
    """An article that could not be added, and why."""

    record: int | None = Field(description="Its position in `articles`, counted from 1.")
    reason: str = Field(description="What was wrong with it.")


class IngestResult(BaseModel):
    """What adding the articles did."""

    added: list[str] = Field(description="Ids of the articles new to the index.")
    updated: list[str] = Field(description="Ids of articles whose earlier version was replaced.")
    unchanged: list[str] = Field(description="Ids of articles already indexed as they are.")
    refused: list[Refused] = Field(description="Articles that could not be added, each with the reason.")
    seconds: float = Field(description="How long adding them took.")


class ArticleOut(BaseModel):
    """An article as indexed: the cleaned text that citations' offsets point into, and its metadata."""

    id: str = Field(description="The article's id.")
    title: str = Field(description="Its title.")
    text: str = Field(description="The cleaned text; citations' start/end offsets point into it.")
    source: str | None = Field(description="The publication, when known.")
    date: str | None = Field(description="The publication date (YYYY-MM-DD), when known.")
    url: str | None = Field(description="Where it was published, when known.")
    author: str | None = Field(description="Who wrote it, when known.")
    origin: str = Field(description="The file (and line) it was read from, without the server's folders.")
    fields: dict[str, str] = Field(description="Its other metadata: category, section, tags, language…")


class Removed(BaseModel):
    """What a removal did."""

    removed: list[str] = Field(description="Ids of the articles removed.")


class SourceCount(BaseModel):
    """A source and how many articles it has."""

    name: str = Field(description='The source ("" for articles without one).')
    articles: int = Field(description="How many articles of the index it has.")


class Stats(BaseModel):
    """What the index holds."""

    articles: int = Field(description="Articles in the index.")
    sentences: int = Field(description="Sentences in the index.")
    chunks: int = Field(description="Passages the retrieval searches (runs of whole sentences).")
    sources: list[SourceCount] = Field(description="Sources, most articles first.")
    date_from: str | None = Field(description="Date of the oldest dated article.")
    date_to: str | None = Field(description="Date of the newest dated article.")
    updated_at: str = Field(description="When the index last changed (ISO time).")
    fields: dict[str, list[str]] = Field(
        default_factory=dict,
        description="The metadata fields the articles hold (what filters.fields can name), each with a few of its "
        'values, most common first, e.g. {"category": ["business", "sport"]}.',
    )
    warning: str | None = Field(description="Set when a damaged index is being served from an earlier snapshot.")


class Health(BaseModel):
    """Whether the server answers."""

    status: str = Field(description='"ok", or "degraded" when an earlier snapshot stands in for a damaged one.')


class ApiError(BaseModel):
    """Every error the API answers."""

    error: str = Field(description="What went wrong, in words a user can act on.")


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ApiError, "description": text}
    for code, text in (
        (400, "The request is malformed."),
        (401, "A sign-in is required."),
        (403, "The Host or Origin is not one this server serves."),
        (422, "A field is missing or has a wrong value."),
        (429, "Too many failed sign-ins from this address."),
        (503, "The index cannot be read."),
    )
}


def api_routes(
    assistant: Assistant, settings: Settings | None = None, access: ApiAccess | None = None
) -> list[BaseRoute]:
    """The API's routes for the chat's server: the /api/v1 application and /healthz."""
    settings = settings or assistant.settings
    access = access or ApiAccess(None)
    answering = threading.BoundedSemaphore(ANSWER_WORKERS)
    writing = threading.Lock()  # one ingest or removal at a time, like the chat's upload queue

    api = FastAPI(
        title="News archive QA",
        version="1",
        description="Cited answers from a news archive: exact sentences, their sources and offsets, or an honest "
        '"Not found in the corpus". With a sign-in set, send HTTP Basic credentials (or the chat\'s session cookie).',
        openapi_url=None,  # served below, behind the sign-in like every other route
        docs_url=None,
        redoc_url=None,
    )

    def signed_in(request: Request) -> None:
        access.check(request)

    guarded = [Depends(signed_in)]

    @api.get("/openapi.json", include_in_schema=False, dependencies=guarded)
    def openapi_document(request: Request) -> dict[str, Any]:
        # As FastAPI's own route does: name the prefix the API is mounted under as its server.
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return {**api.openapi(), "servers": [{"url": root}]} if root else api.openapi()

    @api.post("/answer", response_model=Answer, dependencies=guarded, responses=_ERRORS, summary="Answer a question")
    def answer(body: AnswerRequest) -> dict[str, Any]:
        """Answer a question from the corpus: cited sentences with the answer marked, or found=false."""
        narrowed = _search_filter(body.filters)
        with answering:
            try:
                result = assistant.answer(
                    body.question, history=body.history or None, top_k=body.top_k, search_filter=narrowed,
                    as_of=body.as_of,
                )  # fmt: skip
            except ValueError as exc:  # an as_of that is not a date, say
                raise HTTPException(422, str(exc)) from None
        return public_answer(result)

    @api.post("/articles", response_model=IngestResult, dependencies=guarded, responses=_ERRORS, summary="Add articles")
    def add_articles(body: ArticlesRequest) -> IngestResult | JSONResponse:
        """Add articles (or replace those with the same id); the next question is answered from them too.
        Responds 422 when none could be added."""
        lines = [json.dumps(a.model_dump(exclude_none=True), ensure_ascii=False) for a in body.articles]
        data = "\n".join(lines).encode("utf-8")
        if len(data) > settings.max_file_bytes:
            raise HTTPException(413, f"the articles are {len(data):,} bytes; the limit is {settings.max_file_bytes:,}")
        with writing, tempfile.TemporaryDirectory(prefix="qa-api-") as folder:
            feed = Path(folder) / "articles.jsonl"  # read by the same reader as a file, so the same checks apply
            feed.write_bytes(data)
            report = assistant.ingest([feed], show_progress=False)
        result = IngestResult(
            added=report.added, updated=report.updated, unchanged=report.unchanged, seconds=round(report.seconds, 3),
            refused=[Refused(record=p.line, reason=p.reason) for p in report.problems],
        )  # fmt: skip
        if not (report.added or report.updated or report.unchanged):
            return JSONResponse(result.model_dump(), status_code=422)
        return result

    @api.get(
        "/articles/{article_id}", response_model=ArticleOut, dependencies=guarded, responses=_ERRORS,
        summary="Read an article",
    )  # fmt: skip
    def get_article(article_id: str) -> ArticleOut:
        """The article as indexed (the text citations point into), or 404."""
        article = assistant.article(article_id)
        if article is None:
            raise HTTPException(404, f"no article with id {article_id!r}")
        shown = article.model_dump(exclude={"origin", "content_hash"})
        return ArticleOut(**shown, origin=Path(article.origin).name if article.origin else "")

    @api.delete(
        "/articles/{article_id}", response_model=Removed, dependencies=guarded, responses=_ERRORS,
        summary="Remove an article",
    )  # fmt: skip
    def remove_article(article_id: str) -> Removed:
        """Remove an article from the index, or 404 when there is none with this id."""
        with writing:
            if assistant.article(article_id) is None:
                raise HTTPException(404, f"no article with id {article_id!r}")
            report = assistant.remove([article_id])
        if report.problems:
            raise HTTPException(404, "; ".join(p.reason for p in report.problems))
        return Removed(removed=[*report.updated, *report.added])

    @api.get("/stats", response_model=Stats, dependencies=guarded, responses=_ERRORS, summary="What the index holds")
    def stats() -> Stats:
        """Counts, sources, the date range and the metadata fields of the index."""
        facts = assistant.stats()
        return Stats(
            articles=facts.articles, sentences=facts.sentences, chunks=facts.chunks,
            sources=[SourceCount(name=name or "", articles=n) for name, n in facts.sources],
            date_from=facts.date_from, date_to=facts.date_to, updated_at=facts.updated_at, fields=facts.fields,
            warning=facts.warning,
        )  # fmt: skip

    @api.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @api.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": _validation_message(exc)}, status_code=422)

    @api.exception_handler(NewsQAError)  # the index's or a model's: unavailable until someone acts on the message
    async def product_error(request: Request, exc: NewsQAError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=503)

    @api.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return JSONResponse({"error": "the server failed to answer; the reason is in its log"}, status_code=500)

    @api.exception_handler(StarletteHTTPException)
    async def not_routed(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    async def healthz(request: Request) -> JSONResponse:
        try:
            warning = assistant.stats().warning
        except NewsQAError as exc:
            return JSONResponse({"status": "unavailable", "error": str(exc)}, status_code=503)
        return JSONResponse(Health(status="degraded" if warning else "ok").model_dump())

    return [Mount(API_PREFIX, app=api), Route("/healthz", healthz, methods=["GET"])]


def public_answer(answer: Answer) -> dict[str, Any]:
    """The Answer as JSON for clients: a citation's origin names its file ("feed.jsonl:12"), never a path on the
    server (the corpus folder, or the temporary folder an upload went through)."""
    data = answer.model_dump(mode="json")
    for sentence in data["sentences"]:
        citation = sentence["citation"]
        if citation.get("origin"):
            citation["origin"] = Path(citation["origin"]).name
    return data


def _search_filter(filters: ApiFilter | None) -> SearchFilter | None:
    if filters is None:
        return None
    for name in ("date_from", "date_to"):
        value = getattr(filters, name)
        if value:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise HTTPException(422, f"filters.{name}: {value!r} is not a date; write YYYY-MM-DD") from None
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise HTTPException(422, f"filters: date_from {filters.date_from} is after date_to {filters.date_to}")
    if not filters.sources and not filters.date_from and not filters.date_to and not filters.fields:
        return None
    return SearchFilter(
        sources=filters.sources or None, date_from=filters.date_from, date_to=filters.date_to,
        fields=filters.fields or None,
    )  # fmt: skip


def _validation_message(exc: RequestValidationError) -> str:
    """FastAPI's validation errors in one line: "question: String should have at least 1 character; …"."""
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        message = str(error.get("msg", "invalid"))
        if error.get("type") == "json_invalid":
            message = "the body is not valid JSON"
        elif error.get("type") == "model_attributes_type" and where == "body":
            message = "send a JSON object, with Content-Type: application/json"
        parts.append(f"{where}: {message}")
    return "; ".join(parts) or "the request body is not what this endpoint takes"
