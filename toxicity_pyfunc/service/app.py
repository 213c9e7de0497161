"""One server, three contracts on the served model: MLflow's /invocations, /predict, Perspective.

Every body is read within its limits, parsed strictly and validated by the pydantic models of
`schemas`; a request that would pass the texts-in-flight bound is refused at once; the model
runs off the event loop through the `Runner`; every error is JSON that says what is wrong and
where. Nothing about a request is stored. The model is read from the `ModelSlot` once per
request, so a new champion swapped in by the alias follower never changes a request midway.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import mlflow
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from toxicity_pyfunc import __version__
from toxicity_pyfunc.served.labels import LABELS, TEXT_COLUMN
from toxicity_pyfunc.served.model import Scored, ToxicityModel
from toxicity_pyfunc.service.body import RequestError, media_type, parse_csv_texts, parse_json, read_body
from toxicity_pyfunc.service.champion import AliasFollower, ModelSlot
from toxicity_pyfunc.service.guards import METRICS_PATH, PERSPECTIVE_PATH, Edge, error_response
from toxicity_pyfunc.service.metrics import CONTENT_TYPE
from toxicity_pyfunc.service.openapi import document_request_bodies
from toxicity_pyfunc.service.overload import Admission, texts_in_flight_bound
from toxicity_pyfunc.service.page import DEMO_PAGE, DEMO_SCRIPT
from toxicity_pyfunc.service.perspective import analyze_answer
from toxicity_pyfunc.service.runner import Runner
from toxicity_pyfunc.service.schemas import (
    AnalyzeRequest,
    AnalyzeResponse,
    ErrorBody,
    InvocationsRequest,
    InvocationsResponse,
    PerspectiveErrorBody,
    PredictRequest,
    PredictResponse,
    explain,
)
from toxicity_pyfunc.service.settings import ServiceSettings

logger = logging.getLogger(__name__)

# `curl -d '{"text": ...}'` sends form encoding: the original service read such bodies as JSON.
_JSON_LIKE = ("application/json", "application/x-www-form-urlencoded", "text/plain", "")
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (400, "the body is malformed or a field is wrong; the message names it"),
        (401, "an API key is required"),
        (403, "the API key is not valid"),
        (413, "the body or the number of texts is over the limit"),
        (415, "the content type is not supported"),
        (429, "over the rate limit of the API key; retry after the Retry-After seconds"),
        (
            503,
            "the server is at its bound of texts in flight, or the request took longer than its "
            "limit; retry after the Retry-After seconds",
        ),
    )
}


def _validate(model: type[BaseModel], payload: Any) -> Any:
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        kind, message = explain(error)
        raise RequestError(400, message, error_type=kind if kind.isupper() else None) from None


def _check_rows(texts: list[str], limit: int) -> None:
    if len(texts) > limit:
        raise RequestError(413, f"{len(texts)} texts in one request; the limit is {limit}")


def _scores(row: Any) -> dict[str, float]:
    return {label: float(value) for label, value in zip(LABELS, row, strict=True)}


def build_app(
    slot: ModelSlot, settings: ServiceSettings | None = None, follower: AliasFollower | None = None
) -> Any:
    """The FastAPI app for the served model, wrapped in the edge guard (keys, limits, headers,
    access log, metrics); `follower`, if given, runs while the app does."""
    settings = settings or ServiceSettings()
    runner = Runner(settings.request_timeout)
    admission = Admission(texts_in_flight_bound(settings.max_texts_in_flight, slot.current.model.runtime))
    metrics = slot.metrics

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if follower is not None:
            follower.start()
        yield
        if follower is not None:
            follower.stop()
        runner.close()

    app = FastAPI(
        title="Toxicity classification service",
        version=__version__,
        description=(
            "Six probabilities per text. Empty or whitespace-only text scores 0 everywhere. Texts longer "
            "than the model's token limit are truncated; /predict and the Perspective route say so. "
            "With TOXICITY_API_KEYS set, the scoring routes need ?key= or a Bearer token."
        ),
        docs_url=None,  # Swagger UI would load from a CDN, which a closed network cannot reach
        redoc_url=None,
        redirect_slashes=False,  # never redirect to the Host a client claims
        lifespan=lifespan,
    )

    async def body_of(request: Request) -> bytes:
        return await read_body(request, settings.max_body_bytes, settings.drain_bytes)

    async def scored(request: Request, texts: list[str], spans: bool = False) -> tuple[ToxicityModel, Scored]:
        """The scores of `texts` and the model that gave them (the same one from start to end)."""
        _check_rows(texts, settings.max_rows)
        count = len(texts)
        request.state.texts = count
        if not admission.enter(count):
            metrics.rejected.labels("overloaded").inc()
            raise RequestError(
                503,
                f"the server is at its bound of {admission.limit} texts in flight; retry after 1 s",
                headers={"Retry-After": "1"},
            )
        model = slot.current.model
        metrics.in_flight.inc(count)
        try:
            result = await runner.analyze(request, model, texts, spans=spans)
        except RequestError as error:
            if error.status == 503:
                metrics.rejected.labels("timed_out").inc()
            raise
        finally:
            admission.leave(count)
            metrics.in_flight.dec(count)
        metrics.texts.inc(count)
        metrics.truncated.inc(sum(result.truncated))
        return model, result

    async def json_payload(request: Request) -> Any:
        if media_type(request) not in _JSON_LIKE and not media_type(request).endswith("+json"):
            raise RequestError(415, f"content type must be application/json, not {media_type(request)!r}")
        return parse_json(await body_of(request))

    @app.post(
        "/predict",
        response_model=PredictResponse,
        responses=_ERRORS,
        summary='The original service: {"text": ...} in, {"response": scores} out',
    )
    async def predict(request: Request) -> Response:
        payload = await json_payload(request)
        if not isinstance(payload, dict):
            raise RequestError(400, "body must be a JSON object with a 'text' field")
        body: PredictRequest = _validate(PredictRequest, payload)
        texts = [body.text] if isinstance(body.text, str) else body.text
        model, result = await scored(request, texts, spans=body.spans)
        answer: dict[str, list[Any]] = {
            "response": [_scores(row) for row in result.scores],
            "truncated": result.truncated,
            "flagged": model.flagged(result.scores),
        }
        if result.spans is not None:
            answer["spans"] = [[span.as_dict() for span in found] for found in result.spans]
        if isinstance(body.text, str):
            return JSONResponse({key: value[0] for key, value in answer.items()})
        return JSONResponse(answer)

    @app.post(
        "/invocations",
        response_model=InvocationsResponse,
        responses=_ERRORS,
        summary="MLflow's scoring protocol: JSON forms or CSV with a text column",
    )
    async def invocations(request: Request) -> Response:
        kind = media_type(request)
        spans = False
        if kind in ("application/json",) or kind.endswith("+json"):
            body: InvocationsRequest = _validate(InvocationsRequest, parse_json(await body_of(request)))
            texts, spans = body.texts(), body.spans()
        elif kind == "text/csv":
            texts = parse_csv_texts(await body_of(request), TEXT_COLUMN)
        else:
            shown = f"{kind!r}" if kind else "none"
            raise RequestError(
                415,
                f"content type must be application/json or text/csv (a '{TEXT_COLUMN}' column); got {shown}",
            )
        _model, result = await scored(request, texts, spans=spans)
        rows = [_scores(row) for row in result.scores]
        if result.spans is not None:
            for row, found in zip(rows, result.spans, strict=True):
                row["spans"] = [span.as_dict() for span in found]  # type: ignore[assignment]
        return JSONResponse({"predictions": rows})

    @app.post(
        PERSPECTIVE_PATH,
        response_model=AnalyzeResponse,
        responses={
            status: {"model": PerspectiveErrorBody, "description": spec["description"]}
            for status, spec in _ERRORS.items()
        },
        summary="Perspective API AnalyzeComment: a Perspective client changes only its base URL",
    )
    async def analyze(request: Request) -> Response:
        body: AnalyzeRequest = _validate(AnalyzeRequest, await json_payload(request))
        _model, result = await scored(request, [body.comment.text], spans=bool(body.spanAnnotations))
        return JSONResponse(analyze_answer(body, result))

    @app.api_route("/ping", methods=["GET", "HEAD"], summary="liveness", response_class=PlainTextResponse)
    async def ping() -> Response:
        return PlainTextResponse("\n")

    @app.api_route("/health", methods=["GET", "HEAD"], summary="liveness", response_class=PlainTextResponse)
    async def health() -> Response:
        return PlainTextResponse("\n")

    @app.get("/version", summary="the versions of this service and MLflow, and the served model")
    async def version() -> Response:
        served = slot.current.info()
        return JSONResponse({"service": __version__, "mlflow": mlflow.__version__, "model": served})

    @app.get(
        METRICS_PATH,
        summary="Prometheus metrics (behind the API keys unless TOXICITY_METRICS_OPEN=1)",
        response_class=PlainTextResponse,
    )
    async def prometheus_metrics() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def demo_page() -> Response:
        return HTMLResponse(DEMO_PAGE)

    @app.get("/demo.js", include_in_schema=False)
    async def demo_script() -> Response:
        return Response(DEMO_SCRIPT, media_type="text/javascript")

    @app.exception_handler(RequestError)
    async def request_error(request: Request, error: RequestError) -> Response:
        return error_response(
            request.url.path, error.status, error.message, error_type=error.error_type, headers=error.headers
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        message = {404: "no such route", 405: f"method {request.method} is not allowed here"}.get(
            error.status_code, str(error.detail)
        )
        return error_response(request.url.path, error.status_code, message, headers=dict(error.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        return error_response(request.url.path, 400, "the request is not valid")

    document_request_bodies(
        app,
        {
            "/predict": (PredictRequest, False),
            "/invocations": (InvocationsRequest, True),
            PERSPECTIVE_PATH: (AnalyzeRequest, False),
        },
    )
    if settings.keys:
        logger.info("API keys required on the scoring routes (%d keys configured)", len(settings.keys))
    else:
        logger.warning(
            "TOXICITY_API_KEYS is not set: the scoring routes are open to anyone who can reach them"
        )
    return Edge(app, settings, metrics)
