"""The outermost layer of the server: API keys, rate limits, security headers, request ids, the
access log and the request metrics.

It is plain ASGI, so it sees every request (unknown routes too) and every response, and it
never buffers a body. Nothing about a request reaches the log beyond its method, route, status,
duration and text count: no text, no key, no query string, no traceback with the server's paths.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.datastructures import Headers, MutableHeaders, QueryParams
from starlette.responses import JSONResponse

from toxicity_pyfunc.service.metrics import ServiceMetrics
from toxicity_pyfunc.service.overload import RateLimiter
from toxicity_pyfunc.service.settings import ServiceSettings

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("toxicity_pyfunc.access")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

PERSPECTIVE_PATH = "/v1alpha1/comments:analyze"
SCORING_PATHS = ("/invocations", "/predict", PERSPECTIVE_PATH)
METRICS_PATH = "/metrics"
KNOWN_PATHS = (*SCORING_PATHS, "/", "/demo.js", "/ping", "/health", "/version", "/openapi.json", METRICS_PATH)
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; "
        "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_PERSPECTIVE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "INVALID_ARGUMENT",
    413: "INVALID_ARGUMENT",
    415: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def error_response(
    path: str,
    status: int,
    message: str,
    *,
    error_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """`{"error": {"code", "message"}}`, or Perspective's error shape on its route."""
    error: dict[str, Any] = {"code": status, "message": message}
    if path == PERSPECTIVE_PATH:
        error["status"] = _PERSPECTIVE_STATUS.get(status, "FAILED_PRECONDITION")
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.commentanalyzer.v1alpha1.Error",
                "errorType": error_type or ("INVALID_REQUEST" if status < 500 else "INTERNAL"),
            }
        ]
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def _given_key(scope: Scope) -> str | None:
    given = QueryParams(scope.get("query_string", b"")).get("key")
    header = Headers(scope=scope).get("authorization", "")
    if given is None and header.lower().startswith("bearer "):
        given = header[7:].strip()
    return given or None


def _auth_problem(given: str | None, keys: tuple[str, ...]) -> tuple[int, str] | None:
    if not given:
        return 401, "an API key is required: ?key=KEY or 'Authorization: Bearer KEY'"
    # Compare against every key, in constant time each, so timing tells nothing.
    matches = [hmac.compare_digest(given.encode(), key.encode()) for key in keys]
    if not any(matches):
        return 403, "the API key is not valid"
    return None


def _where_it_failed(error: BaseException) -> str:
    """The failing function and line, without the server's file paths or the message."""
    trace = error.__traceback__
    while trace is not None and trace.tb_next is not None:
        trace = trace.tb_next
    if trace is None:
        return type(error).__name__
    code = trace.tb_frame.f_code
    return f"{type(error).__name__} in {code.co_name}, line {trace.tb_lineno}"


class Edge:
    """API keys and rate limits on the scoring routes (and /metrics unless it is open), security
    headers and request ids on every answer, one access-log line and the metrics per request."""

    def __init__(self, app: App, settings: ServiceSettings, metrics: ServiceMetrics) -> None:
        self.app, self.keys, self.metrics = app, settings.keys, metrics
        self.guarded = SCORING_PATHS if settings.metrics_open else (*SCORING_PATHS, METRICS_PATH)
        self.limiter = RateLimiter(settings.rate_limit) if settings.rate_limit else None

    def _refusal(self, scope: Scope, path: str) -> tuple[int, str, dict[str, str] | None] | None:
        """Why this request stops here (status, message, headers), or None."""
        given = _given_key(scope) if self.keys else None
        if self.keys and path in self.guarded:
            problem = _auth_problem(given, self.keys)
            if problem is not None:
                return (*problem, None)
        if self.limiter is not None and path in SCORING_PATHS:
            client = scope.get("client") or ("unknown", 0)
            # Keyed by the key itself when keys are set (it is valid by now), else by address.
            wait = self.limiter.retry_after(given or f"address:{client[0]}")
            if wait is not None:
                self.metrics.rejected.labels("rate_limited").inc()
                return (
                    429,
                    f"over the rate limit of {self.limiter.rate}; retry after {wait} s",
                    {"Retry-After": str(wait)},
                )
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path = scope["path"]
        sent = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        request_id = sent if _REQUEST_ID.match(sent) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = {"code": 0}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                headers[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            refusal = self._refusal(scope, path)
            if refusal is not None:
                code, message, headers = refusal
                await error_response(path, code, message, headers=headers)(scope, receive, send_with_headers)
            else:
                await self.app(scope, receive, send_with_headers)
        except Exception as error:  # one request never takes the server down, nor leaks its insides
            logger.error("%s %s failed: %s", scope["method"], path, _where_it_failed(error))
            if status["code"] == 0:
                await error_response(path, 500, "internal error")(scope, receive, send_with_headers)
        finally:
            seconds = time.perf_counter() - started
            route = path if path in KNOWN_PATHS else "-"
            record = {
                "request_id": request_id,
                "method": scope["method"],
                "route": route,
                "status": status["code"] or 500,
                "ms": round(seconds * 1000, 1),
                "texts": state.get("texts", 0),
            }
            access_logger.info("%s", json.dumps(record))
            self.metrics.requests.labels(route, str(record["status"])).inc()
            self.metrics.latency.labels(route).observe(seconds)


def configure_logging(level: str = "INFO") -> None:
    """Plain lines for the server's own messages; the access log as one JSON object per line."""
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access_logger.handlers = [handler]
    access_logger.propagate = False
