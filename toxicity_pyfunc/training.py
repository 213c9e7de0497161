"""Fine-tuning: masked BCE on soft labels, AdamW with warm-up and linear decay, best epoch kept."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase, get_linear_schedule_with_warmup

from toxicity_pyfunc.batching import encode, iterate, length_grouped_batches
from toxicity_pyfunc.config import TrainConfig
from toxicity_pyfunc.data import load_labelled
from toxicity_pyfunc.inference import autocast_for, score_encoded
from toxicity_pyfunc.labels import LABELS
from toxicity_pyfunc.metrics import label_metrics, masked_bce_loss
from toxicity_pyfunc.model import build_classifier
from toxicity_pyfunc.pyfunc import log_classifier, write_settings

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


def pick_device() -> torch.device:
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def log_dataset(frame: pd.DataFrame, path: str, context: str) -> None:
    """Record a data file as a run input, so the run says exactly what it learned from."""
    dataset = mlflow.data.from_pandas(frame, source=str(Path(path).resolve()), name=Path(path).name)
    mlflow.log_input(dataset, context=context)


def _make_optimizer(model: torch.nn.Module, config: TrainConfig, device: torch.device) -> torch.optim.AdamW:
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        (no_decay if parameter.ndim < 2 or "LayerNorm" in name else decay).append(parameter)
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=config.learning_rate, fused=device.type == "cuda")


def train(config: TrainConfig) -> TrainResult:
    """Fine-tune, validate every epoch, keep the best epoch, log it as a pyfunc."""
    seed_everything(config.seed)
    device = pick_device()
    train_frame = load_labelled(config.train_data)
    valid_frame = load_labelled(config.valid_data)

    with mlflow.start_run(run_name="train", nested=mlflow.active_run() is not None) as run:
        mlflow.log_params(asdict(config) | {"device": device.type, "train_rows": len(train_frame)})
        log_dataset(train_frame, config.train_data, "training")
        log_dataset(valid_frame, config.valid_data, "validation")

        model, tokenizer = build_classifier(config.base_model)
        model.to(device)
        pad_id = tokenizer.pad_token_id or 0
        labels = train_frame[list(LABELS)].to_numpy(np.float32)
        train_encoded = encode(tokenizer, train_frame["text"].tolist(), config.max_length, labels)
        valid_encoded = encode(tokenizer, valid_frame["text"].tolist(), config.max_length)
        valid_targets = valid_frame[list(LABELS)].to_numpy(np.float32)

        rng = np.random.default_rng(config.seed)
        steps_per_epoch = -(-len(train_encoded) // config.batch_size)
        total_steps = steps_per_epoch * config.epochs
        optimizer = _make_optimizer(model, config, device)
        scheduler = get_linear_schedule_with_warmup(
            optimizer, int(config.warmup_ratio * total_steps), total_steps
        )

        best_auc, best_epoch, best_state = -1.0, 0, None
        step, samples, tokens, busy = 0, 0, 0, 0.0
        for epoch in range(1, config.epochs + 1):
            model.train()
            batches = length_grouped_batches(train_encoded.lengths, config.batch_size, rng)
            progress = tqdm(total=len(batches), desc=f"epoch {epoch}/{config.epochs}", mininterval=5)
            started = time.perf_counter()
            for _, batch in iterate(train_encoded, batches, pad_id):
                batch = {key: value.to(device, non_blocking=True) for key, value in batch.items()}
                with autocast_for(device):
                    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
                loss = masked_bce_loss(logits, batch["labels"])
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                samples += batch["input_ids"].shape[0]
                tokens += int(batch["attention_mask"].sum())
                mlflow.log_metrics(
                    {"train_loss": loss.item(), "learning_rate": scheduler.get_last_lr()[0]},
                    step=step, synchronous=False,
                )
                progress.update()
            progress.close()
            if device.type == "cuda":
                torch.cuda.synchronize()
            busy += time.perf_counter() - started

            model.eval()
            scores = score_encoded(model, valid_encoded, config.batch_size * 2, pad_id, device)
            metrics = label_metrics(valid_targets, scores)
            mlflow.log_metrics(
                {f"valid_{k}": v for k, v in metrics.items() if not np.isnan(v)}, step=epoch
            )
            logger.info("epoch %d: valid mean ROC-AUC %.4f", epoch, metrics["mean_roc_auc"])
            auc = metrics["mean_roc_auc"] if not np.isnan(metrics["mean_roc_auc"]) else 0.0
            if auc > best_auc:
                best_auc, best_epoch = auc, epoch
                best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}

        mlflow.log_metrics({
            "train_samples_per_s": samples / busy,
            "train_tokens_per_s": tokens / busy,
            "best_epoch": best_epoch,
            "best_valid_mean_roc_auc": best_auc,
        })
        if best_state is not None:
            model.load_state_dict(best_state)
        folder = save_classifier(model.to("cpu"), tokenizer, config, run.info.run_id)
        model_uri = log_saved_model(folder)
        return TrainResult(run.info.run_id, model_uri, folder, best_epoch, best_auc)


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


def log_saved_model(folder: Path) -> str:
    """Log a saved classifier folder to the active run; on failure say how to retry."""
    try:
        info = log_classifier(folder)
    except Exception as error:
        raise ModelUploadError(
            f"logging the model failed ({error.__class__.__name__}: {error}). "
            f"The trained model is kept at {folder}. Once the tracking server and artifact "
            f"store are reachable, log it again with: "
            f"mlflow run . -e upload -P model_dir={folder} --env-manager local"
        ) from error
    logger.info("logged model %s", info.model_uri)
    return info.model_uri
