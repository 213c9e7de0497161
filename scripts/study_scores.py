"""What seed ensembles, the TF-IDF companion and per-source recalibration would buy, from scores
saved by scripts/score_runs.py (no retraining; runs on a CPU in about a minute).

For each model (and its toxicity error split into pairs within and across sources) and for
averages of 2..N of them: the issue's three numbers (mean ROC-AUC of the
six labels on the six-label rows, toxicity ROC-AUC on all rows, mean over all rows) on the
validation and test files; the same blended with a TF-IDF companion fitted as `train` fits it;
and an upper bound for recalibrating toxicity per source when the source is known.
With --per-model, only each model's numbers (for scores that already include the companion,
as `score_runs.py` saves them for models trained with it).
Usage: python scripts/study_scores.py SCORES.npz TRAIN_CSV VALID_CSV TEST_CSV [--per-model] > study.json
"""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.special import logit
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from toxicity_pyfunc.jobs.augment import augment_for_fairness, parse_source_weights, row_weights
from toxicity_pyfunc.jobs.config import project_defaults
from toxicity_pyfunc.jobs.data import load_labelled
from toxicity_pyfunc.jobs.metrics import label_metrics
from toxicity_pyfunc.jobs.training.companion import fit_lexical
from toxicity_pyfunc.served.labels import LABELS
from toxicity_pyfunc.served.lexical import blend

SIX_LABEL_SOURCE = "jigsaw_wiki_6label_samples"
TOXIC_SPANS_SOURCE = "civil_comments_toxic_spans_derived"


def issue_numbers(frame: pd.DataFrame, scores: np.ndarray) -> dict[str, float]:
    targets = frame[list(LABELS)].to_numpy(np.float32)
    six = (frame["source"] == SIX_LABEL_SOURCE).to_numpy()
    every_row = label_metrics(targets, scores)
    return {
        "six_label_rows_mean": round(label_metrics(targets[six], scores[six])["mean_roc_auc"], 4),
        "toxicity_all_rows": round(every_row["toxicity_roc_auc"], 4),
        "all_rows_mean": round(every_row["mean_roc_auc"], 4),
    }


def source_recalibrated_toxicity(valid: pd.DataFrame, test: pd.DataFrame, valid_p, test_p) -> float:
    """Toxicity ROC-AUC on test after a per-source linear recalibration fitted on validation."""
    sources = sorted(valid["source"].unique())

    def features(frame: pd.DataFrame, scores: np.ndarray) -> np.ndarray:
        onehot = np.stack([(frame["source"] == s).to_numpy(float) for s in sources], axis=1)
        return np.hstack([onehot, onehot * logit(np.clip(scores, 1e-6, 1 - 1e-6))[:, None]])

    truth_valid = valid["toxicity"].to_numpy() >= 0.5
    calibrator = LogisticRegression(C=10, max_iter=2000).fit(features(valid, valid_p), truth_valid)
    return round(
        roc_auc_score(
            test["toxicity"].to_numpy() >= 0.5, calibrator.decision_function(features(test, test_p))
        ),
        4,
    )


def _wrongly_ranked_pairs(positives: np.ndarray, negatives: np.ndarray) -> int:
    """(positive, negative) pairs where the negative scores at least as high (ties count whole)."""
    ordered = np.sort(negatives)
    return int((len(ordered) - np.searchsorted(ordered, positives, side="left")).sum())


def toxicity_error_by_source_pairs(frame: pd.DataFrame, scores: np.ndarray) -> dict[str, float]:
    """1 - toxicity ROC-AUC on all rows, split into (positive, negative) pairs from the same source
    and pairs from two sources: what recalibrating sources against each other could reach."""
    truth = frame["toxicity"].to_numpy() >= 0.5
    source = frame["source"].to_numpy()
    pairs = truth.sum() * (~truth).sum()
    wrong = _wrongly_ranked_pairs(scores[truth], scores[~truth])
    within = sum(
        _wrongly_ranked_pairs(scores[truth & (source == name)], scores[~truth & (source == name)])
        for name in np.unique(source)
    )
    return {"within_sources": round(within / pairs, 4), "across_sources": round((wrong - within) / pairs, 4)}


def toxic_spans_auc_by_agreement(frame: pd.DataFrame, scores: np.ndarray) -> dict[str, float]:
    """Toxicity ROC-AUC inside the toxic-spans source, on posts whose annotators all agreed
    (share 0 or 1) and on posts with split votes: where the ranking fails."""
    rows = (frame["source"] == TOXIC_SPANS_SOURCE).to_numpy()
    share = frame["toxicity"].to_numpy()[rows]
    unanimous = (share == 0) | (share == 1)
    result = {}
    for name, subset in (("unanimous", unanimous), ("split_votes", ~unanimous)):
        result[name] = round(roc_auc_score(share[subset] >= 0.5, scores[rows][subset]), 4)
        result[f"{name}_posts"] = int(subset.sum())
    return result


def per_model_report(
    splits: dict[str, pd.DataFrame], saved: Mapping[str, np.ndarray], runs: list[str]
) -> dict[str, object]:
    """Each model on its own: the issue's numbers on both files and where its toxicity errs."""
    test = splits["test"]
    return {
        "runs": runs,
        "per_model_test": {run: issue_numbers(test, saved[f"{run}__test"]) for run in runs},
        "per_model_valid": {run: issue_numbers(splits["valid"], saved[f"{run}__valid"]) for run in runs},
        "toxicity_test_error_by_source_pairs": {
            run: toxicity_error_by_source_pairs(test, saved[f"{run}__test"][:, 0]) for run in runs
        },
        "toxic_spans_test_auc_by_agreement": {
            run: toxic_spans_auc_by_agreement(test, saved[f"{run}__test"][:, 0]) for run in runs
        },
    }


def main() -> None:
    scores_path, train_path, valid_path, test_path = sys.argv[1:5]
    saved = np.load(scores_path)
    runs = sorted({key.rsplit("__", 1)[0] for key in saved})
    splits = {"valid": load_labelled(valid_path), "test": load_labelled(test_path)}
    report = per_model_report(splits, saved, runs)
    if "--per-model" in sys.argv[5:]:
        json.dump(report, sys.stdout, indent=1)
        return
    defaults = project_defaults("train")
    train = load_labelled(train_path)
    augmented = augment_for_fairness(
        train,
        int(float(defaults["identity_swaps"])),
        round(float(defaults["identity_example_share"]) * len(train)),
        np.random.default_rng(42),
    )
    companion = fit_lexical(  # as `train` fits it
        augmented,
        row_weights(augmented, parse_source_weights(defaults["source_weights"])),
        identity_blind=True,
    )
    companion_logits = {split: companion.logits(frame["text"].tolist()) for split, frame in splits.items()}

    for size in range(1, len(runs) + 1):
        for split, frame in splits.items():
            members = [
                np.mean([saved[f"{run}__{split}"] for run in group], axis=0)
                for group in itertools.combinations(runs, size)
            ]
            for weight in (0.0, 0.3):
                numbers = [issue_numbers(frame, blend(m, companion_logits[split], weight)) for m in members]
                report[f"models_{size}_{split}_companion_{weight}"] = {
                    key: round(float(np.mean([n[key] for n in numbers])), 4) for key in numbers[0]
                }
    report["toxicity_test_recalibrated_per_known_source"] = {
        run: {
            "before": issue_numbers(splits["test"], saved[f"{run}__test"])["toxicity_all_rows"],
            "after": source_recalibrated_toxicity(
                splits["valid"], splits["test"], saved[f"{run}__valid"][:, 0], saved[f"{run}__test"][:, 0]
            ),
        }
        for run in runs
    }
    json.dump(report, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
