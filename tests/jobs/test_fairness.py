"""Bias metrics checked against hand-computed values, and the templated identity set itself."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toxicity_pyfunc.jobs.data import load_labelled
from toxicity_pyfunc.jobs.fairness import (
    bias_aucs,
    identity_report,
    identity_templates,
    jigsaw_bias_report,
    power_mean,
    scunthorpe_sentences,
)
from toxicity_pyfunc.jobs.identities import EVALUATION_IDENTITIES as IDENTITIES


def test_templates_pair_every_identity_with_toxic_and_harmless_sentences() -> None:
    frame = identity_templates()
    counts = frame.groupby(["identity", "toxicity"]).size()
    assert set(frame["identity"]) == set(IDENTITIES)
    assert (counts == counts.iloc[0]).all()
    assert frame["text"].is_unique
    assert "I am an old person." in set(frame["text"])
    assert len(scunthorpe_sentences()) >= 10


def test_bias_aucs_by_hand() -> None:
    # Subgroup: rows 0-3. Within it toxic rows outrank non-toxic ones (subgroup AUC 1), but its
    # non-toxic rows (0.7) outrank the background's toxic rows (0.6): BPSN AUC 0.
    truth = np.array([0, 0, 1, 1, 0, 0, 1, 1])
    scores = np.array([0.7, 0.7, 0.9, 0.9, 0.1, 0.1, 0.6, 0.6])
    members = np.array([True] * 4 + [False] * 4)
    aucs = bias_aucs(truth, scores, members)
    assert aucs["subgroup_auc"] == 1.0
    assert aucs["bpsn_auc"] == 0.0
    assert aucs["bnsp_auc"] == 1.0


def test_power_mean_is_pulled_to_the_worst_subgroup() -> None:
    assert power_mean([0.8, 0.8]) == pytest.approx(0.8)
    assert power_mean([0.5, 1.0]) == pytest.approx(16.5 ** (-1 / 5))
    assert power_mean([0.5, 1.0]) < 0.75
    assert math.isnan(power_mean([]))


def test_final_score_weights() -> None:
    truth = np.array([0, 1, 0, 1])
    scores = np.array([0.1, 0.9, 0.2, 0.8])
    report = jigsaw_bias_report(truth, scores, {"a": np.array([True, True, False, False])})
    assert report["overall_auc"] == 1.0
    assert report["final_bias_score"] == pytest.approx(1.0)


def test_identity_report_flags_a_model_that_fears_one_word() -> None:
    frame = identity_templates()
    truth = frame["toxicity"].to_numpy()
    scores = np.where(frame["identity"] == "gay", 0.95, 0.1 + 0.8 * truth)
    report = identity_report(frame, scores)
    assert report["identity_gay_false_positive_rate"] == 1.0
    assert report["identity_muslim_false_positive_rate"] == 0.0
    assert report["identity_false_positive_rate"] == pytest.approx(1 / len(IDENTITIES))
    assert report["identity_gay_bpsn_auc"] < 0.5
    assert report["identity_muslim_subgroup_auc"] == 1.0


def test_identity_columns_are_kept_for_bias_metrics(tmp_path: Path) -> None:
    frame = pd.DataFrame({"comment_text": ["a", "b"], "target": [0.1, 0.9], "muslim": [1.0, None]})
    frame.to_csv(tmp_path / "cc.csv", index=False)
    loaded = load_labelled(tmp_path / "cc.csv")
    assert loaded["muslim"].iloc[0] == 1.0
    assert math.isnan(loaded["muslim"].iloc[1])


def test_identity_report_names_the_weakest_subgroup_auc() -> None:
    frame = identity_templates()
    truth = frame["toxicity"].to_numpy()
    # Perfect everywhere except "deaf", where harmless and toxic sentences score alike.
    scores = np.where(frame["identity"] == "deaf", 0.5, 0.1 + 0.8 * truth)
    report = identity_report(frame, scores)
    assert report["min_subgroup_auc"] == pytest.approx(0.5)
    assert report["identity_muslim_subgroup_auc"] == 1.0
