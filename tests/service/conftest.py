"""Servers for the service tests: the MiniLM champion served by a real `toxicity-serve` process."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tools.net import free_port, toxicity_serve_command, wait_until_ready
from toxicity_pyfunc.jobs.config import RegisterConfig
from toxicity_pyfunc.jobs.registry import register

API_KEY = "s3cret-key-for-tests"


class Server:
    """A started server: its URL, its log file and its process."""

    def __init__(self, url: str, log: Path, process: subprocess.Popen[bytes]) -> None:
        self.url, self.log, self.process = url, log, process
        self.pid = process.pid

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 60)
        return requests.post(f"{self.url}{path}", **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 60)
        return requests.get(f"{self.url}{path}", **kwargs)

    def healthy(self) -> bool:
        return requests.get(f"{self.url}/health", timeout=10).status_code == 200


@pytest.fixture(scope="session")
def registered(minilm_trained: Any, sample_data: Path) -> str:
    """The trained MiniLM registered as champion of `api-test`."""
    register(
        RegisterConfig(
            model_uri=minilm_trained.model_uri,
            test_data=str(sample_data / "test.csv"),
            registered_model="api-test",
        )
    )
    return "models:/api-test@champion"


@pytest.fixture(scope="module")
def serve(
    registered: str,
    subprocess_env: Callable[..., dict[str, str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., Server]]:
    """Start `toxicity-serve` (the registered champion unless told) with extra arguments and
    environment variables."""
    started: list[Server] = []

    def start(model_uri: str | None = None, *, args: tuple[str, ...] = (), **env: str) -> Server:
        folder = tmp_path_factory.mktemp("server")
        port = free_port()
        log = folder / "server.log"
        with log.open("w") as handle:
            process = subprocess.Popen(
                [*toxicity_serve_command(model_uri or registered, port), *args],
                env=subprocess_env(**env),
                stdout=handle,
                stderr=subprocess.STDOUT,
                cwd=folder,
            )
        server = Server(f"http://127.0.0.1:{port}", log, process)
        started.append(server)
        wait_until_ready(f"{server.url}/ping", process)
        return server

    yield start
    for server in started:
        server.process.terminate()
        server.process.wait(timeout=30)


@pytest.fixture(scope="module")
def server(serve: Callable[..., Server]) -> Server:
    """An open server with small limits: 8 texts, 8 KiB bodies."""
    return serve(TOXICITY_MAX_ROWS="8", TOXICITY_MAX_BODY_BYTES="8192")


@pytest.fixture(scope="session")
def api_key() -> str:
    return API_KEY


@pytest.fixture(scope="module")
def locked_server(serve: Callable[..., Server], api_key: str) -> Server:
    """A server that wants one of two API keys on its scoring routes."""
    return serve(TOXICITY_API_KEYS=f"other-key, {api_key}")
