"""Registering a candidate and deciding, on the same test file, whether it becomes champion."""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from toxicity_pyfunc.jobs.config import RegisterConfig
from toxicity_pyfunc.jobs.scoring import mean_test_roc_auc
from toxicity_pyfunc.jobs.tracking import job_run, log_new_params

logger = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"
SCORE_TAG = "test_mean_roc_auc"


@dataclass(frozen=True)
class RegisterDecision:
    """The outcome of `register`, as logged."""

    registered_model: str
    version: str
    challenger_mean_roc_auc: float
    champion_version: str | None
    champion_mean_roc_auc: float | None
    promoted: bool


def _current_champion(client: MlflowClient, name: str) -> str | None:
    try:
        return str(client.get_model_version_by_alias(name, CHAMPION).version)
    except MlflowException:
        return None  # no registered model yet, or no champion alias


def _champion_score(config: RegisterConfig, version: str) -> float:
    """The champion's score on this test file; NaN when it cannot even be loaded any more."""
    champion_uri = f"models:/{config.registered_model}/{version}"
    try:
        return mean_test_roc_auc(champion_uri, config.test_data)
    except (MlflowException, OSError) as error:
        logger.warning("champion %s cannot be loaded (%s); the new version replaces it", champion_uri, error)
        mlflow.set_tag("champion_unloadable", str(error)[:500])
        return math.nan


def register(config: RegisterConfig) -> RegisterDecision:
    """Register the model as challenger; promote it to champion if it is at least as good.

    Both models are scored on this run's test file, so the comparison is like for like
    even when the champion was evaluated on other data when it was registered.
    """
    client = MlflowClient()
    with job_run("register") as run:
        champion_version = _current_champion(client, config.registered_model)
        candidate_auc = mean_test_roc_auc(config.model_uri, config.test_data)
        champion_auc = None
        if champion_version is not None:
            champion_auc = _champion_score(config, champion_version)

        version = mlflow.register_model(config.model_uri, config.registered_model).version
        client.set_registered_model_alias(config.registered_model, CHALLENGER, version)
        client.set_model_version_tag(config.registered_model, version, SCORE_TAG, f"{candidate_auc:.6f}")
        client.set_model_version_tag(config.registered_model, version, "test_data", config.test_data)

        promoted = champion_auc is None or (
            not math.isnan(candidate_auc) and (math.isnan(champion_auc) or candidate_auc >= champion_auc)
        )
        if promoted:
            client.set_registered_model_alias(config.registered_model, CHAMPION, version)
        decision = RegisterDecision(
            config.registered_model, str(version), candidate_auc, champion_version, champion_auc, promoted
        )
        log_new_params(run.info.run_id, config.model_dump())
        mlflow.log_metric("challenger_test_mean_roc_auc", candidate_auc)
        if champion_auc is not None:
            mlflow.log_metric("champion_test_mean_roc_auc", champion_auc)
        mlflow.log_dict(asdict(decision), "register_decision.json")
        mlflow.set_tag("promoted_to_champion", str(promoted).lower())
        logger.info(
            "%s version %s: test mean ROC-AUC %.4f vs champion %s (%s) -> %s",
            config.registered_model,
            version,
            candidate_auc,
            champion_version,
            "none" if champion_auc is None else f"{champion_auc:.4f}",
            "champion" if promoted else "stays challenger",
        )
        return decision
