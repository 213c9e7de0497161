"""Turning whatever MLflow or a caller hands the model into a list of texts, or a clear error."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

from toxicity_pyfunc.served.labels import TEXT_COLUMN


def bad_input(message: str) -> MlflowException:
    """An error MLflow's scoring server answers with 400 and this message."""
    return MlflowException(message, error_code=INVALID_PARAMETER_VALUE)


def texts_from_input(model_input: Any) -> list[str]:
    """Accept a DataFrame with `text`, a one-column DataFrame, a list, a dict or a string."""
    values: list[Any]
    if isinstance(model_input, pd.DataFrame):
        if TEXT_COLUMN in model_input.columns:
            column = model_input[TEXT_COLUMN]
        elif model_input.shape[1] == 1:
            column = model_input.iloc[:, 0]
        else:
            raise bad_input(f"input has no '{TEXT_COLUMN}' column; columns are {list(model_input.columns)}")
        values = column.tolist()
        # MLflow turns {"text": ["a", "b"]} into one row holding a list: unfold it.
        if values and all(isinstance(v, list | tuple | np.ndarray) for v in values):
            values = [item for cell in values for item in cell]
    elif isinstance(model_input, pd.Series):
        values = model_input.tolist()
    elif isinstance(model_input, dict):
        if TEXT_COLUMN not in model_input:
            raise bad_input(f"input has no '{TEXT_COLUMN}' key; keys are {list(model_input)}")
        value = model_input[TEXT_COLUMN]
        values = [value] if isinstance(value, str) else list(value)
    elif isinstance(model_input, str):
        values = [model_input]
    elif isinstance(model_input, list | tuple | np.ndarray):
        values = [v[TEXT_COLUMN] if isinstance(v, dict) else v for v in model_input]
    else:
        raise bad_input(f"unsupported input type {type(model_input).__name__}")
    bad = [i for i, v in enumerate(values) if not isinstance(v, str)]
    if bad:
        shown = ", ".join(f"row {i}: {_describe(values[i])}" for i in bad[:5])
        raise bad_input(f"'{TEXT_COLUMN}' must be a string in every row; {shown}")
    return values


def _describe(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "null"
    return f"{value!r} ({type(value).__name__})"
