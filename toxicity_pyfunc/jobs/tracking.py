"""What every job records about itself in MLflow: its inputs and its parameters."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
from mlflow import ActiveRun
from mlflow.data.pandas_dataset import from_pandas
from mlflow.environment_variables import MLFLOW_RUN_ID


def job_run(name: str) -> ActiveRun:
    """The job's run: the one `mlflow run` made for it, its name kept (`--run-name` holds); a run
    called `name` nested in the active one (the steps of `main`); or a new run called `name`."""
    if mlflow.active_run() is None and MLFLOW_RUN_ID.get():
        return mlflow.start_run()
    return mlflow.start_run(run_name=name, nested=mlflow.active_run() is not None)


def log_dataset(frame: pd.DataFrame, path: str, context: str) -> None:
    """Record a data file as a run input, so the run says exactly what it learned from."""
    dataset = from_pandas(frame, source=str(Path(path).resolve()), name=Path(path).name)
    mlflow.log_input(dataset, context=context)


def log_new_params(run_id: str, params: dict[str, object]) -> None:
    """Log the params the run does not have yet.

    `mlflow run` has already logged the entry point's parameters as they were written
    ("0" for a float 0.0); logging them again with another spelling would be refused.
    """
    logged = mlflow.get_run(run_id).data.params
    mlflow.log_params({key: value for key, value in params.items() if key not in logged})
