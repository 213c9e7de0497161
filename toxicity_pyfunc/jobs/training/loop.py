"""The training loop: masked BCE on soft labels, AdamW with warm-up and linear decay, best epoch kept."""

from __future__ import annotations

import contextlib
import logging
import random
import resource
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm
from transformers import get_linear_schedule_with_warmup

from toxicity_pyfunc.jobs import distributed
from toxicity_pyfunc.jobs.config import TrainConfig
from toxicity_pyfunc.jobs.metrics import POSITIVE_AT, label_metrics
from toxicity_pyfunc.jobs.scoring import score_encoded
from toxicity_pyfunc.jobs.training.batches import (
    LabelledRows,
    batch_loader,
    length_grouped_batches,
    micro_batches,
)
from toxicity_pyfunc.jobs.training.diagnostics import validation_diagnostics
from toxicity_pyfunc.jobs.training.loss import known_weight, masked_bce_loss
from toxicity_pyfunc.jobs.training.teacher import distilled_targets, log_teacher
from toxicity_pyfunc.jobs.training.tracking import StepLog, Throughput
from toxicity_pyfunc.served.batching import Encoded, encode
from toxicity_pyfunc.served.labels import LABELS
from toxicity_pyfunc.served.network import ToxicityNetwork
from toxicity_pyfunc.served.runtimes import autocast_for

logger = logging.getLogger(__name__)


def seed_everything(seed: int) -> None:
    """Same seed, same data order, same initial head."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def make_optimizer(model: torch.nn.Module, config: TrainConfig, device: torch.device) -> torch.optim.AdamW:
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    for name, parameter in model.named_parameters():
        (no_decay if parameter.ndim < 2 or "LayerNorm" in name else decay).append(parameter)
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=config.learning_rate, fused=device.type == "cuda")


def fit(  # noqa: PLR0917 (the job hands over what it prepared, in order)
    config: TrainConfig,
    context: distributed.Context,
    network_and_tokenizer: tuple[ToxicityNetwork, Any],
    train_frame: pd.DataFrame,
    weights: np.ndarray,
    token_labels: list[np.ndarray | None],
    valid_frame: pd.DataFrame,
    *,
    member: int = 0,
    teacher: np.ndarray | None = None,
) -> tuple[ToxicityNetwork, Any, BestEpoch]:
    """The training loop proper; returns the best epoch's model (on rank 0).

    `token_labels`: per training row, a label per token for the span head (NaN: not known),
    or None where the row has no span annotations. `member`: which member of a weight soup this
    is (its epochs are logged after those of the members before it). `teacher`: a stronger
    model's scores for the training rows, mixed into the targets (`distill_weight`).
    """
    device = context.device
    model, tokenizer = network_and_tokenizer
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
    targets = training_targets(train_frame, config.targets)
    if teacher is not None:
        if context.is_main:
            log_teacher(targets, teacher)
        targets = distilled_targets(targets, teacher, config.distill_weight)
    train_rows = LabelledRows(
        encode(tokenizer, train_frame["text"].tolist(), config.max_length), targets, weights, token_labels
    )
    valid_encoded = encode(tokenizer, valid_frame["text"].tolist(), config.max_length)
    valid_targets = valid_frame[list(LABELS)].to_numpy(np.float32)

    rng = np.random.default_rng(config.seed)  # the same on every rank: the same batches to share
    global_batch = config.batch_size * context.world_size  # batch_size is per process
    steps_per_epoch = len(
        distributed.shard(
            length_grouped_batches(train_rows.encoded.lengths, global_batch, np.random.default_rng(0)),
            context,
        )
    )
    total_steps = steps_per_epoch * config.epochs
    optimizer = make_optimizer(model, config, device)
    scheduler = get_linear_schedule_with_warmup(
        optimizer, int(config.warmup_ratio * total_steps), total_steps
    )
    step_log = StepLog(enabled=context.is_main)
    throughput = Throughput(processes=context.world_size)
    best = BestEpoch()
    average = WeightAverage(model, config.ema_decay) if config.ema_decay > 0 and context.is_main else None
    for epoch in range(1, config.epochs + 1):
        batches = distributed.shard(
            length_grouped_batches(train_rows.encoded.lengths, global_batch, rng), context
        )
        loader = batch_loader(train_rows, batches, pad_id, on_gpu=device.type == "cuda")
        progress = tqdm(
            loader, desc=f"epoch {epoch}/{config.epochs}", mininterval=5, disable=not context.is_main
        )
        network.train()
        with throughput.timing(device):
            for batch in progress:
                on_device = {key: value.to(device, non_blocking=True) for key, value in batch.items()}
                loss = _train_step(
                    network, on_device, optimizer, scheduler, config.span_loss_weight, config.max_batch_tokens
                )
                step_log.add(loss, scheduler.get_last_lr()[0])
                throughput.count(on_device["attention_mask"])
                if average is not None:
                    average.update()
        step_log.flush()

        if context.is_main:
            if average is not None:
                average.copy_to_model()  # validate, keep and log the averaged weights
            scores = validation_scores(model, valid_encoded, config, pad_id)
            metrics = label_metrics(valid_targets, scores)
            step = member * config.epochs + epoch
            mlflow.log_metrics({f"valid_{k}": v for k, v in metrics.items() if not np.isnan(v)}, step=step)
            diagnostics = validation_diagnostics(model, tokenizer, config, valid_frame, scores)
            mlflow.log_metrics(diagnostics, step=step)
            logger.info(
                "%sepoch %d: valid mean ROC-AUC %.4f; identity templates: false positives %.3f, "
                "lowest subgroup ROC-AUC %.3f; behavioural validation families: agreeing functions %.3f",
                f"member {member}: " if config.soup_members > 1 else "",
                epoch,
                metrics["mean_roc_auc"],
                diagnostics["valid_templates_identity_false_positive_rate"],
                diagnostics["valid_templates_min_subgroup_auc"],
                diagnostics["valid_behaviour_agreeing_accuracy"],
            )
            best.offer(epoch, metrics["mean_roc_auc"], model, scores)
            if average is not None:
                average.restore_training_weights()
        distributed.barrier(context)

    if context.is_main:
        mlflow.log_metrics(
            throughput.summary()
            | peak_memory_mb(device)
            | {"best_epoch": best.epoch, "best_valid_mean_roc_auc": best.auc}
        )
        best.restore(model)
    return model, tokenizer, best


def training_targets(frame: pd.DataFrame, mode: str) -> np.ndarray:
    """The label matrix to learn: annotator shares as they are ("soft") or cut at 0.5 ("binary").

    Unknown cells stay NaN either way, so the loss keeps masking them.
    """
    labels = frame[list(LABELS)].to_numpy(np.float32)
    if mode == "binary":
        labels = np.where(np.isnan(labels), labels, labels >= POSITIVE_AT).astype(np.float32)
    return labels


def peak_memory_mb(device: torch.device) -> dict[str, float]:
    """The process's peak resident memory (Linux reports KiB), and the GPU's peak allocation."""
    peak = {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if device.type == "cuda":
        peak["peak_gpu_allocated_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return peak


def accumulate_gradients(
    model: torch.nn.Module, batch: dict[str, torch.Tensor], span_loss_weight: float, max_tokens: int
) -> torch.Tensor:
    """Backward pass of one batch, slice by slice within `max_tokens`; returns the batch's loss.

    Each slice's loss is divided by the whole batch's known weight, so the summed gradients are
    those of the batch in one pass: the token budget changes memory, not the recipe. Under DDP
    only the last slice synchronises gradients.
    """
    label_weight = known_weight(batch["labels"], batch.get("weights"))
    token_weight = known_weight(batch["token_labels"]) if "token_labels" in batch else None
    multiple = 8 if batch["input_ids"].shape[1] % 8 == 0 else 1
    slices = micro_batches(batch, max_tokens, multiple)
    total = torch.zeros((), device=batch["input_ids"].device)
    for position, part in enumerate(slices):
        last = position == len(slices) - 1
        quiet = model.no_sync() if isinstance(model, DistributedDataParallel) and not last else None
        with quiet or contextlib.nullcontext():
            with autocast_for(part["input_ids"].device):
                output = model(input_ids=part["input_ids"], attention_mask=part["attention_mask"])
            loss = masked_bce_loss(
                output.logits, part["labels"], part.get("weights"), total_weight=label_weight
            )
            if token_weight is not None:
                # Rows without span annotations are NaN throughout: the token head learns from the others.
                loss = loss + span_loss_weight * masked_bce_loss(
                    output.token_logits, part["token_labels"], total_weight=token_weight
                )
            loss.backward()
        total += loss.detach()
    return total


def _train_step(  # noqa: PLR0917 (one optimiser step takes all of these)
    model: torch.nn.Module,
    batch: dict[str, torch.Tensor],
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    span_loss_weight: float,
    max_tokens: int,
) -> torch.Tensor:
    """One optimiser step on both heads; returns the loss still on the device (no synchronisation)."""
    loss = accumulate_gradients(model, batch, span_loss_weight, max_tokens)
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return loss


class WeightAverage:
    """Exponential moving average of the weights, validated in their place at each epoch's end.

    The average smooths the last steps' noise; its decay is warmed up, (1 + t) / (10 + t), so
    early epochs are not dominated by the pre-trained starting point.
    """

    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        self.decay, self.updates = decay, 0
        self.parameters: list[torch.Tensor] = [p for p in model.parameters() if p.requires_grad]
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


def validation_scores(
    model: torch.nn.Module, encoded: Encoded, config: TrainConfig, pad_id: int
) -> np.ndarray:
    """The model's validation probabilities, in eval mode on the device its weights are on."""
    model.eval()
    # No gradients are kept while validating: four times the training budget per batch.
    return score_encoded(
        model,
        encoded,
        config.batch_size * 4,
        pad_id,
        next(model.parameters()).device,
        token_budget=4 * config.max_batch_tokens or None,
    )


def soup(
    config: TrainConfig,
    model: ToxicityNetwork,
    tokenizer: Any,
    members: list[BestEpoch],
    valid_frame: pd.DataFrame,
) -> BestEpoch:
    """Load the mean of the members' kept weights into `model` and validate it.

    Members start from the same weights (the pre-trained encoder, the same fresh heads) and differ
    in their data draw and order, so they stay in one basin and their mean is a model of its own
    (a "uniform soup", Wortsman et al. 2022): one network to serve, an ensemble's steadiness.
    Returns the soup as the run's kept model (its epoch: the latest of the members' best).
    """
    states = [member.state for member in members if member.state is not None]
    averaged = {
        key: (torch.stack([state[key] for state in states]).mean(0) if first.is_floating_point() else first)
        for key, first in states[0].items()
    }
    model.load_state_dict(averaged)
    valid_encoded = encode(tokenizer, valid_frame["text"].tolist(), config.max_length)
    scores = validation_scores(model, valid_encoded, config, tokenizer.pad_token_id or 0)
    metrics = label_metrics(valid_frame[list(LABELS)].to_numpy(np.float32), scores)
    kept = BestEpoch()
    kept.offer(max(m.epoch for m in members), metrics["mean_roc_auc"], model, scores)
    mlflow.log_metrics(
        {f"soup_valid_{k}": v for k, v in metrics.items() if not np.isnan(v)}
        | {f"member_{i}_best_valid_mean_roc_auc": m.auc for i, m in enumerate(members)}
        | {f"member_{i}_best_epoch": m.epoch for i, m in enumerate(members)}
        | {"best_epoch": kept.epoch, "best_valid_mean_roc_auc": kept.auc}  # the run's model: the soup
    )
    logger.info(
        "soup of %d members: valid mean ROC-AUC %.4f (members: %s)",
        len(states),
        metrics["mean_roc_auc"],
        ", ".join(f"{m.auc:.4f}" for m in members),
    )
    return kept


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
