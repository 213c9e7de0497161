"""The model being served, where it came from, and following a registry alias without a restart.

A request takes the served model once, when it starts, and keeps it to its end; a swap replaces
the whole `ServedModel` in one assignment. So during a swap no request fails or waits: old
requests finish on the old model, new ones start on the new one, and the old one is freed when
the last of its requests is answered (its batching thread ends once idle).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from toxicity_pyfunc.served.model import ToxicityModel
from toxicity_pyfunc.service.metrics import ServiceMetrics
from toxicity_pyfunc.service.model_uri import REGISTRY_URI, RUN_URI, ServingError, follows_an_alias

logger = logging.getLogger(__name__)

_WARM_UP = ["warm-up text so the first request does not pay for lazy initialisation"]


@dataclass(frozen=True)
class ServedModel:
    """A loaded model and its registry coordinates (empty where the URI has none)."""

    model: ToxicityModel
    uri: str
    name: str = ""
    version: str = ""
    alias: str = ""
    run_id: str = ""
    load_seconds: float = 0.0

    def info(self) -> dict[str, str]:
        return {
            "uri": self.uri,
            "name": self.name,
            "version": self.version,
            "alias": self.alias,
            "run_id": self.run_id,
        }


def registry_coordinates(model_uri: str) -> dict[str, str]:
    """Name, version, alias and run id of a URI; an alias is resolved to its version now."""
    match = REGISTRY_URI.match(model_uri)
    if match is None:
        run = RUN_URI.match(model_uri)
        return {"run_id": run["run_id"]} if run else {}
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    if match["alias"]:
        found = client.get_model_version_by_alias(match["name"], match["alias"])
    else:
        found = client.get_model_version(match["name"], match["version"])
    return {
        "name": match["name"],
        "version": str(found.version),
        "alias": match["alias"] or "",
        "run_id": found.run_id or "",
    }


def load_model(model_uri: str, where: dict[str, str] | None = None) -> ServedModel:
    """Load and warm the project's model; another kind of pyfunc is refused with its name.

    An alias is pinned to the version it points to now (or to `where`, when the caller has just
    resolved it), so the model loaded is the one reported.
    """
    import mlflow

    started = time.perf_counter()
    where = where if where is not None else registry_coordinates(model_uri)
    exact = f"models:/{where['name']}/{where['version']}" if where.get("name") else model_uri
    inner = mlflow.pyfunc.load_model(exact).unwrap_python_model()
    if not isinstance(inner, ToxicityModel):
        raise ServingError(f"{model_uri} is a {type(inner).__name__}, not this project's ToxicityModel")
    inner.analyze(_WARM_UP)
    return ServedModel(inner, model_uri, load_seconds=time.perf_counter() - started, **where)


class ModelSlot:
    """The one served model; read by every request, replaced whole by the follower."""

    def __init__(self, served: ServedModel, metrics: ServiceMetrics) -> None:
        self.metrics = metrics
        self.current = self._observed(served)

    def swap(self, served: ServedModel) -> None:
        self.current = self._observed(served)
        self.metrics.model_swaps.inc()

    def _observed(self, served: ServedModel) -> ServedModel:
        served.model.observe_batches(self.metrics.batch_texts.observe)
        self.metrics.serving(served.info(), served.load_seconds)
        return served


class AliasFollower:
    """Checks every `interval` seconds where the served alias points; loads and swaps when it moves.

    A version that fails to load is logged, counted in /metrics and not tried again until the
    alias moves elsewhere; the old model keeps serving. A registry that cannot be reached is
    logged and asked again at the next check.
    """

    def __init__(self, slot: ModelSlot, interval: float) -> None:
        if not follows_an_alias(slot.current.uri):
            raise ServingError(f"--follow-alias needs a models:/NAME@ALIAS URI, not {slot.current.uri}")
        self.slot, self.interval = slot, interval
        self._failed_version = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="follow-alias", daemon=True)

    def start(self) -> None:
        served = self.slot.current
        logger.info("following %s: checked every %g s", served.uri, self.interval)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def check(self) -> bool:
        """One look at the alias; True when a new version now serves."""
        served = self.slot.current
        where = registry_coordinates(served.uri)
        version = where["version"]
        if version in (served.version, self._failed_version):
            return False
        logger.info("%s moved from version %s to %s: loading it", served.uri, served.version, version)
        try:
            new = load_model(served.uri, where)
        except Exception as error:  # any failure: the old model keeps serving
            self._failed_version = version
            self.slot.metrics.model_load_failures.inc()
            logger.error(
                "version %s of %s failed to load; version %s keeps serving: %s",
                version,
                served.name,
                served.version,
                error,
            )
            return False
        self._failed_version = ""
        self.slot.swap(new)
        logger.info(
            "now serving %s version %s (run %s), loaded in %.1f s",
            new.name,
            new.version,
            new.run_id,
            new.load_seconds,
        )
        return True

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception as error:  # the registry is down or slow: ask again next time
                logger.warning("could not check %s: %s", self.slot.current.uri, error)
