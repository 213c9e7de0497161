"""The local stack for real: moto S3, an MLflow tracking server, PostgreSQL, and the faults."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from mlflow.tracking import MlflowClient

from tools.net import free_port, wait_until_ready
from tools.stack import StackConfig, down, list_objects, running_pid, start_object_store, stop, up

StackFactory = Callable[..., StackConfig]
pytestmark = pytest.mark.services


@pytest.fixture
def make_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackFactory]:
    """Start stacks on free ports in their own folders; stop them all afterwards."""
    started: list[StackConfig] = []

    def factory(**overrides: object) -> StackConfig:
        config = StackConfig(
            root=tmp_path_factory.mktemp("stack"), s3_port=free_port(), tracking_port=free_port()
        )
        config = replace(config, **overrides)
        up(config)
        started.append(config)
        return config

    yield factory
    for config in started:
        down(config)


@pytest.fixture
def stack_env(subprocess_env: Callable[..., dict[str, str]]) -> Callable[..., dict[str, str]]:
    """A client's environment: only the tracking URI, no S3 endpoint or credentials."""

    def make(config: StackConfig, **extra: str) -> dict[str, str]:
        env = subprocess_env(MLFLOW_TRACKING_URI=config.tracking_uri, MLFLOW_HTTP_REQUEST_MAX_RETRIES="1")
        for name in ("MLFLOW_S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
            env.pop(name, None)
        return env | extra

    return make


@pytest.fixture
def run_step(run_command, repo_root: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run a step script in `cwd`, where it keeps its outputs/ folder."""

    def run(step: str, env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return run_command(
            [sys.executable, str(repo_root / "steps" / f"{step}.py"), *args], env=env, cwd=cwd, timeout=300
        )

    return run


def test_up_twice_starts_nothing_new_and_down_stops_exactly_it(make_stack: StackFactory) -> None:
    config = make_stack()
    pids = {name: running_pid(config, name) for name in ("s3", "tracking")}
    assert all(pids.values())
    up(config)
    assert {name: running_pid(config, name) for name in ("s3", "tracking")} == pids
    assert requests.get(f"{config.tracking_uri}/health", timeout=5).status_code == 200
    down(config)
    for pid in pids.values():
        assert not Path(f"/proc/{pid}").exists(), f"pid {pid} still running"
    assert not list(config.root.glob("*.pid"))


def test_main_puts_weights_in_bucket_and_an_empty_folder_serves_them(
    run_command, stack_env, repo_root, make_stack: StackFactory, tiny_distilbert: Path, tmp_path: Path
) -> None:
    config = make_stack()
    env = stack_env(config)
    completed = run_command(
        [
            "mlflow",
            "run",
            str(repo_root),
            "-e",
            "main",
            "--env-manager",
            "local",
            "-P",
            f"base_model={tiny_distilbert}",
            "-P",
            "epochs=1",
            "-P",
            "max_length=32",
        ],
        env=env,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    keys = list_objects(config)
    assert any(key.endswith("artifacts/classifier/model.safetensors") for key in keys), keys

    empty = tmp_path / "empty"
    empty.mkdir()
    port = free_port()
    server = subprocess.Popen(
        [str(repo_root / "docker" / "entrypoint.sh")],
        cwd=empty,
        env=env | {"PORT": str(port), "HOST": "127.0.0.1", "FOLLOW_ALIAS": "5"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/ping", server)
        served = requests.get(f"http://127.0.0.1:{port}/version", timeout=10).json()["model"]
        assert (served["name"], served["alias"], served["version"]) == ("toxicity", "champion", "1")
        response = requests.post(
            f"http://127.0.0.1:{port}/invocations",
            json={"inputs": {"text": ["hello", "you idiot"]}},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        assert len(response.json()["predictions"]) == 2
        assert list(empty.iterdir()) == []  # nothing was written locally to serve it
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_object_store_stopped_mid_run_keeps_model_and_fails_the_run(
    stack_env,
    run_step,
    repo_root,
    tiny_train_args,
    make_stack: StackFactory,
    tiny_distilbert: Path,
    tmp_path: Path,
) -> None:
    config = make_stack()
    env = stack_env(config)
    outputs = tmp_path / "outputs"
    process = subprocess.Popen(
        [sys.executable, str(repo_root / "steps" / "train.py"), *tiny_train_args(epochs=3)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    log_lines = []
    assert process.stdout is not None
    for line in process.stdout:  # stop S3 while training is under way, before the upload
        log_lines.append(line)
        if "epoch 1: valid" in line:
            assert stop(config, "s3")
            break
    log_lines += process.stdout.readlines()
    assert process.wait(timeout=300) != 0
    log = "".join(log_lines)
    assert "The trained model is kept at" in log, log[-3000:]
    kept = next(outputs.glob("*/classifier"))
    assert (kept / "model.safetensors").exists()
    assert f"-e upload -P model_dir={kept}" in log
    run_id = kept.parent.name
    client = MlflowClient(tracking_uri=config.tracking_uri)
    assert client.get_run(run_id).info.status == "FAILED"

    start_object_store(config)  # the store is back (empty, as moto keeps state in memory)
    uploaded = run_step("upload", env, tmp_path, "--model_dir", str(kept))
    assert uploaded.returncode == 0, uploaded.stderr[-3000:]
    assert any(key.endswith("classifier/model.safetensors") for key in list_objects(config))


def test_tracking_server_unreachable_at_serve_time_fails_fast(
    run_command, repo_root, subprocess_env, tmp_path: Path
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    completed = run_command(
        [str(repo_root / "docker" / "entrypoint.sh")],
        cwd=tmp_path,
        env=subprocess_env() | {"MLFLOW_TRACKING_URI": dead},
        timeout=60,
    )
    assert completed.returncode != 0
    assert time.monotonic() - started < 15
    assert f"tracking server {dead} is unreachable" in completed.stderr


def test_entrypoint_requires_tracking_uri(run_command, repo_root, subprocess_env, tmp_path: Path) -> None:
    env = subprocess_env()
    env.pop("MLFLOW_TRACKING_URI")
    completed = run_command([str(repo_root / "docker" / "entrypoint.sh")], cwd=tmp_path, env=env, timeout=30)
    assert completed.returncode != 0
    assert "MLFLOW_TRACKING_URI" in completed.stderr


@pytest.mark.parametrize("credentials", ["missing", "wrong"])
def test_direct_mode_credential_errors_name_the_variables(
    stack_env,
    run_step,
    tiny_train_args,
    make_stack: StackFactory,
    tiny_distilbert: Path,
    tmp_path: Path,
    credentials: str,
) -> None:
    # Direct mode: clients write to S3 themselves. moto checks keys after the bucket exists.
    config = make_stack(proxied_artifacts=False, s3_env={"INITIAL_NO_AUTH_ACTION_COUNT": "2"})
    env = stack_env(
        config,
        MLFLOW_S3_ENDPOINT_URL=config.s3_url,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    if credentials == "wrong":
        env |= {"AWS_ACCESS_KEY_ID": "not-a-known-key-id", "AWS_SECRET_ACCESS_KEY": "wrong"}
    completed = run_step("train", env, tmp_path, *tiny_train_args())
    assert completed.returncode != 0
    assert "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in completed.stderr, completed.stderr[-3000:]
    assert "The trained model is kept at" in completed.stderr
    assert list((tmp_path / "outputs").glob("*/classifier/model.safetensors"))


def test_dockerfile_passes_hadolint_and_keeps_the_contract(run_command, repo_root) -> None:
    dockerfile = repo_root / "Dockerfile"
    linted = run_command([str(Path(sys.executable).parent / "hadolint"), str(dockerfile)])
    assert linted.returncode == 0, linted.stdout + linted.stderr
    text = dockerfile.read_text()
    assert text.startswith("#")
    assert "FROM python:3.11-slim@sha256:" in text  # the base image pinned by digest
    assert "apt-get" not in text  # nothing installed from a package manager that could move
    assert "torch==2.13.0" in text
    assert "whl/cpu" in text
    assert "EXPOSE 5001" in text
    assert "HEALTHCHECK" in text
    assert "/ping" in text
    user = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert user
    assert user[-1] not in {"root", "0"}
    instructions = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    # No secret is ever baked in: credentials come from `docker run -e` only.
    assert not [line for line in instructions if "AWS_" in line or "SECRET" in line.upper()]
