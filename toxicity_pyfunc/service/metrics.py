"""What an operator scrapes: Prometheus metrics of the requests, the scoring and the served model.

Made with prometheus-client. Under `--workers N` every worker writes its numbers to the folder
named by PROMETHEUS_MULTIPROC_DIR (set by `toxicity-serve` before any worker starts) and a scrape
of any worker answers the sum over all of them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

_LATENCY_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
MODEL_INFO_LABELS = ("name", "version", "alias", "run_id", "uri")
CONTENT_TYPE = CONTENT_TYPE_LATEST


def _shared_folder() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class ServiceMetrics:
    """Every series the server exports, on a registry of its own (one per app, so tests can build many)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.requests = Counter(
            "toxicity_requests",
            "HTTP requests answered, by route and status",
            ("route", "status"),
            registry=registry,
        )
        self.latency = Histogram(
            "toxicity_request_duration_seconds",
            "time from the request's arrival to its answer, by route",
            ("route",),
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.in_flight = Gauge(
            "toxicity_texts_in_flight",
            "texts accepted and not yet answered",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.rejected = Counter(
            "toxicity_requests_rejected",
            "requests turned away: rate_limited (429), overloaded (503 at once), timed_out (503 late)",
            ("reason",),
            registry=registry,
        )
        self.texts = Counter("toxicity_texts_scored", "texts scored", registry=registry)
        self.truncated = Counter(
            "toxicity_texts_truncated",
            "texts longer than the model's token limit, scored on their start",
            registry=registry,
        )
        self.batch_texts = Histogram(
            "toxicity_batch_texts",
            "texts per forward pass (requests merged by the coalescer)",
            buckets=_BATCH_BUCKETS,
            registry=registry,
        )
        self.model_load_seconds = Gauge(
            "toxicity_model_load_seconds",
            "how long the served model took to load",
            registry=registry,
            multiprocess_mode="max",
        )
        self.model_info = Gauge(
            "toxicity_model_info",
            "the served model (value 1; 0 for versions served before)",
            MODEL_INFO_LABELS,
            registry=registry,
            multiprocess_mode="max",
        )
        self.model_swaps = Counter(
            "toxicity_model_swaps", "times a new model version replaced the served one", registry=registry
        )
        self.model_load_failures = Counter(
            "toxicity_model_load_failures",
            "new model versions that failed to load (the old one kept serving)",
            registry=registry,
        )
        self._served: tuple[str, ...] | None = None

    def serving(self, info: Mapping[str, str], load_seconds: float) -> None:
        """Mark the model now served; the one before it drops to 0."""
        labels = tuple(info.get(name, "") for name in MODEL_INFO_LABELS)
        if self._served is not None and self._served != labels:
            self.model_info.labels(*self._served).set(0)
        self.model_info.labels(*labels).set(1)
        self.model_load_seconds.set(load_seconds)
        self._served = labels

    def exposition(self) -> bytes:
        """The text format of every series: this process's, or every worker's under --workers."""
        folder = _shared_folder()
        if folder is None:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged, path=folder)
        return generate_latest(merged)
