"""Turning work away early: per-key rate limits (429) and a bound on the texts in flight (503).

A server past saturation that queues everything answers everyone late; one that refuses what it
cannot start soon keeps its latency for the requests it accepts, and tells the others when to
come back (Retry-After). Both checks cost microseconds and happen before any scoring.
"""

from __future__ import annotations

import math
import os
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


def parse_rate(spec: str) -> RateLimitItem:
    """`10/second`, `100/minute`, `5 per second`...: the `limits` library's notation."""
    try:
        return parse(spec)
    except ValueError as error:
        raise ValueError(f"{spec!r} is not a rate such as '10/second' or '600/minute'") from error


class RateLimiter:
    """A moving-window quota per caller (API key, or client address when no keys are set).

    Counted in this process's memory: with --workers N each worker keeps its own window, so the
    limit a caller sees is per worker (N times the setting at most).
    """

    def __init__(self, spec: str) -> None:
        self.rate = parse_rate(spec)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def retry_after(self, caller: str) -> int | None:
        """None when the request may go on; else the whole seconds until the caller's window frees."""
        if self._limiter.hit(self.rate, caller):
            return None
        reset_at, _remaining = self._limiter.get_window_stats(self.rate, caller)
        return max(1, math.ceil(reset_at - time.time()))


GPU_TEXTS_IN_FLIGHT = 512  # a GPU scores hundreds of texts in one pass
TEXTS_PER_CORE = 8  # enough texts waiting to fill the next length-sorted CPU batch


def texts_in_flight_bound(setting: int, runtime: str) -> int:
    """The bound to use: the setting, or by default 8 texts per usable CPU core (GPU: 512).

    Measured on 2 cores with 128 clients (docs/performance.md): 16 keeps the p99 of accepted
    requests near what 16 clients see without overload (258 ms against 146 ms; 1.2 s with no
    bound) and lets 16 clients be batched without refusals; one text per core keeps it near 3x a
    lone request's (3.4x), refusing at lower concurrency.
    """
    if setting > 0:
        return setting
    if runtime.endswith("cuda"):
        return GPU_TEXTS_IN_FLIGHT
    return TEXTS_PER_CORE * len(os.sched_getaffinity(0))


class Admission:
    """At most `limit` texts accepted and unanswered; a request that would pass it is refused at once.

    A request larger than the limit is still accepted when nothing else is in flight, so every
    request the row limit allows can be served. Used from the event loop only: no lock needed.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0

    def enter(self, texts: int) -> bool:
        if self.in_flight and self.in_flight + texts > self.limit:
            return False
        self.in_flight += texts
        return True

    def leave(self, texts: int) -> None:
        self.in_flight -= texts
