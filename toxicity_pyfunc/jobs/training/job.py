"""`train`: from two labelled files to a logged pyfunc with its companion, thresholds and runtime."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from toxicity_pyfunc.jobs import distributed
from toxicity_pyfunc.jobs.augment import augment_for_fairness, parse_source_weights, row_weights
from toxicity_pyfunc.jobs.config import TrainConfig
from toxicity_pyfunc.jobs.data import load_labelled
from toxicity_pyfunc.jobs.metrics import f1_at_thresholds, f1_thresholds
from toxicity_pyfunc.jobs.training.companion import fit_lexical_companion, save_lexical
from toxicity_pyfunc.jobs.training.export import choose_runtime
from toxicity_pyfunc.jobs.training.loop import fit, seed_everything
from toxicity_pyfunc.jobs.training.packaging import log_saved_model, save_classifier
from toxicity_pyfunc.jobs.training.tracking import log_dataset, log_new_params
from toxicity_pyfunc.served.labels import LABELS
from toxicity_pyfunc.served.settings import InferenceSettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    """What later steps need from a training run."""

    run_id: str
    model_uri: str
    saved_folder: Path
    best_epoch: int
    best_valid_mean_roc_auc: float


def train(config: TrainConfig) -> TrainResult | None:
    """Fine-tune, validate every epoch, keep the best epoch, log it as a pyfunc.

    Under torchrun every process trains on its share of each epoch's batches (`batch_size`
    per process); rank 0 alone validates, tracks in MLflow and logs the model, and gets the
    result. Other ranks return None.
    """
    seed_everything(config.seed)
    source_weights = parse_source_weights(config.source_weights)  # a typo fails before any work
    context = distributed.setup()
    try:
        original = load_labelled(config.train_data)
        train_frame = augment_for_fairness(
            original,
            config.identity_swaps,
            round(config.identity_example_share * len(original)),
            np.random.default_rng(config.seed),
        )
        weights = row_weights(train_frame, source_weights)
        valid_frame = load_labelled(config.valid_data)
        tracking = (
            mlflow.start_run(run_name="train", nested=mlflow.active_run() is not None)
            if context.is_main
            else nullcontext()
        )
        with tracking as run:
            if context.is_main:
                assert run is not None
                log_new_params(
                    run.info.run_id,
                    config.model_dump()
                    | {
                        "device": context.device.type,
                        "processes": context.world_size,
                        "train_rows": len(original),
                        "train_rows_augmented": len(train_frame),
                    },
                )
                log_dataset(original, config.train_data, "training")
                log_dataset(valid_frame, config.valid_data, "validation")
            trained = fit(config, context, train_frame, weights, valid_frame)
            if not context.is_main:
                return None
            model, tokenizer, best = trained
            assert run is not None
            assert best.scores is not None
            lexical, lexical_weight, valid_scores = fit_lexical_companion(
                config,
                train_frame,
                weights,
                model=model,
                tokenizer=tokenizer,
                valid_frame=valid_frame,
                encoder_scores=best.scores,
            )
            thresholds = log_decision_thresholds(valid_frame, valid_scores)
            folder = Path(config.output_dir).resolve() / run.info.run_id / "classifier"
            settings = InferenceSettings(max_length=config.max_length)
            save_classifier(model.to("cpu"), tokenizer, settings, folder)
            if lexical is not None:
                save_lexical(lexical, folder)
            runtime, measured = choose_runtime(
                model,
                tokenizer,
                folder,
                valid_texts=valid_frame["text"].tolist(),
                valid_targets=valid_frame[list(LABELS)].to_numpy(np.float32),
                reference_auc=best.auc,
                settings=settings,
            )
            InferenceSettings.model_validate(
                settings.model_dump()
                | {"runtime": runtime, "lexical_weight": lexical_weight, "thresholds": thresholds}
            ).write(folder)
            mlflow.log_metrics(measured)
            mlflow.set_tag("runtime", runtime)
            model_uri = log_saved_model(folder)
            return TrainResult(run.info.run_id, model_uri, folder, best.epoch, best.auc)
    finally:
        distributed.teardown(context)


def log_decision_thresholds(valid_frame: pd.DataFrame, valid_scores: np.ndarray) -> dict[str, float]:
    """Per-label flag thresholds with the best validation F1, logged and returned for the model."""
    targets = valid_frame[list(LABELS)].to_numpy(np.float32)
    thresholds = f1_thresholds(targets, valid_scores)
    mlflow.log_metrics(
        {f"threshold_{label}": value for label, value in thresholds.items()}
        | {f"valid_{k}": v for k, v in f1_at_thresholds(targets, valid_scores, thresholds).items()}
    )
    logger.info("flag thresholds (best validation F1): %s", {k: round(v, 3) for k, v in thresholds.items()})
    return thresholds
