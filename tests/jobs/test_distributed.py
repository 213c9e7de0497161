"""`train` under torchrun with two processes (Gloo on CPU): one MLflow run, logged by rank 0."""

from __future__ import annotations

import sys
from pathlib import Path

import mlflow
import numpy as np
import pytest

from toxicity_pyfunc.jobs.distributed import Context, shard


def test_shards_split_each_global_batch_evenly() -> None:
    global_batches = [np.arange(0, 4), np.arange(4, 8), np.array([8])]  # the last is too small to share
    first = shard(global_batches, Context(rank=0, world_size=2))
    second = shard(global_batches, Context(rank=1, world_size=2))
    assert len(first) == len(second) == 2
    assert [b.tolist() for b in first] == [[0, 2], [4, 6]]
    assert [b.tolist() for b in second] == [[1, 3], [5, 7]]
    assert shard(global_batches, Context()) == global_batches


@pytest.mark.services
def test_torchrun_two_processes_one_run(
    run_command, repo_root, subprocess_env, tiny_train_args, tiny_distilbert: Path, tmp_path: Path
) -> None:
    torchrun = str(Path(sys.executable).parent / "torchrun")
    completed = run_command(
        [
            torchrun,
            "--standalone",
            "--nproc-per-node",
            "2",
            str(repo_root / "steps" / "train.py"),
            *tiny_train_args(epochs=2),
            # exactly 363 rows: no augmentation, no posts added for the span head
            *("--identity_swaps", "0", "--identity_example_share", "0", "--train_spans", "none"),
            *("--behaviour_example_share", "0", "--obfuscation_share", "0"),
        ],
        env=subprocess_env() | {"MLFLOW_EXPERIMENT_NAME": "torchrun", "OMP_NUM_THREADS": "1"},
        cwd=tmp_path,
        timeout=600,
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
    # 363 rows in global batches of 2 x 16: 12 steps per epoch for each process, two epochs.
    losses = mlflow.MlflowClient().get_metric_history(run.info.run_id, "train_loss")
    assert len(losses) == 24
