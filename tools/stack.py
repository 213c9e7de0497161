"""A local stack that is the real thing in miniature: S3 (moto) plus an MLflow tracking server.

`python -m tools.stack up` starts, on 127.0.0.1 only, an S3-compatible object store
with bucket `mlflow` and a tracking server that keeps runs and the registry in SQLite (or in
`MLFLOW_BACKEND_STORE_URI`) and stores artifacts in `s3://mlflow/`, proxied, so clients need no
S3 credentials. `down` stops exactly what `up` started, by PID file; `up` twice starts nothing new.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tools.net import wait_until_ready

logger = logging.getLogger(__name__)

# Credentials the local object store accepts; real deployments use the standard AWS chain.
LOCAL_S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass(frozen=True)
class StackConfig:
    """Where the stack keeps its files and which ports it listens on."""

    root: Path = Path(".stack")
    host: str = "127.0.0.1"
    s3_port: int = 9000
    tracking_port: int = 5000
    bucket: str = "mlflow"
    backend_store_uri: str | None = None
    proxied_artifacts: bool = True
    s3_env: dict[str, str] = field(default_factory=dict)

    @property
    def s3_url(self) -> str:
        return f"http://{self.host}:{self.s3_port}"

    @property
    def tracking_uri(self) -> str:
        return f"http://{self.host}:{self.tracking_port}"

    @property
    def backend(self) -> str:
        return self.backend_store_uri or f"sqlite:///{(self.root / 'mlflow.db').resolve()}"


class StackError(RuntimeError):
    """A service of the stack did not come up; the message points at its log."""


def _pid_file(config: StackConfig, name: str) -> Path:
    return config.root / f"{name}.pid"


def running_pid(config: StackConfig, name: str) -> int | None:
    """The PID recorded for a service, if that process is still alive."""
    path = _pid_file(config, name)
    if not path.exists():
        return None
    pid = int(path.read_text().strip() or 0)
    if not _alive(pid):
        path.unlink(missing_ok=True)
        return None
    return pid


def _alive(pid: int) -> bool:
    """True for a live process; a zombie (exited, not yet reaped) counts as gone."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our own child that has exited
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[-1][:1]
    except FileNotFoundError:
        return False  # gone between the two looks
    if state == "Z":
        # It exited after the first waitpid: reap it now, or it lingers until this process ends.
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        return False
    return True


def _start(config: StackConfig, name: str, command: list[str], env: dict[str, str], ready_url: str) -> None:
    if running_pid(config, name) is not None:
        logger.info("%s already running (pid %s)", name, running_pid(config, name))
        return
    log_path = config.root / f"{name}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    _pid_file(config, name).write_text(str(process.pid))
    try:
        wait_until_ready(ready_url, process, timeout=90, ok=(200, 499))
    except (RuntimeError, TimeoutError) as error:
        if process.poll() is not None:
            _pid_file(config, name).unlink(missing_ok=True)
        raise StackError(f"{name}: {error}; see {log_path}") from error
    logger.info("%s up (pid %d), log %s", name, process.pid, log_path)


def _bin(name: str) -> str:
    """A console script of this environment, even when its bin folder is not on PATH."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def start_object_store(config: StackConfig) -> None:
    """moto's standalone S3 server, then the bucket (moto keeps state in memory)."""
    env = dict(os.environ) | config.s3_env
    _start(
        config,
        "s3",
        [_bin("moto_server"), "-H", config.host, "-p", str(config.s3_port)],
        env,
        f"{config.s3_url}/moto-api/",
    )
    ensure_bucket(config)


def ensure_bucket(config: StackConfig) -> None:
    import boto3

    s3 = boto3.client("s3", endpoint_url=config.s3_url, **_boto_credentials())
    existing = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
    if config.bucket not in existing:
        s3.create_bucket(Bucket=config.bucket)
        logger.info("created bucket s3://%s", config.bucket)


def _boto_credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": LOCAL_S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": LOCAL_S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "region_name": LOCAL_S3_CREDENTIALS["AWS_DEFAULT_REGION"],
    }


def start_tracking_server(config: StackConfig) -> None:
    """One worker and no job runner: the defaults start about twelve processes on two cores."""
    env = (
        dict(os.environ)
        | LOCAL_S3_CREDENTIALS
        | {
            "MLFLOW_S3_ENDPOINT_URL": config.s3_url,
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        }
    )
    command = [
        _bin("mlflow"),
        "server",
        "--host",
        config.host,
        "--port",
        str(config.tracking_port),
        "--workers",
        "1",
        "--backend-store-uri",
        config.backend,
    ]
    if config.proxied_artifacts:
        command += ["--serve-artifacts", "--artifacts-destination", f"s3://{config.bucket}/"]
    else:
        command += ["--no-serve-artifacts", "--default-artifact-root", f"s3://{config.bucket}/"]
    _start(config, "tracking", command, env, f"{config.tracking_uri}/health")


def up(config: StackConfig) -> None:
    config.root.mkdir(parents=True, exist_ok=True)
    fresh_store = running_pid(config, "s3") is None and running_pid(config, "tracking") is None
    default_db = config.root / "mlflow.db"
    if fresh_store and config.backend_store_uri is None and default_db.exists():
        # moto keeps objects in memory: a new store is empty, so runs and registry entries
        # from the last session would point at artifacts that no longer exist.
        aside = default_db.with_name(f"mlflow.db.{int(time.time())}.old")
        default_db.rename(aside)
        logger.warning("the object store starts empty; previous tracking database moved to %s", aside)
    start_object_store(config)
    start_tracking_server(config)
    logger.info(
        "tracking server %s, artifacts in s3://%s at %s", config.tracking_uri, config.bucket, config.s3_url
    )


def stop(config: StackConfig, name: str) -> bool:
    """Stop one service started by `up` (its whole process group); True if it was running."""
    pid = running_pid(config, name)
    if pid is None:
        return False
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and running_pid(config, name) is not None:
        time.sleep(0.2)
    if running_pid(config, name) is not None:
        os.killpg(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
    _pid_file(config, name).unlink(missing_ok=True)
    logger.info("stopped %s (pid %d)", name, pid)
    return True


def down(config: StackConfig) -> None:
    for name in ("tracking", "s3"):
        stop(config, name)


def list_objects(config: StackConfig, prefix: str = "") -> list[str]:
    """Keys in the stack's bucket: how the demo shows that the weights really are in S3."""
    import boto3

    s3 = boto3.client("s3", endpoint_url=config.s3_url, **_boto_credentials())
    paginator = s3.get_paginator("list_objects_v2")
    return [
        item["Key"]
        for page in paginator.paginate(Bucket=config.bucket, Prefix=prefix)
        for item in page.get("Contents", [])
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.stack", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "status", "objects"])
    parser.add_argument("--root", default=".stack")
    parser.add_argument("--s3-port", type=int, default=9000)
    parser.add_argument("--tracking-port", type=int, default=5000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = StackConfig(
        root=Path(args.root),
        s3_port=args.s3_port,
        tracking_port=args.tracking_port,
        backend_store_uri=os.environ.get("MLFLOW_BACKEND_STORE_URI"),
    )
    if args.action == "up":
        up(config)
    elif args.action == "down":
        down(config)
    elif args.action == "status":
        for name in ("s3", "tracking"):
            logger.info("%s: %s", name, running_pid(config, name) or "stopped")
    else:
        for key in list_objects(config):
            logger.info("s3://%s/%s", config.bucket, key)


if __name__ == "__main__":
    main()
