"""uvicorn's HTTP/1.1 protocol with a deadline for request headers.

uvicorn times out idle keep-alive connections but not a client that opens a connection (or starts
a request) and then sends its headers slowly or never: each such connection is held until
shutdown. Here every request's headers must be complete within `header_timeout` seconds of the
connection opening or of its previous response ending; otherwise the connection is closed.
The deadline is TOXICITY_HEADER_TIMEOUT, read in each process: under `--workers N` the class
travels to the workers by name, so it cannot carry a value set in the parent.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol


class HeaderTimeoutProtocol(H11Protocol):
    """H11Protocol that closes connections whose request headers do not arrive in time."""

    @property
    def header_timeout(self) -> float:
        return _header_timeout()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._headers_deadline: asyncio.TimerHandle | None = None
        self._arm_headers_deadline()

    def _arm_headers_deadline(self) -> None:
        self._cancel_headers_deadline()
        self._headers_deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _cancel_headers_deadline(self) -> None:
        if getattr(self, "_headers_deadline", None) is not None:
            self._headers_deadline.cancel()  # type: ignore[union-attr]
            self._headers_deadline = None

    def _waiting_for_headers(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _headers_too_slow(self) -> None:
        self._headers_deadline = None
        if self._waiting_for_headers() and not self.transport.is_closing():
            self.transport.close()

    def handle_events(self) -> None:
        super().handle_events()
        if not self._waiting_for_headers():
            self._cancel_headers_deadline()  # a request's headers are in: its own limits apply now

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_headers_deadline()  # the next request on this connection gets its own deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_headers_deadline()
        super().connection_lost(exc)


@functools.cache
def _header_timeout() -> float:
    from toxicity_pyfunc.service.settings import ServiceSettings

    return ServiceSettings().header_timeout


def uvicorn_settings(drain_seconds: float) -> dict[str, Any]:
    """uvicorn.Config keywords: our protocol, and how long SIGTERM waits for requests in flight."""
    return {"http": HeaderTimeoutProtocol, "timeout_graceful_shutdown": drain_seconds}
