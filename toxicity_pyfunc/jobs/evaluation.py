"""Scoring a logged model on a test file, beside the TF-IDF baseline, and logging the report."""

from __future__ import annotations

import json
import logging
import math
import tempfile
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.pyfunc import PyFuncModel

from toxicity_pyfunc.jobs.baseline import baseline_scores
from toxicity_pyfunc.jobs.behaviour import behaviour_report
from toxicity_pyfunc.jobs.config import EvaluateConfig
from toxicity_pyfunc.jobs.data import load_labelled
from toxicity_pyfunc.jobs.fairness import (
    identity_report,
    identity_templates,
    jigsaw_bias_report,
    scunthorpe_sentences,
)
from toxicity_pyfunc.jobs.identities import IDENTITY_COLUMNS
from toxicity_pyfunc.jobs.metrics import f1_at_thresholds, label_metrics, plot_curves
from toxicity_pyfunc.jobs.scoring import score_texts, score_with_model
from toxicity_pyfunc.jobs.spans import mean_span_f1, read_spans, span_breakdown
from toxicity_pyfunc.jobs.tracking import job_run, log_new_params
from toxicity_pyfunc.served.labels import LABELS
from toxicity_pyfunc.served.model import ToxicityModel
from toxicity_pyfunc.served.spans import characters, spans_from_words

logger = logging.getLogger(__name__)


def served_model(model: PyFuncModel) -> ToxicityModel:
    """The project's model inside a loaded pyfunc; any other pyfunc is refused by name."""
    inner = model.unwrap_python_model()
    if not isinstance(inner, ToxicityModel):
        raise TypeError(f"the model is a {type(inner).__name__}, not the project's ToxicityModel")
    return inner


def fairness_report(model: PyFuncModel, test: pd.DataFrame, test_scores: np.ndarray) -> dict[str, float]:
    """Templated identity set, Scunthorpe set, and Jigsaw bias metrics when the test file has identities."""
    templates = identity_templates()
    template_scores = score_with_model(model, templates["text"].tolist())[:, 0]
    report = {f"templates_{k}": v for k, v in identity_report(templates, template_scores).items()}
    harmless = scunthorpe_sentences()
    harmless_scores = score_with_model(model, harmless["text"].tolist())[:, 0]
    report["scunthorpe_max_toxicity"] = float(harmless_scores.max())
    report["scunthorpe_flagged_rate"] = float((harmless_scores >= 0.5).mean())
    # /predict flags at the model's own toxicity threshold: the harmless sets are checked there too.
    threshold = served_model(model).thresholds["toxicity"]
    harmless_templates = templates["toxicity"].to_numpy() < 0.5
    report["toxicity_threshold"] = threshold
    report["templates_false_positive_rate_at_model_threshold"] = float(
        (template_scores[harmless_templates] >= threshold).mean()
    )
    report["scunthorpe_flagged_rate_at_model_threshold"] = float((harmless_scores >= threshold).mean())
    identity_columns = [column for column in IDENTITY_COLUMNS if column in test.columns]
    known = test["toxicity"].notna().to_numpy()
    if identity_columns and known.any():
        memberships = {
            column: (test.loc[known, column].fillna(0).to_numpy() >= 0.5) for column in identity_columns
        }
        truth = (test.loc[known, "toxicity"].to_numpy() >= 0.5).astype(int)
        bias = jigsaw_bias_report(truth, test_scores[known, 0], memberships)
        report |= {f"test_bias_{k}": v for k, v in bias.items()}
    return report


def span_report(served: ToxicityModel, path: str) -> dict[str, float]:
    """The toxic-spans task's metric on an annotated file, at the model's stored threshold."""
    posts = read_spans(path)
    if not served.has_spans:
        logger.warning("the model has no span head: no span F1 on %s", path)
        return {}
    texts = posts["text"].tolist()
    scored = served.analyze(texts, spans=True)
    assert scored.spans is not None
    assert scored.words is not None
    predicted = [characters(spans) for spans in scored.spans]
    gold = [set(offsets) for offsets in posts["offsets"]]
    parts = span_breakdown(predicted, gold)
    logger.info("span F1 on %s: %.4f (%d posts)", path, parts["f1"], len(posts))
    report = {
        "test_span_posts": float(len(posts)),
        **{f"test_span_{key}": value for key, value in parts.items()},
    }
    threshold = served.settings.span_threshold
    if served.settings.span_gate is not None and threshold is not None:
        # What the post gate chosen on validation did here: the same words without it.
        ungated = [
            characters(spans_from_words(text, words, threshold))
            for text, words in zip(texts, scored.words, strict=True)
        ]
        report["test_span_f1_without_gate"] = mean_span_f1(ungated, gold)
    return report


def quantization_cost(
    model: PyFuncModel, texts: list[str], targets: np.ndarray, served_auc: float
) -> dict[str, float]:
    """For an ONNX-served model: mean ROC-AUC of the same weights in PyTorch fp32 minus the served one.

    `train` decided on int8 from the validation file; this is the same cost on the test file.
    """
    import torch

    from toxicity_pyfunc.served.network import load_classifier

    served = served_model(model)
    if not served.runtime.startswith("onnx") or served.folder is None:
        return {}
    classifier, tokenizer = load_classifier(served.folder)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    # The same blend with the TF-IDF companion as served: only the encoder's runtime differs.
    encoder_scores = score_texts(
        classifier.to(device), tokenizer, texts, served.max_length, served.settings.batch_size
    )
    reference = served.with_companion(texts, encoder_scores)
    reference_auc = label_metrics(targets, reference)["mean_roc_auc"]
    logger.info("test mean ROC-AUC: PyTorch %.4f, served %s %.4f", reference_auc, served.runtime, served_auc)
    return {"test_mean_roc_auc_torch": reference_auc, "test_auc_delta_runtime": reference_auc - served_auc}


def _json_safe(value: Any) -> Any:
    """NaN is not JSON: write it as null."""
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _finite(metrics: dict[str, float]) -> dict[str, float]:
    return {key: value for key, value in metrics.items() if not math.isnan(value)}


def per_source_metrics(
    test: pd.DataFrame, targets: np.ndarray, scores: np.ndarray
) -> dict[str, dict[str, float]]:
    """Label metrics on the rows of each source: sources label differently, one mean hides it."""
    out = {}
    for source in sorted(test["source"].unique()):
        mask = (test["source"] == source).to_numpy()
        out[source] = _finite(label_metrics(targets[mask], scores[mask]))
    return out


def evaluate(config: EvaluateConfig) -> dict[str, Any]:
    """Score the test file with the model and the baseline; log metrics, curves and JSON."""
    test = load_labelled(config.test_data)
    train = load_labelled(config.train_data)
    targets = test[list(LABELS)].to_numpy(np.float32)
    texts = test["text"].tolist()

    with job_run("evaluate") as run:
        log_new_params(run.info.run_id, config.model_dump())
        model = mlflow.pyfunc.load_model(config.model_uri)
        model_scores = score_with_model(model, texts)
        reference_scores = baseline_scores(train, texts)
        model_metrics = label_metrics(targets, model_scores)
        model_metrics |= f1_at_thresholds(targets, model_scores, dict(served_model(model).thresholds))
        baseline_metrics = label_metrics(targets, reference_scores)
        report: dict[str, Any] = {
            "model_uri": config.model_uri,
            "test_data": config.test_data,
            "test_rows": len(test),
            "model": model_metrics,
            "baseline_tfidf_logreg": baseline_metrics,
            "lead_over_baseline_mean_roc_auc": model_metrics["mean_roc_auc"]
            - baseline_metrics["mean_roc_auc"],
        }
        report["labels_ahead_of_baseline"] = [
            label
            for label in LABELS
            if model_metrics[f"{label}_roc_auc"] > baseline_metrics[f"{label}_roc_auc"]
        ]
        if "source" in test.columns:
            report["per_source"] = per_source_metrics(test, targets, model_scores)
            report["per_source_baseline"] = per_source_metrics(test, targets, reference_scores)
            for prefix, key in (
                ("test_source", "per_source"),
                ("baseline_test_source", "per_source_baseline"),
            ):
                mlflow.log_metrics(
                    {
                        f"{prefix}_{source}_{name}": value
                        for source, metrics in report[key].items()
                        for name, value in metrics.items()
                        if name.endswith("roc_auc")
                    }
                )
        report["fairness"] = fairness_report(model, test, model_scores)
        behaviour, sentences = behaviour_report(lambda texts: score_with_model(model, texts)[:, 0])
        report["behaviour"] = behaviour
        mlflow.log_metrics(_finite(behaviour))
        # How much of it is the encoder's own: the suite again without the companion's blend.
        served = served_model(model)
        alone = (
            behaviour_report(lambda texts: served.analyze(texts, blend=False).scores[:, 0])[0]
            if served.companion is not None
            else behaviour
        )
        encoder = {  # held-out and validation families: `train` scores the latter with the encoder alone
            key.replace("behaviour_", "behaviour_encoder_", 1): value
            for key, value in alone.items()
            if key.startswith(("behaviour_heldout_", "behaviour_validation_"))
            and key.endswith("_accuracy")
            and "obfuscated" not in key
        }
        report["behaviour"] |= encoder
        mlflow.log_metrics(_finite(encoder))
        if config.test_spans != "none":
            report["spans"] = span_report(served, config.test_spans)
            mlflow.log_metrics(_finite(report["spans"]))
        report["runtime_cost"] = quantization_cost(model, texts, targets, model_metrics["mean_roc_auc"])
        mlflow.log_metrics(_finite(report["runtime_cost"]))
        mlflow.log_metric("test_labels_ahead_of_baseline", len(report["labels_ahead_of_baseline"]))
        mlflow.log_metrics(_finite(report["fairness"]))
        mlflow.log_metrics({f"test_{k}": v for k, v in _finite(model_metrics).items()})
        mlflow.log_metrics({f"baseline_test_{k}": v for k, v in _finite(baseline_metrics).items()})
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            plot_curves(targets, {"model": model_scores, "tf-idf baseline": reference_scores}, folder)
            sentences.to_csv(folder / "behaviour.csv", index=False)
            (folder / "evaluation.json").write_text(
                json.dumps(_json_safe(report), indent=2), encoding="utf-8"
            )
            mlflow.log_artifacts(str(folder), artifact_path="evaluation")
        logger.info(
            "test mean ROC-AUC: model %.4f, TF-IDF baseline %.4f",
            model_metrics["mean_roc_auc"],
            baseline_metrics["mean_roc_auc"],
        )
        return report
