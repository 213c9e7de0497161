"""`toxicity-serve`: check that the model can be reached, then serve its three contracts over HTTP.

A tracking server that is down must give a clear error within seconds: MLflow's client would
retry for minutes (seven retries with exponential back-off) before `mlflow models serve` fails.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import sys

import requests

logger = logging.getLogger(__name__)

_REGISTRY_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>[^/]+))$")


class ServingError(RuntimeError):
    """The model cannot be served; the message says what to fix."""


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


def check_model(model_uri: str) -> None:
    """Resolve a registry URI once, without retries, so a typo fails now and says so."""
    match = _REGISTRY_URI.match(model_uri)
    if match is None:
        return
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    try:
        if match["alias"]:
            client.get_model_version_by_alias(match["name"], match["alias"])
        else:
            client.get_model_version(match["name"], match["version"])
    except MlflowException as error:
        raise ServingError(f"{model_uri} cannot be resolved in the registry: {error.message}") from error


def preflight(model_uri: str) -> None:
    """Check the tracking server and the registry entry once, without MLflow's retries."""
    import mlflow

    if not model_uri.startswith("models:/"):
        return
    previous = os.environ.get("MLFLOW_HTTP_REQUEST_MAX_RETRIES")
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    try:
        check_tracking_server(mlflow.get_tracking_uri())
        check_model(model_uri)
    finally:
        if previous is None:
            del os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"]
        else:
            os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = previous


def load_served_model(model_uri: str) -> object:
    """The project's model from a URI; another kind of pyfunc is refused with its name."""
    import mlflow

    from toxicity_pyfunc.served.model import ToxicityModel

    inner = mlflow.pyfunc.load_model(model_uri).unwrap_python_model()
    if not isinstance(inner, ToxicityModel):
        raise ServingError(f"{model_uri} is a {type(inner).__name__}, not this project's ToxicityModel")
    return inner


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="toxicity-serve", description="Serve a toxicity model over HTTP.", add_help=False
    )
    parser.add_argument("-m", "--model-uri", required=True)
    parser.add_argument("-h", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5001)
    parser.add_argument("--help", action="help")
    return parser.parse_args(argv)


def _stop(signum: int, _frame: object) -> None:
    """SIGTERM (what Kubernetes and `docker stop` send): leave now, and cleanly.

    While the model loads this ends the process at once; while serving, uvicorn catches the
    signal first, stops accepting, lets requests in flight finish (TOXICITY_DRAIN_SECONDS), and
    then hands the signal back here, so the process exits 0 after the drain.
    """
    logger.info("%s: stopping", signal.Signals(signum).name)
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> None:
    from toxicity_pyfunc.service.guards import configure_logging

    configure_logging()
    # Installed first: a Python that runs as PID 1 (a container without an init) ignores SIGTERM otherwise.
    signal.signal(signal.SIGTERM, _stop)
    args = parse_args(argv)
    try:
        preflight(args.model_uri)
        import uvicorn

        from toxicity_pyfunc.service.app import build_app
        from toxicity_pyfunc.service.settings import ServiceSettings

        settings = ServiceSettings()
        model = load_served_model(args.model_uri)
    except ServingError as error:
        logger.error("%s", error)
        sys.exit(2)
    from toxicity_pyfunc.service.protocol import uvicorn_settings

    app = build_app(model, settings)  # type: ignore[arg-type]
    logger.info("serving %s on http://%s:%d", args.model_uri, args.host, args.port)
    # uvicorn's access log would print query strings, and with them ?key=...: ours omits them.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        access_log=False,
        log_level="info",
        **uvicorn_settings(settings.header_timeout, settings.drain_seconds),
    )


if __name__ == "__main__":
    main()
