"""Scoring texts from the job side: a logged pyfunc, or a PyTorch classifier being trained."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import torch
from mlflow.pyfunc import PyFuncModel

from toxicity_pyfunc.jobs.data import load_labelled
from toxicity_pyfunc.jobs.metrics import label_metrics
from toxicity_pyfunc.served.batching import Encoded, encode
from toxicity_pyfunc.served.labels import LABELS
from toxicity_pyfunc.served.runtimes import score_batches, torch_forward


def score_with_model(model: str | PyFuncModel, texts: list[str]) -> np.ndarray:
    """Score texts with a logged pyfunc (a URI, or a model already loaded); columns follow LABELS."""
    loaded = mlflow.pyfunc.load_model(model) if isinstance(model, str) else model
    predictions = loaded.predict(pd.DataFrame({"text": texts}))
    scores: np.ndarray = predictions[list(LABELS)].to_numpy(np.float32)
    return scores


def mean_test_roc_auc(model_uri: str, test_data: str) -> float:
    """The number the registry compares models by."""
    test = load_labelled(test_data)
    return label_metrics(
        test[list(LABELS)].to_numpy(np.float32), score_with_model(model_uri, test["text"].tolist())
    )["mean_roc_auc"]


def score_encoded(
    model: Any,
    encoded: Encoded,
    batch_size: int,
    pad_id: int,
    device: torch.device,
    *,
    token_budget: int | None = None,
) -> np.ndarray:
    """Probabilities from a PyTorch classifier for already tokenized texts, in their original order
    (batches also capped at `token_budget` padded tokens when one is given)."""
    return score_batches(encoded, batch_size, pad_id, torch_forward(model, device), token_budget=token_budget)


def score_texts(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    max_length: int,
    batch_size: int,
    *,
    device: torch.device | None = None,
) -> np.ndarray:
    """Probabilities of a PyTorch classifier (rows = texts, columns = LABELS), texts cut to `max_length`."""
    if len(texts) == 0:
        return np.empty((0, len(LABELS)), dtype=np.float32)
    device = device or next(model.parameters()).device
    encoded = encode(tokenizer, texts, max_length)
    return score_encoded(model, encoded, batch_size, tokenizer.pad_token_id or 0, device)
