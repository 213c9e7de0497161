"""Each MLproject entry point through `mlflow run`, as a user runs it."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from toxicity_pyfunc.jobs.config import project_defaults

EXPERIMENT = "entry-points"
pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def mlflow_run(
    run_command: Callable[..., subprocess.CompletedProcess[str]],
    repo_root: Path,
    subprocess_env: Callable[..., dict[str, str]],
) -> Callable[..., mlflow.entities.Run]:
    """Run an entry point with --env-manager local and return the run it created."""

    def run(entry_point: str, run_name: str | None = None, **params: object) -> mlflow.entities.Run:
        return _mlflow_run(run_command, repo_root, subprocess_env(), entry_point, run_name, **params)

    return run


def _mlflow_run(
    run_command,
    repo_root: Path,
    env: dict[str, str],
    entry_point: str,
    run_name: str | None = None,
    **params: object,
) -> mlflow.entities.Run:
    command = [
        "mlflow",
        "run",
        str(repo_root),
        "-e",
        entry_point,
        "--env-manager",
        "local",
        "--experiment-name",
        EXPERIMENT,
    ]
    if run_name is not None:
        command += ["--run-name", run_name]
    for name, value in params.items():
        command += ["-P", f"{name}={value}"]
    before = {r.info.run_id for r in _runs()}
    completed = run_command(command, env=env, timeout=600)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    created = [r for r in _runs() if r.info.run_id not in before and "mlflow.parentRunId" not in r.data.tags]
    assert len(created) == 1
    return created[0]


def _runs() -> list[mlflow.entities.Run]:
    experiment = MlflowClient().get_experiment_by_name(EXPERIMENT)
    if experiment is None:
        return []
    return MlflowClient().search_runs([experiment.experiment_id], max_results=1000)


@pytest.fixture(scope="module")
def trained_by_mlflow_run(
    mlflow_run: Callable[..., mlflow.entities.Run], tiny_distilbert: Path
) -> mlflow.entities.Run:
    return mlflow_run("train", base_model=tiny_distilbert, epochs=1, max_length=32)


def test_train_entry_point(trained_by_mlflow_run: mlflow.entities.Run) -> None:
    run = trained_by_mlflow_run
    assert run.info.status == "FINISHED"
    assert run.data.params["epochs"] == "1"
    assert run.data.params["seed"] == str(int(float(project_defaults("train")["seed"])))
    assert run.outputs.model_outputs, "the model is logged as an output of the run"


def test_evaluate_and_register_entry_points(
    mlflow_run: Callable[..., mlflow.entities.Run], trained_by_mlflow_run: mlflow.entities.Run
) -> None:
    model_id = trained_by_mlflow_run.outputs.model_outputs[0].model_id
    model_uri = f"models:/{model_id}"
    evaluated = mlflow_run("evaluate", run_name="evaluate-the-candidate", model_uri=model_uri)
    assert evaluated.data.tags["mlflow.runName"] == "evaluate-the-candidate"  # --run-name holds
    assert "test_mean_roc_auc" in evaluated.data.metrics
    assert "baseline_test_mean_roc_auc" in evaluated.data.metrics
    registered = mlflow_run("register", model_uri=model_uri, registered_model="entry-point-test")
    assert registered.data.tags["promoted_to_champion"] == "true"
    version = MlflowClient().get_model_version_by_alias("entry-point-test", "champion")
    assert model_id in version.source, version.source


def test_main_chains_train_evaluate_register(
    mlflow_run: Callable[..., mlflow.entities.Run], sample_data: Path, tiny_distilbert: Path
) -> None:
    parent = mlflow_run(
        "main",
        base_model=tiny_distilbert,
        epochs=1,
        max_length=32,
        registered_model="main-test",
        test_data=sample_data / "test.csv",
    )
    children = MlflowClient().search_runs(
        [parent.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    assert sorted(r.data.tags["mlflow.runName"] for r in children) == ["evaluate", "register", "train"]
    champion = MlflowClient().get_model_version_by_alias("main-test", "champion")
    assert parent.data.tags["registered_version"] == str(champion.version)


def test_main_and_train_declare_the_same_training_defaults() -> None:
    main, train = project_defaults("main"), project_defaults("train")
    shared = set(main) & set(train)
    assert {"epochs", "batch_size", "identity_swaps", "source_weights"} <= shared
    assert {name: main[name] for name in shared} == {name: train[name] for name in shared}
    assert set(train) - set(main) == {"seed"}  # main takes the seed from train's default
