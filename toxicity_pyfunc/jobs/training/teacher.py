"""Distillation: a stronger model's scores as soft targets beside the labels.

The teacher is any model of this project (a logged model's URI or a saved classifier folder),
typically a larger encoder trained on the GPU. It scores every training row, the augmented ones
included. Where a row's label is known the target becomes (1 - w) * label + w * teacher; where the
source does not carry the label (most hate-speech files know only `identity_attack`), the
teacher's score fills the cell, which the loss would otherwise mask out.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import mlflow
import numpy as np

from toxicity_pyfunc.jobs.config import ConfigError
from toxicity_pyfunc.jobs.metrics import label_metrics
from toxicity_pyfunc.served.labels import LABELS
from toxicity_pyfunc.served.model import ToxicityModel

logger = logging.getLogger(__name__)

NO_TEACHER = "none"
CHUNK = 8192  # texts per call: progress in the log, and the host's memory stays flat


def load_teacher(reference: str) -> ToxicityModel:
    """The teacher from a saved classifier folder or a model URI; a clear error if neither."""
    folder = Path(reference)
    try:
        if folder.is_dir():
            return ToxicityModel.from_folder(folder)
        model = mlflow.pyfunc.load_model(reference).unwrap_python_model()
    except Exception as error:
        raise ConfigError(
            f"parameter teacher_model: cannot load {reference!r} as a model ({error})"
        ) from error
    if not isinstance(model, ToxicityModel):
        raise ConfigError(
            f"parameter teacher_model: {reference!r} is a {type(model).__name__}, not a model of this project"
        )
    return model


def teacher_scores(teacher: ToxicityModel, texts: Sequence[str]) -> np.ndarray:
    """The teacher's six probabilities for every text, as it serves them."""
    parts = []
    for start in range(0, len(texts), CHUNK):
        parts.append(teacher.score(list(texts[start : start + CHUNK])))
        logger.info("teacher: %d of %d training texts scored", min(start + CHUNK, len(texts)), len(texts))
    return np.concatenate(parts).astype(np.float32) if parts else np.zeros((0, len(LABELS)), np.float32)


def distilled_targets(labels: np.ndarray, teacher: np.ndarray, weight: float) -> np.ndarray:
    """Known cells: (1 - weight) * label + weight * teacher; unknown (NaN) cells: the teacher.

    With weight 0 the labels are returned as they are, unknown cells included."""
    if weight == 0:
        return labels
    known = ~np.isnan(labels)
    mixed = (1 - weight) * np.where(known, labels, 0) + weight * teacher
    return np.where(known, mixed, teacher).astype(np.float32)


def log_teacher(labels: np.ndarray, teacher: np.ndarray) -> None:
    """How far the teacher agrees with the known labels, and how many unknown cells it fills."""
    metrics = {
        "teacher_train_mean_roc_auc": label_metrics(labels, teacher)["mean_roc_auc"],
        "teacher_filled_cells": float(np.isnan(labels).sum()),
    }
    mlflow.log_metrics({key: value for key, value in metrics.items() if not np.isnan(value)})
