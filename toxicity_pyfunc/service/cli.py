"""`toxicity-serve`: check that the model can be reached, then serve its three contracts over HTTP.

A tracking server that is down must give a clear error within seconds: MLflow's client would
retry for minutes (seven retries with exponential back-off) before `mlflow models serve` fails.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import tempfile
from typing import TYPE_CHECKING, Any

import requests

# Nothing heavy at import: SIGTERM must be handled before torch and MLflow take seconds to load.
from toxicity_pyfunc.service.model_uri import ServingError, follows_an_alias

if TYPE_CHECKING:
    from toxicity_pyfunc.service.settings import ServiceSettings

logger = logging.getLogger(__name__)

# How `--workers N` hands its arguments to the worker processes, which build their own app.
_WORKER_MODEL_URI = "TOXICITY_SERVE_MODEL_URI"
_WORKER_FOLLOW = "TOXICITY_SERVE_FOLLOW_SECONDS"
_WORKER_COUNT = "TOXICITY_SERVE_WORKERS"


def check_tracking_server(tracking_uri: str, timeout: float = 5.0) -> None:
    """Fail fast, with the URI in the message, when an HTTP tracking server does not answer."""
    if not tracking_uri.startswith(("http://", "https://")):
        return
    try:
        response = requests.get(f"{tracking_uri.rstrip('/')}/health", timeout=timeout)
    except requests.RequestException as error:
        raise ServingError(
            f"tracking server {tracking_uri} is unreachable ({error.__class__.__name__}); start it "
            f"(locally: make stack-up) or point MLFLOW_TRACKING_URI at a running one"
        ) from error
    if response.status_code >= 500:
        raise ServingError(f"tracking server {tracking_uri} answered {response.status_code} on /health")


def preflight(model_uri: str) -> None:
    """Check the tracking server and the registry entry once, without MLflow's retries."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from toxicity_pyfunc.service.champion import registry_coordinates

    if not model_uri.startswith("models:/"):
        return
    previous = os.environ.get("MLFLOW_HTTP_REQUEST_MAX_RETRIES")
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    try:
        check_tracking_server(mlflow.get_tracking_uri())
        try:
            registry_coordinates(model_uri)
        except MlflowException as error:
            raise ServingError(f"{model_uri} cannot be resolved in the registry: {error.message}") from error
    finally:
        if previous is None:
            del os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"]
        else:
            os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = previous


def make_app(model_uri: str, follow_seconds: float | None, settings: ServiceSettings) -> Any:
    """Load the model and build the app around it (in the server, or in each worker)."""
    from toxicity_pyfunc.service.app import build_app
    from toxicity_pyfunc.service.champion import AliasFollower, ModelSlot, load_model
    from toxicity_pyfunc.service.metrics import ServiceMetrics

    metrics = ServiceMetrics()
    served = load_model(model_uri)
    logger.info("loaded %s in %.1f s", model_uri, served.load_seconds)
    slot = ModelSlot(served, metrics)
    follower = AliasFollower(slot, follow_seconds) if follow_seconds else None
    return build_app(slot, settings, follower)


def worker_app() -> Any:
    """The app of one of `--workers N` processes; each loads its own copy of the model."""
    import torch

    from toxicity_pyfunc.service.guards import configure_logging
    from toxicity_pyfunc.service.settings import ServiceSettings

    configure_logging()
    workers = int(os.environ[_WORKER_COUNT])
    # The cores are shared: N workers each using every core would fight over them.
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))
    follow = os.environ.get(_WORKER_FOLLOW)
    return make_app(os.environ[_WORKER_MODEL_URI], float(follow) if follow else None, ServiceSettings())


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="toxicity-serve", description="Serve a toxicity model over HTTP.", add_help=False
    )
    parser.add_argument("-m", "--model-uri", required=True)
    parser.add_argument("-h", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5001)
    parser.add_argument(
        "--follow-alias",
        nargs="?",
        type=float,
        const=30.0,
        default=None,
        metavar="SECONDS",
        help="check the alias of a models:/NAME@ALIAS URI every SECONDS (default 30) and swap in the "
        "version it moves to, without a restart",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes, each with its own copy of the model; /metrics answers their sum",
    )
    parser.add_argument("--help", action="help")
    args = parser.parse_args(argv)
    if args.follow_alias is not None and args.follow_alias <= 0:
        parser.error("--follow-alias takes a number of seconds above 0")
    if args.follow_alias is not None and not follows_an_alias(args.model_uri):
        parser.error(f"--follow-alias needs a models:/NAME@ALIAS URI, not {args.model_uri}")
    if args.workers < 1:
        parser.error("--workers takes a number of processes of at least 1")
    return args


def _stop(signum: int, _frame: object) -> None:
    """SIGTERM (what Kubernetes and `docker stop` send): leave now, and cleanly.

    While the model loads this ends the process at once; while serving, uvicorn catches the
    signal first, stops accepting, lets requests in flight finish (TOXICITY_DRAIN_SECONDS), and
    then hands the signal back here, so the process exits 0 after the drain.
    """
    logger.info("%s: stopping", signal.Signals(signum).name)
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> None:
    # Installed first: a Python that runs as PID 1 (a container without an init) ignores SIGTERM otherwise.
    signal.signal(signal.SIGTERM, _stop)
    from toxicity_pyfunc.service.guards import configure_logging

    configure_logging()
    args = parse_args(argv)
    try:
        from toxicity_pyfunc.service.settings import ServiceSettings

        settings = ServiceSettings()
        preflight(args.model_uri)
        app: Any = None
        if args.workers == 1:
            app = make_app(args.model_uri, args.follow_alias, settings)
    except ServingError as error:
        logger.error("%s", error)
        sys.exit(2)
    import uvicorn

    from toxicity_pyfunc.service.protocol import uvicorn_settings

    if args.workers > 1:
        os.environ[_WORKER_MODEL_URI] = args.model_uri
        os.environ[_WORKER_COUNT] = str(args.workers)
        if args.follow_alias:
            os.environ[_WORKER_FOLLOW] = str(args.follow_alias)
        # Every worker writes its metrics here; a scrape of any worker sums them all.
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="toxicity-metrics-"))
        app = "toxicity_pyfunc.service.cli:worker_app"
    logger.info(
        "serving %s on http://%s:%d (%d worker(s))", args.model_uri, args.host, args.port, args.workers
    )
    # uvicorn's access log would print query strings, and with them ?key=...: ours omits them.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        access_log=False,
        log_level="info",
        factory=args.workers > 1,
        workers=args.workers,
        **uvicorn_settings(settings.drain_seconds),
    )


if __name__ == "__main__":
    main()
