"""A closed-loop load generator: N clients, each sending one request after the other, over keep-alive.

Every answer is counted by status; latencies are kept for the accepted ones (200). Used by
`make bench` for the concurrent-client rows and the overload rows, and by the operations tests.
"""

from __future__ import annotations

import collections
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests


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
        session = requests.Session()
        sent = index
        while not stop.is_set():
            started = time.perf_counter()
            try:
                answer = session.post(url, json=bodies(sent), headers=headers, timeout=120)
                status = answer.status_code
            except requests.RequestException:
                status = 0  # the connection failed: counted, never hidden
                answer = None
            elapsed = (time.perf_counter() - started) * 1000
            sent += clients
            wait = answer.headers.get("retry-after") if answer is not None and status != 200 else None
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
