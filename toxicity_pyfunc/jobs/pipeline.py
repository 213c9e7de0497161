"""The `main` job: train, evaluate and register as nested runs of one parent run."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import mlflow

from toxicity_pyfunc.jobs.config import EvaluateConfig, RegisterConfig, TrainConfig
from toxicity_pyfunc.jobs.evaluation import evaluate
from toxicity_pyfunc.jobs.registry import RegisterDecision, register
from toxicity_pyfunc.jobs.training import TrainResult, train

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
        trained = train(TrainConfig.pick(train_defaults | params))
        assert trained is not None  # one process: rank 0, which logs the model
        shared = params | {"model_uri": trained.model_uri}
        report = evaluate(EvaluateConfig.pick(shared))
        decision = register(RegisterConfig.pick(shared))
        mlflow.log_params({"model_uri": trained.model_uri})
        mlflow.set_tag("registered_version", decision.version)
        return PipelineResult(trained, report, decision)
