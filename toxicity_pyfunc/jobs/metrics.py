"""Multi-label metrics that respect unknown labels.

A NaN target means the source does not carry that label: the row is left out of that
label's metric only. Soft targets (annotator shares) count as positive at >= 0.5.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from toxicity_pyfunc.served.labels import LABELS

POSITIVE_AT = 0.5


def known_binary(targets: np.ndarray, column: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows that know a label, and its 0/1 truth there (shares cut at 0.5)."""
    known = ~np.isnan(targets[:, column])
    return known, (targets[known, column] >= POSITIVE_AT).astype(int)


def lacks_a_class(truth: np.ndarray) -> bool:
    """True when a label has no known rows, or only one class among them: no ROC-AUC, no fit."""
    return bool(truth.size == 0 or truth.min() == truth.max())


def label_metrics(
    targets: np.ndarray, scores: np.ndarray, labels: Sequence[str] = LABELS
) -> dict[str, float]:
    """Per-label ROC-AUC, average precision and F1 at 0.5, plus their means.

    A label with no known rows, or only one class among them, has no ROC-AUC; it is
    reported as NaN and left out of the means rather than counted as 0 or 1.
    """
    out: dict[str, float] = {}
    aucs, aps, f1s = [], [], []
    for column, label in enumerate(labels):
        known, truth = known_binary(targets, column)
        out[f"{label}_support"] = float(known.sum())
        out[f"{label}_positives"] = float(truth.sum())
        if lacks_a_class(truth):
            out[f"{label}_roc_auc"] = math.nan
            out[f"{label}_average_precision"] = math.nan
            out[f"{label}_f1"] = math.nan
            continue
        predicted = scores[known, column]
        auc = float(roc_auc_score(truth, predicted))
        ap = float(average_precision_score(truth, predicted))
        f1 = float(f1_score(truth, predicted >= POSITIVE_AT, zero_division=0))
        out[f"{label}_roc_auc"], out[f"{label}_average_precision"], out[f"{label}_f1"] = auc, ap, f1
        aucs.append(auc)
        aps.append(ap)
        f1s.append(f1)
    out["mean_roc_auc"] = float(np.mean(aucs)) if aucs else math.nan
    out["mean_average_precision"] = float(np.mean(aps)) if aps else math.nan
    out["mean_f1"] = float(np.mean(f1s)) if f1s else math.nan
    return out


def f1_thresholds(
    targets: np.ndarray, scores: np.ndarray, labels: Sequence[str] = LABELS
) -> dict[str, float]:
    """Per label, the score cut with the best F1 on these rows; 0.5 where a label lacks a class.

    Rare labels (threat, identity_attack) are seldom scored above 0.5 even when ranked well, so
    a flag at 0.5 misses most of them; `train` stores these cuts, chosen on validation. The cut
    lies halfway between the lowest score it flags and the highest it does not: the same F1 on
    these rows, and a served score that moves a little (int8, another runtime) stays on its side.
    """
    out: dict[str, float] = {}
    for column, label in enumerate(labels):
        known, truth = known_binary(targets, column)
        if lacks_a_class(truth):
            out[label] = POSITIVE_AT
            continue
        column_scores = scores[known, column]
        precision, recall, cuts = precision_recall_curve(truth, column_scores)
        f1 = 2 * precision[:-1] * recall[:-1] / np.clip(precision[:-1] + recall[:-1], 1e-12, None)
        cut = float(cuts[int(np.argmax(f1))])
        below = column_scores[column_scores < cut]
        out[label] = (cut + float(below.max())) / 2 if below.size else cut
    return out


def f1_at_thresholds(
    targets: np.ndarray, scores: np.ndarray, thresholds: dict[str, float], labels: Sequence[str] = LABELS
) -> dict[str, float]:
    """F1 per label when a text is flagged at or above its label's threshold, and their mean."""
    out: dict[str, float] = {}
    for column, label in enumerate(labels):
        known, truth = known_binary(targets, column)
        if lacks_a_class(truth):
            continue
        flagged = scores[known, column] >= thresholds.get(label, POSITIVE_AT)
        out[f"{label}_f1_at_threshold"] = float(f1_score(truth, flagged, zero_division=0))
    out["mean_f1_at_thresholds"] = float(np.mean(list(out.values()))) if out else math.nan
    return out


def plot_curves(
    targets: np.ndarray,
    scores_by_model: dict[str, np.ndarray],
    folder: Path,
    labels: Sequence[str] = LABELS,
) -> list[Path]:
    """Draw ROC and precision-recall curves per label, one line per model; return PNG paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for kind in ("roc", "pr"):
        fig, axes = plt.subplots(2, 3, figsize=(13, 8))
        for column, (label, axis) in enumerate(zip(labels, axes.flat, strict=True)):
            known, truth = known_binary(targets, column)
            axis.set_title(label)
            if lacks_a_class(truth):
                axis.text(0.5, 0.5, "not enough labels", ha="center")
                continue
            for name, scores in scores_by_model.items():
                if kind == "roc":
                    x, y, _ = roc_curve(truth, scores[known, column])
                else:
                    y, x, _ = precision_recall_curve(truth, scores[known, column])
                axis.plot(x, y, label=name)
            axis.set_xlabel("false positive rate" if kind == "roc" else "recall")
            axis.set_ylabel("true positive rate" if kind == "roc" else "precision")
            axis.legend(loc="lower right" if kind == "roc" else "lower left", fontsize=8)
        fig.tight_layout()
        path = folder / f"{kind}_curves.png"
        fig.savefig(path, dpi=80)
        plt.close(fig)
        written.append(path)
    return written
