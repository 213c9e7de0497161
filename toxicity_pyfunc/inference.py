"""Scoring texts with a loaded classifier: length-sorted batches, sigmoid, input order kept."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from toxicity_pyfunc.batching import Encoded, encode, iterate, length_sorted_batches, token_budget_batches
from toxicity_pyfunc.labels import LABELS


def autocast_for(device: torch.device) -> torch.autocast:
    """bf16 autocast on CUDA (fast, no loss scaling needed); a no-op context elsewhere."""
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")


# A runtime's forward pass: padded batch tensors in, probabilities (rows x LABELS) out.
Forward = Callable[[dict[str, torch.Tensor]], np.ndarray]


def torch_forward(model: PreTrainedModel, device: torch.device) -> Forward:
    """PyTorch on `device`, bf16 autocast on CUDA."""

    @torch.inference_mode()
    def forward(batch: dict[str, torch.Tensor]) -> np.ndarray:
        with autocast_for(device):
            logits = model(
                input_ids=batch["input_ids"].to(device, non_blocking=True),
                attention_mask=batch["attention_mask"].to(device, non_blocking=True),
            ).logits
        return torch.sigmoid(logits.float()).cpu().numpy()

    return forward


def score_batches(
    encoded: Encoded, batch_size: int, pad_id: int, forward: Forward, token_budget: int | None = None
) -> np.ndarray:
    """Probabilities for already tokenized texts, in their original order, whatever the runtime."""
    out = np.empty((len(encoded), len(LABELS)), dtype=np.float32)
    batches = (
        token_budget_batches(encoded.lengths, batch_size, token_budget)
        if token_budget
        else length_sorted_batches(encoded.lengths, batch_size)
    )
    for rows, batch in iterate(Encoded(encoded.input_ids), batches, pad_id):
        out[rows] = forward(batch)
    return out


def score_encoded(
    model: PreTrainedModel, encoded: Encoded, batch_size: int, pad_id: int, device: torch.device
) -> np.ndarray:
    """Probabilities from a PyTorch model for already tokenized texts, in their original order."""
    return score_batches(encoded, batch_size, pad_id, torch_forward(model, device))


def score_texts(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    max_length: int,
    batch_size: int,
    *,
    device: torch.device | None = None,
) -> np.ndarray:
    """Probabilities (rows = texts, columns = LABELS); long texts are truncated to `max_length`."""
    if len(texts) == 0:
        return np.empty((0, len(LABELS)), dtype=np.float32)
    device = device or next(model.parameters()).device
    encoded = encode(tokenizer, texts, max_length)
    return score_encoded(model, encoded, batch_size, tokenizer.pad_token_id or 0, device)
