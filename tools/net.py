"""Starting servers: a free port, waiting until a process answers, and the commands that serve a model."""

from __future__ import annotations

import socket
import subprocess
import time

import requests


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_ready(
    url: str,
    process: subprocess.Popen[bytes] | None = None,
    *,
    timeout: float = 120.0,
    ok: tuple[int, int] = (200, 200),
) -> None:
    """Poll `url` until it answers a status within `ok`; fail early, and say so, if `process` dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode} before {url} answered")
        try:
            if ok[0] <= requests.get(url, timeout=2).status_code <= ok[1]:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def mlflow_serve_command(model_uri: str, port: int, host: str = "127.0.0.1") -> list[str]:
    """MLflow's own scoring server for a model, in this environment (no new virtualenv)."""
    return [
        "mlflow",
        "models",
        "serve",
        "-m",
        model_uri,
        "--env-manager",
        "local",
        "-h",
        host,
        "-p",
        str(port),
    ]


def toxicity_serve_command(model_uri: str, port: int, host: str = "127.0.0.1") -> list[str]:
    """The project's server (three contracts) for a model."""
    return ["toxicity-serve", "-m", model_uri, "-h", host, "-p", str(port)]
