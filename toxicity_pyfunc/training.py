"""Fine-tuning: masked BCE on soft labels, AdamW with warm-up and linear decay, best epoch kept."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import torch
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase, get_linear_schedule_with_warmup

from toxicity_pyfunc import distributed
from toxicity_pyfunc.augment import augment_for_fairness, parse_source_weights, row_weights
from toxicity_pyfunc.batching import batch_loader, encode, length_grouped_batches
from toxicity_pyfunc.config import TrainConfig
from toxicity_pyfunc.data import load_labelled
from toxicity_pyfunc.fairness import identity_report, identity_templates
from toxicity_pyfunc.inference import autocast_for, score_encoded, score_texts
from toxicity_pyfunc.labels import LABELS
from toxicity_pyfunc.lexical import LexicalModel, blend, choose_blend_weight
from toxicity_pyfunc.metrics import (
    POSITIVE_AT,
    f1_at_thresholds,
    f1_thresholds,
    label_metrics,
    masked_bce_loss,
)
from toxicity_pyfunc.model import build_classifier
from toxicity_pyfunc.pyfunc import log_classifier, write_settings
from toxicity_pyfunc.runtimes import choose_runtime

logger = logging.getLogger(__name__)


class ModelUploadError(RuntimeError):
    """Training finished but logging the model failed; the model is safe on local disk."""


@dataclass(frozen=True)
class TrainResult:
    """What later steps need from a training run."""

    run_id: str
    model_uri: str
    saved_folder: Path
    best_epoch: int
    best_valid_mean_roc_auc: float


def seed_everything(seed: int) -> None:
    """Same seed, same data order, same initial head."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def log_dataset(frame: pd.DataFrame, path: str, context: str) -> None:
    """Record a data file as a run input, so the run says exactly what it learned from."""
    dataset = mlflow.data.from_pandas(frame, source=str(Path(path).resolve()), name=Path(path).name)
    mlflow.log_input(dataset, context=context)


def log_new_params(run_id: str, params: dict[str, object]) -> None:
    """Log the params the run does not have yet.

    `mlflow run` has already logged the entry point's parameters as they were written
    ("0" for a float 0.0); logging them again with another spelling would be refused.
    """
    logged = mlflow.get_run(run_id).data.params
    mlflow.log_params({key: value for key, value in params.items() if key not in logged})


def _make_optimizer(model: torch.nn.Module, config: TrainConfig, device: torch.device) -> torch.optim.AdamW:
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        (no_decay if parameter.ndim < 2 or "LayerNorm" in name else decay).append(parameter)
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=config.learning_rate, fused=device.type == "cuda")


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
                log_new_params(
                    run.info.run_id,
                    asdict(config)
                    | {
                        "device": context.device.type,
                        "processes": context.world_size,
                        "train_rows": len(original),
                        "train_rows_augmented": len(train_frame),
                    },
                )
                log_dataset(original, config.train_data, "training")
                log_dataset(valid_frame, config.valid_data, "validation")
            trained = _fit(config, context, train_frame, weights, valid_frame)
            if not context.is_main:
                return None
            model, tokenizer, best = trained
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
            folder = save_classifier(model.to("cpu"), tokenizer, config, run.info.run_id)
            if lexical is not None:
                lexical.save(folder)
            runtime, measured = choose_runtime(
                model,
                tokenizer,
                folder,
                valid_texts=valid_frame["text"].tolist(),
                valid_targets=valid_frame[list(LABELS)].to_numpy(np.float32),
                reference_auc=best.auc,
                max_length=config.max_length,
            )
            write_settings(
                folder,
                max_length=config.max_length,
                batch_size=64,
                runtime=runtime,
                lexical_weight=lexical_weight,
                thresholds=thresholds,
            )
            mlflow.log_metrics(measured)
            mlflow.set_tag("runtime", runtime)
            model_uri = log_saved_model(folder)
            return TrainResult(run.info.run_id, model_uri, folder, best.epoch, best.auc)
    finally:
        distributed.teardown(context)


def _fit(
    config: TrainConfig,
    context: distributed.Context,
    train_frame: pd.DataFrame,
    weights: np.ndarray,
    valid_frame: pd.DataFrame,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase, BestEpoch]:
    """The training loop proper; returns the best epoch's model (on rank 0)."""
    device = context.device
    model, tokenizer = build_classifier(config.base_model)
    model.to(device)
    network = (
        DistributedDataParallel(
            model,
            device_ids=[device.index] if device.type == "cuda" else None,
            broadcast_buffers=False,  # BERT's buffers are constants: no collective before each step
            gradient_as_bucket_view=True,
        )
        if context.distributed
        else model
    )
    pad_id = tokenizer.pad_token_id or 0
    labels = training_targets(train_frame, config.targets)
    train_encoded = encode(tokenizer, train_frame["text"].tolist(), config.max_length, labels, weights)
    valid_encoded = encode(tokenizer, valid_frame["text"].tolist(), config.max_length)
    valid_targets = valid_frame[list(LABELS)].to_numpy(np.float32)

    rng = np.random.default_rng(config.seed)  # the same on every rank: the same batches to share
    global_batch = config.batch_size * context.world_size  # batch_size is per process
    steps_per_epoch = len(
        distributed.shard(
            length_grouped_batches(train_encoded.lengths, global_batch, np.random.default_rng(0)), context
        )
    )
    total_steps = steps_per_epoch * config.epochs
    optimizer = _make_optimizer(model, config, device)
    scheduler = get_linear_schedule_with_warmup(
        optimizer, int(config.warmup_ratio * total_steps), total_steps
    )
    step_log = StepLog(enabled=context.is_main)
    throughput = Throughput(processes=context.world_size)
    best = BestEpoch()
    average = WeightAverage(model, config.ema_decay) if config.ema_decay > 0 and context.is_main else None
    for epoch in range(1, config.epochs + 1):
        batches = distributed.shard(length_grouped_batches(train_encoded.lengths, global_batch, rng), context)
        loader = batch_loader(train_encoded, batches, pad_id, on_gpu=device.type == "cuda")
        progress = tqdm(
            loader, desc=f"epoch {epoch}/{config.epochs}", mininterval=5, disable=not context.is_main
        )
        network.train()
        with throughput.timing(device):
            for batch in progress:
                on_device = {key: value.to(device, non_blocking=True) for key, value in batch.items()}
                loss = _train_step(network, on_device, optimizer, scheduler)
                step_log.add(loss, scheduler.get_last_lr()[0])
                throughput.count(on_device["attention_mask"])
                if average is not None:
                    average.update()
        step_log.flush()

        if context.is_main:
            if average is not None:
                average.copy_to_model()  # validate, keep and log the averaged weights
            model.eval()
            scores = score_encoded(model, valid_encoded, config.batch_size * 4, pad_id, device)
            metrics = label_metrics(valid_targets, scores)
            mlflow.log_metrics({f"valid_{k}": v for k, v in metrics.items() if not np.isnan(v)}, step=epoch)
            diagnostics = _validation_diagnostics(model, tokenizer, config, valid_frame, scores)
            mlflow.log_metrics(diagnostics, step=epoch)
            logger.info(
                "epoch %d: valid mean ROC-AUC %.4f; identity templates: false positives %.3f, "
                "lowest subgroup ROC-AUC %.3f",
                epoch,
                metrics["mean_roc_auc"],
                diagnostics["valid_templates_identity_false_positive_rate"],
                diagnostics["valid_templates_min_subgroup_auc"],
            )
            best.offer(epoch, metrics["mean_roc_auc"], model, scores)
            if average is not None:
                average.restore_training_weights()
        distributed.barrier(context)

    if context.is_main:
        mlflow.log_metrics(
            throughput.summary() | {"best_epoch": best.epoch, "best_valid_mean_roc_auc": best.auc}
        )
        best.restore(model)
    return model, tokenizer, best


def fit_lexical_companion(
    config: TrainConfig,
    train_frame: pd.DataFrame,
    weights: np.ndarray,
    *,
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    valid_frame: pd.DataFrame,
    encoder_scores: np.ndarray,
) -> tuple[LexicalModel | None, float, np.ndarray]:
    """Fit the TF-IDF companion on the training rows and choose its blend weight on validation.

    Logs the validation mean ROC-AUC at every candidate weight (step = weight x 100) and the
    identity-template check of the blend. `encoder_scores`: the kept epoch's validation scores.
    Returns the companion (None when the encoder alone is best), its weight, and the validation
    scores of the model as it will be served.
    """
    if config.lexical_max_weight == 0.0:
        return None, 0.0, encoder_scores
    valid_texts = valid_frame["text"].tolist()
    started = time.perf_counter()
    lexical = LexicalModel.fit(train_frame, weights, seed=config.seed)
    fit_seconds = time.perf_counter() - started
    valid_logits = lexical.logits(valid_texts)
    weight, by_weight = choose_blend_weight(
        encoder_scores,
        valid_logits,
        valid_frame[list(LABELS)].to_numpy(np.float32),
        config.lexical_max_weight,
    )
    for candidate, auc in by_weight.items():
        if not np.isnan(auc):
            mlflow.log_metric("valid_mean_roc_auc_by_lexical_weight", auc, step=round(candidate * 100))
    templates = identity_templates()
    template_texts = templates["text"].tolist()
    template_scores = blend(
        score_texts(model, tokenizer, template_texts, config.max_length, config.batch_size * 4),
        lexical.logits(template_texts),
        weight,
    )[:, 0]
    report = identity_report(templates, template_scores)
    mlflow.log_metrics(
        {
            "lexical_weight": weight,
            "lexical_fit_seconds": fit_seconds,
            "valid_blend_templates_identity_false_positive_rate": report["identity_false_positive_rate"],
            "valid_blend_templates_min_subgroup_auc": report["min_subgroup_auc"],
        }
        | ({"valid_mean_roc_auc_blended": by_weight[weight]} if not np.isnan(by_weight[weight]) else {})
    )
    logger.info(
        "TF-IDF companion: blend weight %.2f, valid mean ROC-AUC %.4f (encoder alone %.4f), fitted in %.0f s",
        weight,
        by_weight[weight],
        by_weight[0.0],
        fit_seconds,
    )
    return (lexical if weight > 0 else None), weight, blend(encoder_scores, valid_logits, weight)


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


def training_targets(frame: pd.DataFrame, mode: str) -> np.ndarray:
    """The label matrix to learn: annotator shares as they are ("soft") or cut at 0.5 ("binary").

    Unknown cells stay NaN either way, so the loss keeps masking them.
    """
    labels = frame[list(LABELS)].to_numpy(np.float32)
    if mode == "binary":
        labels = np.where(np.isnan(labels), labels, labels >= POSITIVE_AT).astype(np.float32)
    return labels


def _validation_diagnostics(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    config: TrainConfig,
    valid_frame: pd.DataFrame,
    valid_scores: np.ndarray,
) -> dict[str, float]:
    """Per-source validation ROC-AUC and the identity-template check: recipes chosen without test data."""
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
    return out


def _train_step(
    model: torch.nn.Module,
    batch: dict[str, torch.Tensor],
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
) -> torch.Tensor:
    """One optimiser step; returns the loss still on the device (no synchronisation)."""
    with autocast_for(batch["input_ids"].device):
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    loss = masked_bce_loss(logits, batch["labels"], batch.get("weights"))
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return loss.detach()


class StepLog:
    """Loss and learning rate for every step, sent to MLflow in batches.

    Losses stay on the GPU until a flush, so logging does not stall the training loop.
    """

    def __init__(self, every: int = 100, *, enabled: bool = True) -> None:
        self.every, self.step, self.enabled = every, 0, enabled
        self.pending: list[tuple[int, torch.Tensor, float]] = []

    def add(self, loss: torch.Tensor, learning_rate: float) -> None:
        self.step += 1
        if not self.enabled:
            return
        self.pending.append((self.step, loss, learning_rate))
        if len(self.pending) >= self.every:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        losses = torch.stack([loss for _, loss, _ in self.pending]).float().cpu().tolist()
        now = int(time.time() * 1000)
        metrics = []
        for (step, _, lr), loss in zip(self.pending, losses, strict=True):
            metrics += [Metric("train_loss", loss, now, step), Metric("learning_rate", lr, now, step)]
        run = mlflow.active_run()
        assert run is not None
        MlflowClient().log_batch(run.info.run_id, metrics=metrics, synchronous=False)
        self.pending = []


class Throughput:
    """Samples and real (unpadded) tokens per second of training time, validation excluded.

    Also reported after warm-up (the first `warmup_steps` steps, when kernels are chosen for
    new shapes and the loader fills up): the rate a long run settles at.
    """

    def __init__(self, processes: int = 1, warmup_steps: int = 50) -> None:
        self.samples, self.tokens, self.seconds, self.processes = 0, 0, 0.0, processes
        self.warmup_steps, self.steps = warmup_steps, 0
        self._token_counts: list[torch.Tensor] = []
        self._started = 0.0
        self._device = torch.device("cpu")
        self._mark: tuple[float, int] | None = None  # (seconds, samples) when warm-up ended

    @contextmanager
    def timing(self, device: torch.device) -> Iterator[None]:
        self._device, self._started = device, time.perf_counter()
        yield
        self._sync()
        self.seconds += time.perf_counter() - self._started

    def _sync(self) -> None:
        if self._device.type == "cuda":
            torch.cuda.synchronize()

    def count(self, attention_mask: torch.Tensor) -> None:
        self.samples += attention_mask.shape[0]
        self._token_counts.append(attention_mask.sum())
        self.steps += 1
        if self.steps == self.warmup_steps:
            self._sync()
            self._mark = (self.seconds + time.perf_counter() - self._started, self.samples)

    def summary(self) -> dict[str, float]:
        self.tokens += int(torch.stack(self._token_counts).sum()) if self._token_counts else 0
        self._token_counts = []
        seconds = max(self.seconds, 1e-9)
        # Every process does the same number of steps: together they did `processes` times as much.
        rates = {
            "train_samples_per_s": self.processes * self.samples / seconds,
            "train_tokens_per_s": self.processes * self.tokens / seconds,
        }
        if self._mark is not None and self.seconds > self._mark[0]:
            steady = (self.samples - self._mark[1]) / (self.seconds - self._mark[0])
            rates["train_samples_per_s_after_warmup"] = self.processes * steady
        return rates


class WeightAverage:
    """Exponential moving average of the weights, validated in their place at each epoch's end.

    The average smooths the last steps' noise; its decay is warmed up, (1 + t) / (10 + t), so
    early epochs are not dominated by the pre-trained starting point.
    """

    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        self.decay, self.updates = decay, 0
        self.parameters = [p for p in model.parameters() if p.requires_grad]
        self.shadow = [p.detach().clone() for p in self.parameters]
        self.backup: list[torch.Tensor] = []

    @torch.no_grad()
    def update(self) -> None:
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        torch._foreach_lerp_(self.shadow, [p.detach() for p in self.parameters], 1.0 - decay)

    @torch.no_grad()
    def copy_to_model(self) -> None:
        self.backup = [p.detach().clone() for p in self.parameters]
        torch._foreach_copy_(self.parameters, self.shadow)

    @torch.no_grad()
    def restore_training_weights(self) -> None:
        torch._foreach_copy_(self.parameters, self.backup)
        self.backup = []


class BestEpoch:
    """Keeps a CPU copy of the weights of the epoch with the best validation mean ROC-AUC,
    and that epoch's validation scores (the companion and the thresholds are chosen on them)."""

    def __init__(self) -> None:
        self.epoch, self.auc = 0, -1.0
        self.state: dict[str, torch.Tensor] | None = None
        self.scores: np.ndarray | None = None

    def offer(self, epoch: int, auc: float, model: torch.nn.Module, scores: np.ndarray) -> None:
        auc = 0.0 if np.isnan(auc) else auc
        if auc > self.auc:
            self.epoch, self.auc, self.scores = epoch, auc, scores
            self.state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}

    def restore(self, model: torch.nn.Module) -> None:
        if self.state is not None:
            model.load_state_dict(self.state)


def save_classifier(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, config: TrainConfig, run_id: str
) -> Path:
    """Write the Hugging Face folder to local disk first: it survives a failed upload."""
    folder = Path(config.output_dir).resolve() / run_id / "classifier"
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    write_settings(folder, max_length=config.max_length, batch_size=64)
    logger.info("saved fine-tuned classifier to %s", folder)
    return folder


_CREDENTIAL_PROBLEMS = (
    "NoCredentialsError",
    "Unable to locate credentials",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AccessDenied",
    "ExpiredToken",
    "InvalidToken",
)


def _explain_upload_failure(error: BaseException) -> str:
    """Name what to fix: S3 credentials in direct mode, otherwise the unreachable service."""
    chain, seen = [], error
    while seen is not None:
        chain.append(f"{seen.__class__.__name__}: {seen}")
        seen = seen.__cause__ or seen.__context__
    text = " | ".join(chain)
    if any(marker in text for marker in _CREDENTIAL_PROBLEMS):
        return (
            "the artifact store refused or found no S3 credentials. Set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), AWS_DEFAULT_REGION, and MLFLOW_S3_ENDPOINT_URL for "
            "an S3-compatible store; or use a tracking server with proxied artifacts (--serve-artifacts)"
        )
    return f"the tracking server or artifact store is unreachable or failing ({chain[0][:300]})"


def log_saved_model(folder: Path) -> str:
    """Log a saved classifier folder to the active run; on failure say why and how to retry."""
    try:
        info = log_classifier(folder)
    except Exception as error:
        raise ModelUploadError(
            f"logging the model failed: {_explain_upload_failure(error)}. "
            f"The trained model is kept at {folder}. Once that is fixed, log it again with: "
            f"mlflow run . -e upload -P model_dir={folder} --env-manager local"
        ) from error
    logger.info("logged model %s", info.model_uri)
    return info.model_uri
