"""A closed-loop load generator: N clients, each sending one request after the other, over keep-alive.

Every answer is counted by status; latencies are kept for the accepted ones (200). Used by
`make bench` for the concurrent-client rows, the overload rows and the one-text latency, and by
the operations tests. The clients speak HTTP through the standard library's `http.client`: on the
2-core machine `requests` spent about a millisecond of its own per request (proxy settings read
from the environment, header parsing), time that was counted as the server's and cores that
the server under test did not get.
"""

from __future__ import annotations

import collections
import http.client
import json
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Load:
    """What `closed_loop` saw: seconds measured, accepted latencies (ms), answers by status."""

    seconds: float
    accepted_ms: list[float] = field(default_factory=list)
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    retry_after: set[str] = field(default_factory=set)

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())

    def per_second(self, status: int = 200) -> float:
        return self.statuses[status] / self.seconds

    def percentile_ms(self, share: float) -> float:
        ordered = sorted(self.accepted_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    def summary(self) -> dict[str, float]:
        return {
            "texts_per_s": round(self.per_second(), 1),
            "p50_ms": round(statistics.median(self.accepted_ms), 2) if self.accepted_ms else float("nan"),
            "p99_ms": round(self.percentile_ms(0.99), 2),
            "refused_share": round(1 - self.statuses[200] / max(self.answered, 1), 3),
        }


class Poster:
    """POSTs JSON to one URL over one keep-alive connection, opened again when the server closes it."""

    def __init__(self, url: str, headers: dict[str, str] | None = None, timeout: float = 120.0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"{url}: the load generator speaks plain http to a host")
        self.host, self.port, self.timeout = parts.hostname, parts.port or 80, timeout
        self.path = parts.path + (f"?{parts.query}" if parts.query else "") or "/"
        self.headers = {"Content-Type": "application/json", **(headers or {})}
        self._connection: http.client.HTTPConnection | None = None

    def post(self, body: bytes) -> tuple[int, str | None]:
        """The answer's status and Retry-After header (the body is read and dropped).

        A kept-alive connection the server has dropped meanwhile (reset, closed before an
        answer) is opened again once, as `requests` does; anything else raises, a timeout or a
        fresh connection that fails included, for the caller to count."""
        reused = self._connection is not None
        try:
            return self._post(body)
        except ConnectionError:  # RemoteDisconnected, BrokenPipeError, ConnectionResetError
            self.close()
            if not reused:
                raise
            return self._post(body)
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def _post(self, body: bytes) -> tuple[int, str | None]:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        self._connection.request("POST", self.path, body=body, headers=self.headers)
        answer = self._connection.getresponse()
        answer.read()
        if answer.will_close:
            self.close()
        return answer.status, answer.getheader("retry-after")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def closed_loop(
    url: str,
    bodies: Callable[[int], dict[str, Any]],
    clients: int,
    seconds: float,
    *,
    headers: dict[str, str] | None = None,
    warm_up: float = 1.0,
    while_running: Callable[[], None] | None = None,
    honour_retry_after: bool = False,
) -> Load:
    """`clients` threads POST `bodies(i)` for `seconds` after `warm_up`; `while_running` is called
    once, from this thread, while they run (to move an alias, sample memory...). With
    `honour_retry_after` a refused client waits the seconds the server asked for, as a real
    client (Perspective's included) does, instead of asking again at once."""
    stop = threading.Event()
    measuring = threading.Event()
    load = Load(seconds)
    lock = threading.Lock()

    def client(index: int) -> None:
        poster = Poster(url, headers)
        sent = index
        while not stop.is_set():
            body = json.dumps(bodies(sent)).encode()
            started = time.perf_counter()
            try:
                status, retry_after = poster.post(body)
            except (OSError, http.client.HTTPException):
                status, retry_after = 0, None  # the connection failed: counted, never hidden
            elapsed = (time.perf_counter() - started) * 1000
            sent += clients
            wait = retry_after if status != 200 else None
            if measuring.is_set():
                with lock:
                    load.statuses[status] += 1
                    if status == 200:
                        load.accepted_ms.append(elapsed)
                    elif wait is not None:
                        load.retry_after.add(wait)
            if honour_retry_after and wait is not None:
                stop.wait(float(wait))

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(warm_up)
    measuring.set()
    started = time.perf_counter()
    if while_running is not None:
        while_running()
    time.sleep(max(0.0, seconds - (time.perf_counter() - started)))
    stop.set()
    load.seconds = time.perf_counter() - started
    for thread in threads:
        thread.join(timeout=150)
    return load
