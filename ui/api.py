"""The plain REST API beside the web chat: JSON in, JSON out, described by OpenAPI at /api/v1/openapi.json.

`api_routes(assistant, settings, access)` gives the routes `ui.app.launch` hands to the chat's server:
POST /api/v1/answer, POST /api/v1/articles, GET and DELETE /api/v1/articles/{id}, GET /api/v1/stats (all under
one FastAPI sub-application, so its error handlers answer only for the API) and GET /healthz. They call only
`qa.Assistant`'s public methods. With a sign-in set, a request must carry the chat's session cookie or HTTP
Basic credentials (the same user and password); failed Basic sign-ins count in the chat's login throttle. The
server's Host/Origin guard covers these routes like every other. Every error is `{"error": "..."}` with its
status code. Who may call: `ui.api_access`; the request and response bodies: `ui.api_bodies`.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Mount, Route

from newsqa.errors import NewsQAError
from newsqa.settings import Settings
from qa.assistant import Assistant
from qa.models import Answer, SearchFilter
from ui.api_access import ApiAccess
from ui.api_bodies import (
    ERRORS,
    AnswerRequest,
    ApiFilter,
    ArticleOut,
    ArticlesRequest,
    Health,
    IngestResult,
    Refused,
    Removed,
    SourceCount,
    Stats,
)

__all__ = ["API_PREFIX", "ApiAccess", "api_routes"]

API_PREFIX = "/api/v1"
ANSWER_WORKERS = 2  # questions answered at once, like the chat's queue
log = logging.getLogger(__name__)


def api_routes(
    assistant: Assistant, settings: Settings | None = None, access: ApiAccess | None = None
) -> list[BaseRoute]:
    """The API's routes for the chat's server: the /api/v1 application and /healthz."""
    settings = settings or assistant.settings
    access = access or ApiAccess(None)

    def signed_in(request: Request) -> None:
        access.check(request)

    guarded = [Depends(signed_in)]
    writing = threading.Lock()  # one ingest or removal at a time, like the chat's upload queue
    api = _application(guarded)
    _add_answer_route(api, assistant, guarded)
    _add_article_routes(api, assistant, settings, guarded, writing)
    _add_stats_route(api, assistant, guarded)
    _add_error_handlers(api)
    return [Mount(API_PREFIX, app=api), Route("/healthz", _healthz(assistant), methods=["GET"])]


def _application(guarded: list[Any]) -> FastAPI:
    """The /api/v1 application, with its OpenAPI document served behind the sign-in."""
    api = FastAPI(
        title="News archive QA",
        version="1",
        description="Cited answers from a news archive: exact sentences, their sources and offsets, or an honest "
        '"Not found in the corpus". With a sign-in set, send HTTP Basic credentials (or the chat\'s session cookie).',
        openapi_url=None,  # served below, behind the sign-in like every other route
        docs_url=None,
        redoc_url=None,
    )

    @api.get("/openapi.json", include_in_schema=False, dependencies=guarded)
    def openapi_document(request: Request) -> dict[str, Any]:
        # As FastAPI's own route does: name the prefix the API is mounted under as its server.
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return {**api.openapi(), "servers": [{"url": root}]} if root else api.openapi()

    return api


def _add_answer_route(api: FastAPI, assistant: Assistant, guarded: list[Any]) -> None:
    """POST /answer, at most `ANSWER_WORKERS` questions at once."""
    answering = threading.BoundedSemaphore(ANSWER_WORKERS)

    @api.post("/answer", response_model=Answer, dependencies=guarded, responses=ERRORS, summary="Answer a question")
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


def _add_article_routes(
    api: FastAPI, assistant: Assistant, settings: Settings, guarded: list[Any], writing: threading.Lock
) -> None:
    """POST /articles, GET and DELETE /articles/{id}; `writing` keeps additions and removals one at a time."""

    @api.post("/articles", response_model=IngestResult, dependencies=guarded, responses=ERRORS, summary="Add articles")
    def add_articles(body: ArticlesRequest) -> IngestResult | JSONResponse:
        """Add articles (or replace those with the same id); the next question is answered from them too.
        Responds 422 when none could be added."""
        lines = [json.dumps(a.model_dump(exclude_none=True), ensure_ascii=False) for a in body.articles]
        data = "\n".join(lines).encode("utf-8")
        if len(data) > settings.index.max_file_bytes:
            raise HTTPException(
                413, f"the articles are {len(data):,} bytes; the limit is {settings.index.max_file_bytes:,}"
            )
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
        "/articles/{article_id}", response_model=ArticleOut, dependencies=guarded, responses=ERRORS,
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
        "/articles/{article_id}", response_model=Removed, dependencies=guarded, responses=ERRORS,
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


def _add_stats_route(api: FastAPI, assistant: Assistant, guarded: list[Any]) -> None:
    """GET /stats."""

    @api.get("/stats", response_model=Stats, dependencies=guarded, responses=ERRORS, summary="What the index holds")
    def stats() -> Stats:
        """Counts, sources, the date range and the metadata fields of the index."""
        facts = assistant.stats()
        return Stats(
            articles=facts.articles, sentences=facts.sentences, chunks=facts.chunks,
            sources=[SourceCount(name=name or "", articles=n) for name, n in facts.sources],
            date_from=facts.date_from, date_to=facts.date_to, updated_at=facts.updated_at, fields=facts.fields,
            warning=facts.warning,
        )  # fmt: skip


def _add_error_handlers(api: FastAPI) -> None:
    """Every error the API answers is `{"error": "..."}` with its status code."""

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


def _healthz(assistant: Assistant) -> Callable[[Request], Awaitable[JSONResponse]]:
    """GET /healthz: 200 "ok" or "degraded" (an earlier snapshot stands in for a damaged one), 503 when the index
    cannot be read."""

    async def healthz(request: Request) -> JSONResponse:
        try:
            warning = assistant.stats().warning
        except NewsQAError as exc:
            return JSONResponse({"status": "unavailable", "error": str(exc)}, status_code=503)
        return JSONResponse(Health(status="degraded" if warning else "ok").model_dump())

    return healthz


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
