"""The tracking server on a real PostgreSQL, started by the test, chosen by MLFLOW_BACKEND_STORE_URI."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from mlflow.tracking import MlflowClient

from tools.net import free_port
from tools.stack import StackConfig, down

pytestmark = pytest.mark.services


def pg_binary(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        pytest.fail(f"{name} not found: install Debian's postgresql package (make test does)")
    return found


def as_postgres_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; CI runs as root."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    folder = Path(tempfile.mkdtemp(prefix="toxicity-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()
    initdb = [pg_binary("initdb"), "-D", str(data), "-A", "trust", "-U", "mlflow"]
    subprocess.run(as_postgres_user(initdb), check=True, capture_output=True, timeout=120)
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1"
    pg_ctl = pg_binary("pg_ctl")
    start = [pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "pg.log"), "-w", "start"]
    subprocess.run(as_postgres_user(start), check=True, capture_output=True, timeout=120)
    try:
        connection = psycopg2.connect(host="127.0.0.1", port=port, user="mlflow", dbname="postgres")
        connection.autocommit = True
        connection.cursor().execute("CREATE DATABASE mlflow")
        connection.close()
        # SQLAlchemy 2.1 reads plain postgresql:// as psycopg 3; name the installed driver.
        yield f"postgresql+psycopg2://mlflow@127.0.0.1:{port}/mlflow"
    finally:
        subprocess.run(
            as_postgres_user([pg_ctl, "-D", str(data), "-m", "fast", "stop"]), check=False, timeout=60
        )
        shutil.rmtree(folder, ignore_errors=True)


def test_stack_cli_uses_postgres_from_environment(
    run_command, subprocess_env, postgres: str, tmp_path: Path
) -> None:
    config = StackConfig(root=tmp_path / "stack", s3_port=free_port(), tracking_port=free_port())
    env = subprocess_env() | {"MLFLOW_BACKEND_STORE_URI": postgres}
    command = [
        sys.executable,
        "-m",
        "tools.stack",
        "--root",
        str(config.root),
        "--s3-port",
        str(config.s3_port),
        "--tracking-port",
        str(config.tracking_port),
    ]
    try:
        up = run_command([*command, "up"], env=env, timeout=180)
        assert up.returncode == 0, up.stderr
        client = MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)
        experiment_id = client.create_experiment("on-postgres")
        run = client.create_run(experiment_id)
        client.log_metric(run.info.run_id, "test_mean_roc_auc", 0.93)
        client.log_text(run.info.run_id, "stored in the bucket", "note.txt")
        client.create_registered_model("toxicity-on-postgres")
        client.set_terminated(run.info.run_id)
    finally:
        subprocess.run([*command, "down"], env=env, capture_output=True, timeout=60, check=False)
        down(config)

    with psycopg2.connect(postgres.replace("+psycopg2", "")) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT value FROM metrics WHERE run_uuid = %s AND key = 'test_mean_roc_auc'", (run.info.run_id,)
        )
        assert cursor.fetchone()[0] == pytest.approx(0.93)
        cursor.execute("SELECT name FROM registered_models")
        assert ("toxicity-on-postgres",) in cursor.fetchall()
