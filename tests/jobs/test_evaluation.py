"""`evaluate`: model beside the TF-IDF baseline, curves and JSON in the run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from toxicity_pyfunc.jobs.baseline import baseline_scores
from toxicity_pyfunc.jobs.config import EvaluateConfig
from toxicity_pyfunc.jobs.data import load_labelled
from toxicity_pyfunc.jobs.evaluation import evaluate
from toxicity_pyfunc.served.labels import LABELS

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def test_baseline_learns_from_known_rows_only() -> None:
    train = load_labelled(SAMPLE / "train.csv")
    scores = baseline_scores(train, ["you are a stupid idiot", "thanks for fixing the citation"])
    assert scores.shape == (2, len(LABELS))
    assert scores[0, 0] > scores[1, 0]


def test_baseline_skips_labels_without_both_classes() -> None:
    train = load_labelled(SAMPLE / "train.csv")
    train["threat"] = 0.0
    scores = baseline_scores(train, ["hello"])
    assert np.isnan(scores[0, LABELS.index("threat")])


def test_evaluate_logs_metrics_baseline_curves_and_json(minilm_trained) -> None:
    config = EvaluateConfig(
        model_uri=minilm_trained.model_uri,
        test_data=str(SAMPLE / "test.csv"),
        train_data=str(SAMPLE / "train.csv"),
    )
    with mlflow.start_run() as run:
        report = evaluate(config)
    child = MlflowClient().search_runs(
        [run.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{run.info.run_id}'"
    )[0]
    metrics = child.data.metrics
    for label in LABELS:
        assert f"test_{label}_roc_auc" in metrics
        assert f"test_{label}_average_precision" in metrics
        assert f"test_{label}_f1" in metrics
    assert 0.5 < metrics["test_mean_roc_auc"] <= 1.0
    assert "baseline_test_mean_roc_auc" in metrics
    assert 0 <= metrics["test_labels_ahead_of_baseline"] <= len(LABELS)
    assert "templates_min_subgroup_auc" in metrics
    # Served by ONNX Runtime on this CPU: the cost against PyTorch fp32 is measured on test too.
    assert abs(metrics["test_auc_delta_runtime"]) < 0.02
    assert metrics["test_mean_roc_auc_torch"] == pytest.approx(
        metrics["test_mean_roc_auc"] + metrics["test_auc_delta_runtime"]
    )
    assert 0.0 <= metrics["templates_identity_false_positive_rate"] <= 1.0
    assert "templates_identity_gay_subgroup_auc" in metrics
    assert "templates_final_bias_score" in metrics
    assert 0.0 <= metrics["scunthorpe_max_toxicity"] <= 1.0
    # The model's own flag threshold (chosen on validation) is checked on the harmless sets too.
    threshold = json.loads((minilm_trained.saved_folder / "inference.json").read_text())["thresholds"][
        "toxicity"
    ]
    assert metrics["toxicity_threshold"] == pytest.approx(threshold)
    at_threshold = metrics["templates_false_positive_rate_at_model_threshold"]
    at_half = metrics["templates_identity_false_positive_rate"]
    assert at_threshold >= at_half if threshold <= 0.5 else at_threshold <= at_half
    assert 0.0 <= metrics["scunthorpe_flagged_rate_at_model_threshold"] <= 1.0
    assert metrics["test_mean_f1_at_thresholds"] >= 0.0
    # The suite is scored twice where a companion is blended in: as served, and the encoder alone.
    assert 0.0 <= metrics["behaviour_heldout_agreeing_accuracy"] <= 1.0
    assert 0.0 <= metrics["behaviour_encoder_heldout_agreeing_accuracy"] <= 1.0
    assert "behaviour_encoder_heldout_negated_hate_accuracy" in metrics
    # The validation families too, both ways (`train` scores them every epoch with the encoder).
    assert 0.0 <= metrics["behaviour_validation_agreeing_accuracy"] <= 1.0
    assert "behaviour_encoder_validation_agreeing_accuracy" in metrics
    assert not any(key.startswith("behaviour_encoder_trained_") for key in metrics)
    artifacts = {a.path for a in MlflowClient().list_artifacts(child.info.run_id, "evaluation")}
    assert {
        "evaluation/roc_curves.png",
        "evaluation/pr_curves.png",
        "evaluation/evaluation.json",
    } <= artifacts
    saved = json.loads(
        Path(
            mlflow.artifacts.download_artifacts(
                run_id=child.info.run_id, artifact_path="evaluation/evaluation.json"
            )
        ).read_text()
    )
    assert saved["model"]["mean_roc_auc"] == report["model"]["mean_roc_auc"]
    assert "baseline_tfidf_logreg" in saved


def test_per_source_metrics_judge_each_source_on_its_own_rows() -> None:
    from toxicity_pyfunc.jobs.evaluation import per_source_metrics

    test = pd.DataFrame({"source": ["a"] * 4 + ["b"] * 4})
    targets = np.full((8, len(LABELS)), np.nan, dtype=np.float32)
    targets[:, 0] = [0, 1, 0, 1, 0, 1, 0, 1]
    targets[4:, 1] = [0, 1, 0, 1]  # only source b carries severe_toxicity
    scores = np.zeros((8, len(LABELS)), dtype=np.float32)
    scores[:, 0] = [0.1, 0.9, 0.2, 0.8, 0.9, 0.1, 0.8, 0.2]  # right on a, reversed on b
    scores[4:, 1] = [0.1, 0.9, 0.2, 0.8]
    report = per_source_metrics(test, targets, scores)
    assert report["a"]["toxicity_roc_auc"] == 1.0
    assert report["b"]["toxicity_roc_auc"] == 0.0
    assert "severe_toxicity_roc_auc" not in report["a"]  # unknown there: left out, not NaN
    assert report["b"]["mean_roc_auc"] == pytest.approx(0.5)


def test_the_span_report_gives_the_gate_chosen_on_validation_and_the_f1_without_it(
    minilm_trained, tmp_path: Path
) -> None:
    from toxicity_pyfunc.jobs.evaluation import span_report
    from toxicity_pyfunc.served.model import ToxicityModel
    from toxicity_pyfunc.served.settings import InferenceSettings

    folder = tmp_path / "gated"
    shutil.copytree(minilm_trained.saved_folder, folder)
    settings = InferenceSettings.read(folder)
    assert settings.span_threshold is not None  # `train` chose one on the sample's annotated posts
    plain = span_report(ToxicityModel.from_folder(folder), str(SAMPLE / "spans_test.csv"))
    assert "test_span_f1_without_gate" not in plain or settings.span_gate is not None
    # A gate no word reaches: every post is left without spans, and the report says what that cost.
    InferenceSettings.model_validate(settings.model_dump() | {"span_gate": 1.0}).write(folder)
    gated = span_report(ToxicityModel.from_folder(folder), str(SAMPLE / "spans_test.csv"))
    assert gated["test_span_predicted_empty_share"] == 1.0
    assert gated["test_span_f1"] == pytest.approx(gated["test_span_gold_empty_share"])
    assert gated["test_span_f1_without_gate"] == pytest.approx(
        plain.get("test_span_f1_without_gate", plain["test_span_f1"])
    )
