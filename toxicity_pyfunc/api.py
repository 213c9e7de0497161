"""One server, three contracts: MLflow's /invocations, the original /predict, and Perspective.

The app is MLflow's own scoring server (`/invocations`, `/ping`, `/health`, `/version`) with
routes added on the same loaded model. Nothing about a request is stored or logged beyond
method, path, status and duration.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from mlflow.pyfunc import PyFuncModel, scoring_server

from toxicity_pyfunc.labels import LABELS
from toxicity_pyfunc.openapi import openapi_document
from toxicity_pyfunc.webpage import DEMO_PAGE

logger = logging.getLogger(__name__)

PERSPECTIVE_ATTRIBUTES = {
    "TOXICITY": "toxicity",
    "SEVERE_TOXICITY": "severe_toxicity",
    "IDENTITY_ATTACK": "identity_attack",
    "INSULT": "insult",
    "PROFANITY": "obscene",
    "THREAT": "threat",
}
SUPPORTED_LANGUAGES = ("en",)
SCORING_PATHS = ("/invocations", "/predict", "/v1alpha1/comments:analyze")
OPEN_PATHS = ("/ping", "/health", "/version")


@dataclass(frozen=True)
class ServiceLimits:
    """Request limits; from TOXICITY_MAX_BODY_BYTES and TOXICITY_MAX_ROWS when set."""

    max_body_bytes: int = 1024 * 1024
    max_rows: int = 1024

    @classmethod
    def from_env(cls) -> ServiceLimits:
        return cls(
            max_body_bytes=int(os.environ.get("TOXICITY_MAX_BODY_BYTES", cls.max_body_bytes)),
            max_rows=int(os.environ.get("TOXICITY_MAX_ROWS", cls.max_rows)),
        )


class RequestError(Exception):
    """A client error with its HTTP status and a message that names the problem."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def api_keys_from_env() -> tuple[str, ...]:
    return tuple(key.strip() for key in os.environ.get("TOXICITY_API_KEYS", "").split(",") if key.strip())


def _json_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": status, "message": message}}, status_code=status)


class Scorer:
    """Scores texts with the served pyfunc and tells which were cut to the model's token limit."""

    def __init__(self, model: PyFuncModel) -> None:
        self.model = model
        python_model = model.unwrap_python_model()
        self._tokenizer = getattr(python_model, "_tokenizer", None)
        self._max_length = int(getattr(python_model, "_settings", {}).get("max_length", 512))
        self.thresholds: dict[str, float] = dict(getattr(python_model, "thresholds", {}))

    def flagged(self, scores: list[dict[str, float]]) -> list[list[str]]:
        """Per text, the labels scored at or above the model's threshold for them."""
        return [
            [label for label in LABELS if row[label] >= self.thresholds.get(label, 0.5)] for row in scores
        ]

    def truncated(self, texts: list[str]) -> list[bool]:
        if self._tokenizer is None or not texts:
            return [False] * len(texts)
        lengths = self._tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]
        return [len(ids) > self._max_length for ids in lengths]

    def score(self, texts: list[str]) -> list[dict[str, float]]:
        if not texts:
            return []
        frame = self.model.predict(pd.DataFrame({"text": texts}))
        return [
            {label: float(value) for label, value in row.items()}
            for row in frame[list(LABELS)].to_dict("records")
        ]


def _texts_from_predict_body(body: Any, max_rows: int) -> tuple[list[str], bool]:
    if not isinstance(body, dict):
        raise RequestError(400, "body must be a JSON object with a 'text' field")
    if "text" not in body:
        raise RequestError(400, "'text' is missing")
    value = body["text"]
    if value is None:
        raise RequestError(400, "'text' is null; send a string or a list of strings")
    if isinstance(value, str):
        return [value], False
    if not isinstance(value, list):
        raise RequestError(400, f"'text' must be a string or a list of strings, not {type(value).__name__}")
    if len(value) > max_rows:
        raise RequestError(413, f"{len(value)} texts in one request; the limit is {max_rows}")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            kind = "null" if item is None else type(item).__name__
            raise RequestError(400, f"'text'[{index}] must be a string, not {kind}")
    return value, True


# `curl -d '{"text": ...}'` sends form encoding: the original service read such bodies as JSON.
_JSON_LIKE = ("application/json", "application/x-www-form-urlencoded", "text/plain", "")


async def _json_body(request: Request) -> Any:
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type not in _JSON_LIKE and not media_type.endswith("+json"):
        raise RequestError(415, f"content type must be application/json, not {content_type!r}")
    raw = await request.body()
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RequestError(400, f"malformed JSON: {error}") from error


def _perspective_error(status: int, message: str, error_type: str) -> JSONResponse:
    status_name = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}.get(
        status, "FAILED_PRECONDITION"
    )
    detail = {"@type": "type.googleapis.com/google.commentanalyzer.v1alpha1.Error", "errorType": error_type}
    return JSONResponse(
        {"error": {"code": status, "message": message, "status": status_name, "details": [detail]}},
        status_code=status,
    )


def _parse_analyze(body: Any) -> tuple[str, dict[str, dict[str, Any]], list[str]]:
    """Validate a Perspective AnalyzeComment request; raise (message, errorType) on problems."""
    if not isinstance(body, dict):
        raise PerspectiveRequestError("Request must be a JSON object.", "INVALID_REQUEST")
    comment = body.get("comment")
    if not isinstance(comment, dict) or not isinstance(comment.get("text"), str):
        raise PerspectiveRequestError("Comment text must be a string (comment.text).", "COMMENT_EMPTY")
    requested = body.get("requestedAttributes")
    if not isinstance(requested, dict) or not requested:
        raise PerspectiveRequestError(
            "At least one requested attribute must be specified.", "NO_REQUESTED_ATTRIBUTES"
        )
    for name, options in requested.items():
        if name not in PERSPECTIVE_ATTRIBUTES:
            raise PerspectiveRequestError(f"Unknown attribute: {name}", "UNKNOWN_ATTRIBUTE")
        if options is not None and not isinstance(options, dict):
            raise PerspectiveRequestError(f"Attribute {name} options must be an object.", "INVALID_REQUEST")
        score_type = (options or {}).get("scoreType", "PROBABILITY")
        if score_type != "PROBABILITY":
            raise PerspectiveRequestError(
                f"Unsupported scoreType {score_type!r} for {name}.", "INVALID_SCORE_TYPE"
            )
        threshold = (options or {}).get("scoreThreshold")
        if threshold is not None and (not isinstance(threshold, int | float) or isinstance(threshold, bool)):
            raise PerspectiveRequestError(f"scoreThreshold of {name} must be a number.", "INVALID_REQUEST")
    languages = body.get("languages") or list(SUPPORTED_LANGUAGES)
    if not isinstance(languages, list) or not all(isinstance(code, str) for code in languages):
        raise PerspectiveRequestError("languages must be a list of language codes.", "INVALID_REQUEST")
    unsupported = [code for code in languages if code.split("-")[0].lower() not in SUPPORTED_LANGUAGES]
    if unsupported:
        first = next(iter(requested))
        raise PerspectiveRequestError(
            f"Attribute {first} does not support request languages: {', '.join(unsupported)}",
            "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
        )
    return comment["text"], {name: options or {} for name, options in requested.items()}, languages


class PerspectiveRequestError(Exception):
    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.message, self.error_type = message, error_type


def add_routes(app: FastAPI, model: PyFuncModel, limits: ServiceLimits) -> None:
    """Add /predict, the Perspective route, the demo page and the OpenAPI document."""
    scorer = Scorer(model)

    @app.post("/predict")
    async def predict(request: Request) -> Response:
        try:
            texts, as_list = _texts_from_predict_body(await _json_body(request), limits.max_rows)
        except RequestError as error:
            return _json_error(error.status, error.message)
        scores = await asyncio.to_thread(scorer.score, texts)
        truncated = await asyncio.to_thread(scorer.truncated, texts)
        flagged = scorer.flagged(scores)
        if as_list:
            return JSONResponse({"response": scores, "truncated": truncated, "flagged": flagged})
        return JSONResponse({"response": scores[0], "truncated": truncated[0], "flagged": flagged[0]})

    @app.post("/v1alpha1/comments:analyze")
    async def analyze(request: Request) -> Response:
        try:
            body = await _json_body(request)
        except RequestError as error:
            return _perspective_error(error.status, error.message, "INVALID_REQUEST")
        try:
            text, requested, languages = _parse_analyze(body)
        except PerspectiveRequestError as problem:
            return _perspective_error(400, problem.message, problem.error_type)
        scores = (await asyncio.to_thread(scorer.score, [text]))[0]
        truncated = (await asyncio.to_thread(scorer.truncated, [text]))[0]
        attribute_scores = {}
        for name, options in requested.items():
            value = scores[PERSPECTIVE_ATTRIBUTES[name]]
            if value < float(options.get("scoreThreshold", 0.0)):
                continue
            summary = {"value": value, "type": "PROBABILITY"}
            attribute_scores[name] = {
                "spanScores": [{"begin": 0, "end": len(text), "score": summary}],
                "summaryScore": summary,
            }
        answer: dict[str, Any] = {
            "attributeScores": attribute_scores,
            "languages": languages,
            "detectedLanguages": list(SUPPORTED_LANGUAGES),
        }
        if "clientToken" in body:
            answer["clientToken"] = body["clientToken"]
        if truncated:
            answer["truncated"] = True
        return JSONResponse(answer)

    @app.get("/", response_class=HTMLResponse)
    async def demo_page() -> HTMLResponse:
        return HTMLResponse(DEMO_PAGE)

    document = openapi_document()
    app.openapi = lambda: document  # type: ignore[method-assign]


def install_guards(app: FastAPI, limits: ServiceLimits, api_keys: tuple[str, ...]) -> None:
    """Body size and row limits, API keys, 404s as JSON, and an access log without secrets."""

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        path = request.url.path
        response = await _check(request, path)
        if response is None:
            try:
                response = await call_next(request)
            except Exception:  # never let one request take the server down
                logger.exception("request to %s failed", path)
                response = _json_error(500, "internal error")
        logger.info(
            "%s %s %d %.1f ms",
            request.method,
            path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    async def _check(request: Request, path: str) -> Response | None:
        if path in SCORING_PATHS:
            if api_keys:
                problem = _auth_problem(request, api_keys)
                if problem is not None:
                    return problem
            declared = request.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > limits.max_body_bytes:
                return _json_error(413, f"body of {declared} bytes; the limit is {limits.max_body_bytes}")
            body = await request.body()
            if len(body) > limits.max_body_bytes:
                return _json_error(413, f"body of {len(body)} bytes; the limit is {limits.max_body_bytes}")
            if path == "/invocations":
                return _invocations_problem(request, body, limits.max_rows)
        return None


def _auth_problem(request: Request, api_keys: tuple[str, ...]) -> Response | None:
    given = request.query_params.get("key")
    header = request.headers.get("authorization", "")
    if given is None and header.lower().startswith("bearer "):
        given = header[7:].strip()
    if not given:
        return _json_error(401, "an API key is required: ?key=KEY or 'Authorization: Bearer KEY'")
    # Compare against every key, in constant time each, so timing tells nothing.
    matches = [hmac.compare_digest(given.encode(), key.encode()) for key in api_keys]
    if not any(matches):
        return _json_error(403, "the API key is not valid")
    return None


def _invocations_problem(request: Request, body: bytes, max_rows: int) -> Response | None:
    """Row limit, and 4xx instead of 5xx for bodies MLflow's parser would choke on."""
    content_type = request.headers.get("content-type", "")
    if "json" in content_type:
        try:
            payload = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            return _json_error(400, f"malformed JSON: {error}")
        if not isinstance(payload, dict):
            return _json_error(400, 'body must be a JSON object such as {"inputs": ...}')
        rows = _count_rows(payload)
    elif "csv" in content_type:
        rows = max(body.count(b"\n") - 1, 0)
    else:
        return None  # MLflow answers unsupported content types itself (415)
    if rows > max_rows:
        return _json_error(413, f"{rows} rows in one request; the limit is {max_rows}")
    return None


def _count_rows(payload: dict[str, Any]) -> int:
    for key in ("dataframe_records", "instances"):
        if isinstance(payload.get(key), list):
            return len(payload[key])
    split = payload.get("dataframe_split")
    if isinstance(split, dict) and isinstance(split.get("data"), list):
        return len(split["data"])
    inputs = payload.get("inputs")
    if isinstance(inputs, list):
        return len(inputs)
    if isinstance(inputs, dict):
        return max((len(v) for v in inputs.values() if isinstance(v, list)), default=1)
    return 0


def build_app(
    model: PyFuncModel, limits: ServiceLimits | None = None, api_keys: tuple[str, ...] = ()
) -> FastAPI:
    """MLflow's scoring app for this model, with our routes and guards on top."""
    limits = limits or ServiceLimits()
    app = scoring_server.init(model)
    add_routes(app, model, limits)
    install_guards(app, limits, api_keys)
    if api_keys:
        logger.info("API keys required on %s (%d keys configured)", ", ".join(SCORING_PATHS), len(api_keys))
    else:
        logger.warning(
            "TOXICITY_API_KEYS is not set: the scoring routes are open to anyone who can reach them"
        )
    return app
