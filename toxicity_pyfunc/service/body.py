"""Reading a request body within bounds, and parsing it as JSON or CSV without surprises.

The size limit holds while the body streams in (a chunked upload without Content-Length is
counted, not buffered whole). A body over the limit is read on and discarded, up to a cap, so
that the client, still sending, gets to read the 413 instead of a reset connection.
"""

from __future__ import annotations

import io
import json
import math
from typing import Any

from starlette.requests import Request


class RequestError(Exception):
    """A client error with its HTTP status and a message that names the problem."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        error_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}
        self.error_type = error_type  # Perspective's errorType, where the problem has one


async def read_body(request: Request, limit: int, drain: int) -> bytes:
    """The whole body, or a 413 once more than `limit` bytes have arrived."""
    declared = request.headers.get("content-length", "")
    too_large = declared.isdigit() and int(declared) > limit
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            too_large = True
        if too_large:
            if size > limit + drain:
                break  # stop reading; the connection is closed after the answer
            continue
        chunks.append(chunk)
    if too_large:
        shown = declared if declared.isdigit() else f"more than {limit}"
        raise RequestError(
            413, f"body of {shown} bytes; the limit is {limit}", headers={"Connection": "close"}
        )
    return b"".join(chunks)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is too large")
    return value


def parse_json(raw: bytes) -> Any:
    """Strict JSON: no NaN or Infinity, no overflowing numbers, a clear 400 for deep nesting."""
    try:
        return json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise RequestError(400, "malformed JSON: nested too deeply") from None
    except UnicodeDecodeError as error:
        raise RequestError(400, f"malformed JSON: not UTF-8 at byte {error.start}") from None
    except ValueError as error:  # JSONDecodeError included
        raise RequestError(400, f"malformed JSON: {error}") from None


def parse_csv_texts(raw: bytes, text_column: str) -> list[str]:
    """The `text` column of a CSV body; empty cells are empty texts.

    An empty body has no rows to score and answers no predictions.
    """
    import pandas as pd

    try:
        frame = pd.read_csv(
            io.BytesIO(raw), dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8"
        )
    except UnicodeDecodeError as error:
        raise RequestError(400, f"malformed CSV: not UTF-8 at byte {error.start}") from None
    except pd.errors.EmptyDataError:
        return []  # no header, no rows: nothing to score
    except (pd.errors.ParserError, ValueError) as error:
        message = str(error).strip().splitlines()[-1][:200] if str(error).strip() else type(error).__name__
        raise RequestError(400, f"malformed CSV: {message}") from None
    if text_column in frame.columns:
        return frame[text_column].tolist()
    raise RequestError(
        400, f"CSV has no '{text_column}' column; its columns are {[str(c) for c in frame.columns][:20]}"
    )


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()
