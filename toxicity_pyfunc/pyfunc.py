"""The MLflow pyfunc: a Hugging Face folder as artifact, six probability columns out."""

from __future__ import annotations

import json
import logging
from importlib import import_module
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import torch
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.models.model import ModelInfo
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.types import ColSpec, Schema

from toxicity_pyfunc.labels import LABELS, TEXT_COLUMN

logger = logging.getLogger(__name__)

ARTIFACT_KEY = "classifier"
SETTINGS_FILE = "inference.json"
PACKAGE_DIR = Path(__file__).resolve().parent

GPU_BATCH_SIZE = 512  # rows per forward pass on a GPU: bf16 MiniLM needs this many to fill an H100

SIGNATURE = ModelSignature(
    inputs=Schema([ColSpec("string", TEXT_COLUMN)]),
    outputs=Schema([ColSpec("double", label) for label in LABELS]),
)
INPUT_EXAMPLE = pd.DataFrame({TEXT_COLUMN: ["you are a stupid idiot", "have a nice day"]})

# torch is pinned to the bare version: the installed one says "+cpu", which pip cannot find.
# Requirement name -> the module whose version it takes.
_PINNED = {
    "torch": "torch",
    "transformers": "transformers",
    "tokenizers": "tokenizers",
    "mlflow": "mlflow",
    "pandas": "pandas",
    "numpy": "numpy",
    "safetensors": "safetensors",
    "onnxruntime": "onnxruntime",
    "scikit-learn": "sklearn",  # the TF-IDF companion
    "scipy": "scipy",
}


def pip_requirements() -> list[str]:
    """Exact versions of what the model needs at serving time, installable from PyPI."""
    # Versions from the modules themselves: `mlflow` may be installed as mlflow-skinny.
    return [
        f"{name}=={import_module(module).__version__.split('+', 1)[0]}" for name, module in _PINNED.items()
    ]


def texts_from_input(model_input: Any) -> list[str]:
    """Accept a DataFrame with `text`, a one-column DataFrame, a list, a dict or a string."""
    if isinstance(model_input, pd.DataFrame):
        if TEXT_COLUMN in model_input.columns:
            column = model_input[TEXT_COLUMN]
        elif model_input.shape[1] == 1:
            column = model_input.iloc[:, 0]
        else:
            raise _bad_input(f"input has no '{TEXT_COLUMN}' column; columns are {list(model_input.columns)}")
        values = column.tolist()
        # MLflow turns {"text": ["a", "b"]} into one row holding a list: unfold it.
        if values and all(isinstance(v, list | tuple | np.ndarray) for v in values):
            values = [item for cell in values for item in cell]
    elif isinstance(model_input, pd.Series):
        values = model_input.tolist()
    elif isinstance(model_input, dict):
        if TEXT_COLUMN not in model_input:
            raise _bad_input(f"input has no '{TEXT_COLUMN}' key; keys are {list(model_input)}")
        value = model_input[TEXT_COLUMN]
        values = [value] if isinstance(value, str) else list(value)
    elif isinstance(model_input, str):
        values = [model_input]
    elif isinstance(model_input, list | tuple | np.ndarray):
        values = [v[TEXT_COLUMN] if isinstance(v, dict) else v for v in model_input]
    else:
        raise _bad_input(f"unsupported input type {type(model_input).__name__}")
    bad = [i for i, v in enumerate(values) if not isinstance(v, str)]
    if bad:
        shown = ", ".join(f"row {i}: {_describe(values[i])}" for i in bad[:5])
        raise _bad_input(f"'{TEXT_COLUMN}' must be a string in every row; {shown}")
    return values


def _describe(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "null"
    return f"{value!r} ({type(value).__name__})"


def _bad_input(message: str) -> MlflowException:
    return MlflowException(message, error_code=INVALID_PARAMETER_VALUE)


class ToxicityModel(mlflow.pyfunc.PythonModel):
    """Loads the fine-tuned folder once; scores request texts in length-sorted batches.

    Where `train` kept a TF-IDF companion (`lexical_weight` > 0 in the settings), the encoder's
    probabilities are blended with it in logit space.
    """

    def __init__(self) -> None:
        self._model: Any = None
        self._tokenizer: Any = None
        self._forward: Any = None
        self.lexical: Any = None
        self._settings: dict[str, Any] = {}
        self.runtime = "none"
        self.lexical_weight = 0.0
        self.thresholds: dict[str, float] = {}  # per label, the score at which to flag a text
        self.folder: Path | None = None  # the loaded Hugging Face folder

    def __getstate__(self) -> dict[str, Any]:
        # Only the class travels in python_model.pkl (an unloaded instance's state); the weights
        # and the companion live in the artifact folder.
        return type(self)().__dict__

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        self.load_folder(Path(context.artifacts[ARTIFACT_KEY]))

    def load_folder(self, folder: Path) -> None:
        """Load the tokenizer and the runtime recorded in the settings (PyTorch on any GPU)."""
        from transformers import AutoTokenizer

        from toxicity_pyfunc.inference import torch_forward
        from toxicity_pyfunc.lexical import LexicalModel
        from toxicity_pyfunc.model import load_classifier
        from toxicity_pyfunc.runtimes import RUNTIME_FILES, onnx_forward

        self.folder = folder
        self._settings = json.loads((folder / SETTINGS_FILE).read_text(encoding="utf-8"))
        self.lexical_weight = float(self._settings.get("lexical_weight", 0.0))
        stored = self._settings.get("thresholds", {})
        self.thresholds = {label: float(stored.get(label, 0.5)) for label in LABELS}
        if self.lexical_weight > 0:
            self.lexical = LexicalModel.load(folder)
        wanted = self._settings.get("runtime", "torch")
        if (
            wanted in RUNTIME_FILES
            and (folder / RUNTIME_FILES[wanted]).exists()
            and not torch.cuda.is_available()
        ):
            self._tokenizer = AutoTokenizer.from_pretrained(str(folder))
            self._forward, self.runtime = onnx_forward(folder / RUNTIME_FILES[wanted]), wanted
            return
        self._model, self._tokenizer = load_classifier(folder)
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self._model.to(device)
        self._forward, self.runtime = torch_forward(self._model, device), f"torch-{device.type}"

    def predict(
        self,
        context: mlflow.pyfunc.PythonModelContext | None,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        from toxicity_pyfunc.batching import encode
        from toxicity_pyfunc.inference import score_batches

        texts = texts_from_input(model_input)
        # Empty or whitespace-only text has nothing to judge: every score is 0, model not run.
        scores = np.zeros((len(texts), len(LABELS)), dtype=np.float64)
        filled = [i for i, text in enumerate(texts) if text.strip()]
        if filled:
            encoded = encode(self._tokenizer, [texts[i] for i in filled], int(self._settings["max_length"]))
            on_gpu = self.runtime == "torch-cuda"
            # CPUs: at most 512 padded tokens a batch (measured best by make bench); GPUs: large batches.
            batch_size = GPU_BATCH_SIZE if on_gpu else int(self._settings.get("batch_size", 64))
            budget = None if on_gpu else int(self._settings.get("token_budget", 512))
            encoder_scores = score_batches(
                encoded, batch_size, self._tokenizer.pad_token_id or 0, self._forward, token_budget=budget
            )
            scores[filled] = self.with_lexical([texts[i] for i in filled], encoder_scores)
        return pd.DataFrame(scores, columns=list(LABELS))

    def with_lexical(self, texts: list[str], encoder_scores: np.ndarray) -> np.ndarray:
        """The encoder's probabilities for `texts`, blended with the TF-IDF companion if there is one."""
        from toxicity_pyfunc.lexical import blend

        if self.lexical is None:
            return encoder_scores
        return blend(encoder_scores, self.lexical.logits(texts), self.lexical_weight)


def write_settings(
    folder: Path,
    max_length: int,
    *,
    batch_size: int = 64,
    runtime: str = "torch",
    token_budget: int = 512,
    lexical_weight: float = 0.0,
    thresholds: dict[str, float] | None = None,
) -> None:
    """Store what scoring needs beside the weights, so the model is self-describing.

    `thresholds`: per label, the score at which to flag a text (0.5 unless `train` chose others).
    """
    settings = {
        "max_length": max_length,
        "batch_size": batch_size,
        "labels": list(LABELS),
        "runtime": runtime,
        "token_budget": token_budget,
        "lexical_weight": lexical_weight,
        "thresholds": {label: (thresholds or {}).get(label, 0.5) for label in LABELS},
    }
    (folder / SETTINGS_FILE).write_text(json.dumps(settings, indent=2), encoding="utf-8")


def log_classifier(folder: Path, name: str = "model", **log_kwargs: Any) -> ModelInfo:
    """Log a saved classifier folder as the project's pyfunc in the active run."""
    return mlflow.pyfunc.log_model(
        name=name,
        python_model=ToxicityModel(),
        artifacts={ARTIFACT_KEY: str(folder)},
        code_paths=[str(PACKAGE_DIR)],
        signature=SIGNATURE,
        input_example=INPUT_EXAMPLE,
        pip_requirements=pip_requirements(),
        **log_kwargs,
    )
