"""Metrics must ignore unknown labels, not read them as 0."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from toxicity_pyfunc.jobs.metrics import f1_at_thresholds, f1_thresholds, label_metrics

nan = float("nan")


def test_metrics_skip_unknown_rows() -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, 200).astype(np.float32)
    scores = np.clip(truth * 0.3 + rng.random(200) * 0.7, 0, 1)
    targets = np.tile(truth[:, None], (1, 6))
    targets[:50, 1] = nan  # label 1 unknown for 50 rows
    # Scores on unknown rows are adversarial: they would wreck the AUC if counted.
    all_scores = np.tile(scores[:, None], (1, 6))
    all_scores[:50, 1] = 1.0 - targets[:50, 0]
    metrics = label_metrics(targets, all_scores)
    assert metrics["severe_toxicity_support"] == 150
    assert math.isclose(
        metrics["severe_toxicity_roc_auc"], roc_auc_score(truth[50:], scores[50:]), rel_tol=1e-9
    )


def test_soft_targets_are_positive_from_half() -> None:
    targets = np.array([[0.4], [0.5], [0.0], [0.9]], dtype=np.float32)
    scores = np.array([[0.1], [0.8], [0.2], [0.9]], dtype=np.float32)
    metrics = label_metrics(targets, scores, labels=["toxicity"])
    assert metrics["toxicity_positives"] == 2
    assert metrics["toxicity_roc_auc"] == 1.0


def test_single_class_label_is_nan_and_left_out_of_mean() -> None:
    targets = np.array([[1, 0], [0, 0], [1, 0]], dtype=np.float32)
    scores = np.array([[0.9, 0.2], [0.1, 0.3], [0.8, 0.1]], dtype=np.float32)
    metrics = label_metrics(targets, scores, labels=["a", "b"])
    assert math.isnan(metrics["b_roc_auc"])
    assert metrics["mean_roc_auc"] == 1.0


def test_thresholds_catch_a_rare_label_that_never_reaches_half() -> None:
    # Threat-like: positives ranked first but scored 0.2-0.3, so nothing is flagged at 0.5.
    scores = np.array([[0.30], [0.25], [0.20], [0.12], [0.10], [0.05], [0.02], [0.01]])
    targets = np.array([[1.0], [1.0], [1.0], [0.0], [0.0], [0.0], [nan], [0.0]])
    assert label_metrics(targets, scores, labels=["threat"])["threat_f1"] == 0.0
    thresholds = f1_thresholds(targets, scores, labels=["threat"])
    assert thresholds["threat"] == pytest.approx(0.16)  # halfway between 0.20 (flagged) and 0.12
    at = f1_at_thresholds(targets, scores, thresholds, labels=["threat"])
    assert at == {"threat_f1_at_threshold": 1.0, "mean_f1_at_thresholds": 1.0}
    # Served by another runtime, the scores move a little: the flags stay where they were.
    for shift in (-0.03, 0.03):
        moved = f1_at_thresholds(targets, scores + shift, thresholds, labels=["threat"])
        assert moved["threat_f1_at_threshold"] == 1.0


def test_threshold_of_a_label_without_both_classes_stays_at_half() -> None:
    scores = np.array([[0.9, 0.8], [0.1, 0.2]])
    targets = np.array([[1.0, 0.0], [0.0, nan]])
    assert f1_thresholds(targets, scores, labels=["toxicity", "threat"])["threat"] == 0.5
    at = f1_at_thresholds(targets, scores, {"toxicity": 0.5}, labels=["toxicity", "threat"])
    assert set(at) == {"toxicity_f1_at_threshold", "mean_f1_at_thresholds"}
