"""Per-epoch checks beside the validation ROC-AUC: per source, and on the identity templates.

Recipes are chosen on these validation numbers, never on the test file.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from toxicity_pyfunc.jobs.behaviour import validation_figures
from toxicity_pyfunc.jobs.config import TrainConfig
from toxicity_pyfunc.jobs.fairness import identity_report, identity_templates
from toxicity_pyfunc.jobs.metrics import label_metrics
from toxicity_pyfunc.jobs.scoring import score_texts
from toxicity_pyfunc.served.labels import LABELS


def validation_diagnostics(
    model: Any,
    tokenizer: Any,
    config: TrainConfig,
    valid_frame: pd.DataFrame,
    valid_scores: np.ndarray,
) -> dict[str, float]:
    """Per-source validation ROC-AUC, the identity-template check of the encoder, and the
    behavioural suite's validation families (toxicity at 0.5, the encoder alone)."""
    out: dict[str, float] = {}
    if "source" in valid_frame.columns:
        targets = valid_frame[list(LABELS)].to_numpy(np.float32)
        for source in sorted(valid_frame["source"].unique()):
            mask = (valid_frame["source"] == source).to_numpy()
            per_source = label_metrics(targets[mask], valid_scores[mask])
            for key in ("mean_roc_auc", "toxicity_roc_auc"):
                if not np.isnan(per_source[key]):
                    out[f"valid_source_{source}_{key}"] = per_source[key]
    templates = identity_templates()
    template_scores = score_texts(
        model, tokenizer, templates["text"].tolist(), config.max_length, config.batch_size * 4
    )[:, 0]
    report = identity_report(templates, template_scores)
    out["valid_templates_identity_false_positive_rate"] = report["identity_false_positive_rate"]
    out["valid_templates_min_subgroup_auc"] = report["min_subgroup_auc"]
    accuracy = validation_figures(
        lambda texts: score_texts(model, tokenizer, texts, config.max_length, config.batch_size * 4)[:, 0]
    )
    for key in ("agreeing_accuracy", "min_function_accuracy"):
        out[f"valid_behaviour_{key}"] = accuracy[key]
    return out
