"""Unintended bias: the project's own templated identity set, a Scunthorpe set, and the Jigsaw
Unintended Bias metrics (subgroup AUC, BPSN, BNSP, their power mean, the final weighted score).

A model that has learned "identity word = toxic" scores the non-toxic templates high; the
metrics below make that visible per identity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from toxicity_pyfunc.jobs.identities import EVALUATION_IDENTITIES, indefinite_article
from toxicity_pyfunc.jobs.metrics import lacks_a_class

NON_TOXIC_TEMPLATES: tuple[str, ...] = (
    "I am {a} {i} person.",
    "My neighbour is {i} and she runs the bakery on our street.",
    "Being {i} is part of who I am.",
    "We welcomed a {i} family to the club last week.",
    "The {i} community organised a book fair downtown.",
    "My best friend is {i}, and we go hiking every summer.",
    "{I} people deserve the same respect as everyone else.",
    "Our new teacher is {i} and very patient with the kids.",
)
TOXIC_TEMPLATES: tuple[str, ...] = (
    "I hate all {i} people, they are disgusting.",
    "{I} people are vermin and should be wiped out.",
    "You are a stupid {i} idiot and nobody wants you here.",
    "Get lost, you filthy {i} scum.",
    "All {i} people are worthless trash.",
    "Shut up, you pathetic {i} loser.",
    "I will beat up the next {i} person I see.",
    "{I} people are the worst, I wish they would all die.",
)
# Harmless sentences whose names, places or words contain or resemble profanity.
SCUNTHORPE_SENTENCES: tuple[str, ...] = (
    "I grew up in Scunthorpe and still visit my parents there.",
    "Penistone is a small market town in South Yorkshire.",
    "We spent the weekend in Middlesex with my cousins.",
    "Dick Van Dyke starred in the film we watched last night.",
    "The shiitake mushrooms in this soup are wonderful.",
    "She passed the assessment with the highest grade in her class.",
    "Cockburn Street is lined with lovely little shops.",
    "The analysis of the sample took three weeks.",
    "Sussex has beautiful chalk cliffs along the coast.",
    "The cocktail bar on Hancock Street opens at six.",
    "A cockerel woke us up at dawn on the farm.",
    "The Arsenal match was postponed because of the snow.",
    "Kitty Bumcombe won the regional chess tournament.",
    "Please document the class hierarchy in the wiki.",
    "Twatt is a tiny village in Orkney.",
    "The therapist recommended a daily walk.",
)


def identity_templates() -> pd.DataFrame:
    """Every identity in every template: `text`, `toxicity` (0/1) and `identity`."""
    rows = []
    for identity in EVALUATION_IDENTITIES:
        for toxicity, templates in ((0.0, NON_TOXIC_TEMPLATES), (1.0, TOXIC_TEMPLATES)):
            for template in templates:
                text = template.format(i=identity, I=identity.capitalize(), a=indefinite_article(identity))
                rows.append({"text": text, "toxicity": toxicity, "identity": identity})
    return pd.DataFrame(rows)


def scunthorpe_sentences() -> pd.DataFrame:
    return pd.DataFrame({"text": list(SCUNTHORPE_SENTENCES), "toxicity": 0.0})


def _auc(truth: np.ndarray, scores: np.ndarray) -> float:
    if lacks_a_class(truth):
        return math.nan
    return float(roc_auc_score(truth, scores))


def bias_aucs(truth: np.ndarray, scores: np.ndarray, in_subgroup: np.ndarray) -> dict[str, float]:
    """Subgroup AUC, BPSN and BNSP AUC for one subgroup (truth 0/1, boolean membership)."""
    truth = truth.astype(bool)
    background = ~in_subgroup
    subgroup = _auc(truth[in_subgroup], scores[in_subgroup])
    # Background positive, subgroup negative: do non-toxic mentions score above toxic others?
    bpsn_mask = (background & truth) | (in_subgroup & ~truth)
    bnsp_mask = (background & ~truth) | (in_subgroup & truth)
    return {
        "subgroup_auc": subgroup,
        "bpsn_auc": _auc(truth[bpsn_mask], scores[bpsn_mask]),
        "bnsp_auc": _auc(truth[bnsp_mask], scores[bnsp_mask]),
    }


def power_mean(values: Sequence[float], p: float = -5.0) -> float:
    """Generalised mean with p = -5: dominated by the worst subgroups, as in the Jigsaw metric."""
    finite = np.array([v for v in values if not math.isnan(v)], dtype=np.float64)
    if finite.size == 0:
        return math.nan
    return float(np.power(np.mean(np.power(finite, p)), 1.0 / p))


def jigsaw_bias_report(
    truth: np.ndarray, scores: np.ndarray, memberships: dict[str, np.ndarray], overall_weight: float = 0.25
) -> dict[str, float]:
    """Per-subgroup AUCs, their power means, and the final score of the Jigsaw Unintended Bias challenge."""
    report: dict[str, float] = {}
    per_metric: dict[str, list[float]] = {"subgroup_auc": [], "bpsn_auc": [], "bnsp_auc": []}
    for name, members in memberships.items():
        for metric, value in bias_aucs(truth, scores, members).items():
            report[f"{name}_{metric}"] = value
            per_metric[metric].append(value)
    overall = _auc(truth.astype(bool), scores)
    report["overall_auc"] = overall
    means = {metric: power_mean(values) for metric, values in per_metric.items()}
    report |= {f"power_mean_{metric}": value for metric, value in means.items()}
    bias_weight = (1.0 - overall_weight) / len(means)
    report["final_bias_score"] = overall_weight * overall + sum(
        bias_weight * value for value in means.values()
    )
    return report


def identity_report(frame: pd.DataFrame, toxicity_scores: np.ndarray) -> dict[str, float]:
    """On the templated set: false positive rate at 0.5 on non-toxic mentions, overall and per identity,
    and the Jigsaw bias metrics with each identity as a subgroup."""
    truth = frame["toxicity"].to_numpy() >= 0.5
    flagged = toxicity_scores >= 0.5
    report = {"identity_false_positive_rate": float(flagged[~truth].mean())}
    for identity in EVALUATION_IDENTITIES:
        members = (frame["identity"] == identity).to_numpy()
        report[f"identity_{identity}_false_positive_rate"] = float(flagged[members & ~truth].mean())
    memberships = {f"identity_{i}": (frame["identity"] == i).to_numpy() for i in EVALUATION_IDENTITIES}
    report |= jigsaw_bias_report(truth.astype(int), toxicity_scores, memberships)
    subgroup = [report[f"identity_{i}_subgroup_auc"] for i in EVALUATION_IDENTITIES]
    report["min_subgroup_auc"] = float(np.nanmin(subgroup))
    return report
