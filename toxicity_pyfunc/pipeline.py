"""The `main` job: train, evaluate and register as nested runs of one parent run."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import mlflow

from toxicity_pyfunc.config import EvaluateConfig, RegisterConfig, TrainConfig
from toxicity_pyfunc.evaluation import evaluate
from toxicity_pyfunc.registry import RegisterDecision, register
from toxicity_pyfunc.training import TrainResult, train

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineResult:
    trained: TrainResult
    report: dict[str, Any]
    decision: RegisterDecision


def run_pipeline(params: dict[str, Any], train_defaults: dict[str, Any]) -> PipelineResult:
    """Chain the three jobs; each reads its own fields from the shared parameters.

    `train_defaults` fills what `main` does not expose (the seed), from the `train` entry point.
    """
    with mlflow.start_run():
        trained = train(TrainConfig.from_mapping(train_defaults | params))
        shared = params | {"model_uri": trained.model_uri}
        report = evaluate(EvaluateConfig.from_mapping(shared))
        decision = register(RegisterConfig.from_mapping(shared))
        mlflow.log_params({"model_uri": trained.model_uri})
        mlflow.set_tag("registered_version", decision.version)
        return PipelineResult(trained, report, decision)
