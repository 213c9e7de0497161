"""`train` under torchrun with two processes (Gloo on CPU): one MLflow run, logged by rank 0."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
from conftest import ROOT, SAMPLE, project_env

from toxicity_pyfunc.distributed import Context, shard


def test_shards_are_disjoint_and_even() -> None:
    batches = [np.array([i]) for i in range(7)]
    first = shard(batches, Context(rank=0, world_size=2))
    second = shard(batches, Context(rank=1, world_size=2))
    assert len(first) == len(second) == 3
    assert not {int(b[0]) for b in first} & {int(b[0]) for b in second}
    assert shard(batches, Context()) == batches


def test_torchrun_two_processes_one_run(tiny_distilbert: Path, tmp_path: Path) -> None:
    torchrun = str(Path(sys.executable).parent / "torchrun")
    completed = subprocess.run(
        [
            torchrun,
            "--standalone",
            "--nproc-per-node",
            "2",
            str(ROOT / "steps" / "train.py"),
            "--train_data",
            str(SAMPLE / "train.csv"),
            "--valid_data",
            str(SAMPLE / "valid.csv"),
            "--base_model",
            str(tiny_distilbert),
            "--epochs",
            "2",
            "--max_length",
            "32",
        ],
        env=project_env() | {"MLFLOW_EXPERIMENT_NAME": "torchrun", "OMP_NUM_THREADS": "1"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-5000:]
    runs = mlflow.search_runs(experiment_names=["torchrun"], output_format="list")
    assert len(runs) == 1
    run = runs[0]
    assert run.info.status == "FINISHED"
    assert run.data.params["processes"] == "2"
    assert "best_valid_mean_roc_auc" in run.data.metrics
    assert (
        len(mlflow.search_logged_models(experiment_ids=[run.info.experiment_id], output_format="list")) == 1
    )
    # Each process took half of the 23 batches per epoch: 11 steps each, two epochs.
    losses = mlflow.MlflowClient().get_metric_history(run.info.run_id, "train_loss")
    assert len(losses) == 22
