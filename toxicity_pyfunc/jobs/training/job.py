"""`train`: from two labelled files to a logged pyfunc with its companion, thresholds and runtime."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from toxicity_pyfunc.jobs import distributed
from toxicity_pyfunc.jobs.augment import augment_for_fairness, parse_source_weights, row_weights
from toxicity_pyfunc.jobs.config import TrainConfig
from toxicity_pyfunc.jobs.data import load_labelled
from toxicity_pyfunc.jobs.metrics import f1_at_thresholds, f1_thresholds
from toxicity_pyfunc.jobs.spans import (
    SpanCut,
    choose_span_cut,
    read_spans,
    spans_by_text,
    training_token_labels,
)
from toxicity_pyfunc.jobs.tracking import job_run, log_dataset, log_new_params
from toxicity_pyfunc.jobs.training.base_models import build_network
from toxicity_pyfunc.jobs.training.companion import fit_lexical_companion, save_lexical
from toxicity_pyfunc.jobs.training.export import choose_runtime
from toxicity_pyfunc.jobs.training.loop import fit, seed_everything, soup
from toxicity_pyfunc.jobs.training.packaging import log_saved_model, save_classifier
from toxicity_pyfunc.jobs.training.teacher import NO_TEACHER, load_teacher, teacher_scores
from toxicity_pyfunc.served.labels import LABELS
from toxicity_pyfunc.served.model import ToxicityModel
from toxicity_pyfunc.served.runtimes import torch_forward
from toxicity_pyfunc.served.settings import InferenceSettings

logger = logging.getLogger(__name__)

NO_FILE = "none"  # a file parameter set to this means "no such file"
SPANS_ONLY_SOURCE = "spans_only"


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
    teacher = None if config.teacher_model == NO_TEACHER else load_teacher(config.teacher_model)
    context = distributed.setup()
    try:
        original = load_labelled(config.train_data)
        train_spans = None if config.train_spans == NO_FILE else read_spans(config.train_spans)
        valid_spans = None if config.valid_spans == NO_FILE else read_spans(config.valid_spans)
        train_frame, weights = training_rows(config, original, train_spans, source_weights)
        valid_frame = load_labelled(config.valid_data)
        tracking = job_run("train") if context.is_main else nullcontext()
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
            network, tokenizer = build_network(config.base_model, config.pooling, config.encoder_layers)
            gold = spans_by_text(train_spans) if train_spans is not None else {}
            # A soup's members all start here: the pre-trained encoder and the same fresh heads.
            start = (
                {k: v.detach().clone() for k, v in network.state_dict().items()}
                if config.soup_members > 1
                else {}
            )
            members = []
            for member in range(config.soup_members):
                if member:  # the same start, another data draw and order
                    seed_everything(config.seed + member)
                    network.load_state_dict(start)
                    member_config = config.with_changes(seed=config.seed + member)
                    member_frame, member_weights = training_rows(
                        member_config, original, train_spans, source_weights
                    )
                else:
                    member_config, member_frame, member_weights = config, train_frame, weights
                texts = member_frame["text"].tolist()
                token_labels = training_token_labels(tokenizer, texts, config.max_length, gold)
                trained = fit(
                    member_config,
                    context,
                    (network, tokenizer),
                    member_frame,
                    member_weights,
                    token_labels,
                    valid_frame,
                    member=member,
                    teacher=None if teacher is None else teacher_scores(teacher, texts),
                )
                members.append(trained[2])
            if not context.is_main:
                return None
            model, tokenizer, best = trained
            if len(members) > 1:
                best = soup(config, model, tokenizer, members, valid_frame)
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
            settings = InferenceSettings(
                max_length=config.max_length,
                architecture="encoder-heads",
                pooling=config.pooling,
                plain_spelling=config.plain_spelling,
            )
            if valid_spans is not None and gold:
                cut = log_span_cut(model, tokenizer, settings, valid_spans)
                settings = settings.model_copy(
                    update={"span_threshold": cut.threshold, "span_gate": cut.gate}
                )
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


def training_rows(
    config: TrainConfig,
    original: pd.DataFrame,
    train_spans: pd.DataFrame | None,
    source_weights: dict[str, float],
) -> tuple[pd.DataFrame, np.ndarray]:
    """The training file with this seed's augmentation drawn, annotated posts added, and row weights."""
    frame = augment_for_fairness(
        original,
        config.identity_swaps,
        round(config.identity_example_share * len(original)),
        np.random.default_rng(config.seed),
        behaviour_examples=round(config.behaviour_example_share * len(original)),
        behaviour_compositional=config.behaviour_compositional,
        behaviour_stratified=config.behaviour_draw == "stratified",
        obfuscation_share=config.obfuscation_share,
        obfuscation_harmless_ratio=config.obfuscation_harmless_ratio,
    )
    if train_spans is not None:
        frame = with_span_only_rows(frame, train_spans)
    return frame, row_weights(frame, source_weights)


def with_span_only_rows(frame: pd.DataFrame, spans: pd.DataFrame) -> pd.DataFrame:
    """The training rows plus the annotated posts they lack, with every label unknown.

    On the shared data every annotated post is already a training row (its labels derived from
    the same annotations); elsewhere the posts teach the token head alone.
    """
    missing = spans.loc[~spans["text"].isin(set(frame["text"])), ["text"]].drop_duplicates()
    if missing.empty:
        return frame
    added = missing.assign(**dict.fromkeys(LABELS, np.float32(np.nan)))
    if "source" in frame.columns:
        added["source"] = SPANS_ONLY_SOURCE
    logger.info("%d annotated posts are not training rows: added for the token head only", len(added))
    return pd.concat([frame, added], ignore_index=True)[list(frame.columns)]


def log_span_cut(
    model: Any, tokenizer: Any, settings: InferenceSettings, valid_spans: pd.DataFrame
) -> SpanCut:
    """The word threshold and post gate with the best span F1 on the validation posts, logged."""
    device = next(model.parameters()).device
    provisional = settings.model_copy(update={"span_threshold": 0.5})  # words are scored whatever the cut
    served = ToxicityModel.assemble(
        provisional, tokenizer, torch_forward(model.eval(), device), f"torch-{device.type}"
    )
    texts = valid_spans["text"].tolist()
    words = served.analyze(texts, spans=True).words
    assert words is not None
    cut = choose_span_cut(texts, words, [set(o) for o in valid_spans["offsets"]])
    for candidate, f1 in cut.f1_by_threshold.items():
        mlflow.log_metric("valid_span_f1_by_threshold", f1, step=round(candidate * 100))
    mlflow.log_metrics(
        {
            "span_threshold": cut.threshold,
            "valid_span_f1": cut.f1,
            "valid_span_f1_without_gate": cut.f1_by_threshold[cut.threshold],
        }
        | ({"span_gate": cut.gate} if cut.gate is not None else {})
    )
    logger.info(
        "span threshold %.2f, gate %s: validation span F1 %.4f (%.4f without the gate)",
        cut.threshold,
        cut.gate,
        cut.f1,
        cut.f1_by_threshold[cut.threshold],
    )
    return cut


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
