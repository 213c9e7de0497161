"""The forward pass, whatever runs it: PyTorch (any device) or ONNX Runtime on the CPU.

Which runtime a model uses is decided when it is logged (the training side measures int8 against
fp32 and records the choice in the settings), so a served model always runs what was measured.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from toxicity_pyfunc.served.batching import Encoded, inference_batches, pad
from toxicity_pyfunc.served.labels import LABELS

ONNX_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
RUNTIME_FILES = {"onnx": ONNX_FILE, "onnx-int8": INT8_FILE}

# A runtime's forward pass: padded batch tensors in, probabilities out: rows x LABELS, and, when
# asked (the flag) and the model has a token head, rows x tokens (None otherwise).
Forward = Callable[[dict[str, torch.Tensor], bool], tuple[np.ndarray, np.ndarray | None]]


def sigmoid(logits: np.ndarray) -> np.ndarray:
    probabilities: np.ndarray = 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float32)))
    return probabilities


def autocast_for(device: torch.device) -> torch.autocast:
    """bf16 autocast on CUDA (fast, no loss scaling needed); a no-op context elsewhere."""
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")


def torch_forward(model: Any, device: torch.device) -> Forward:
    """PyTorch on `device`, bf16 autocast on CUDA."""

    @torch.inference_mode()
    def forward(batch: dict[str, torch.Tensor], tokens: bool) -> tuple[np.ndarray, np.ndarray | None]:
        with autocast_for(device):
            output = model(
                input_ids=batch["input_ids"].to(device, non_blocking=True),
                attention_mask=batch["attention_mask"].to(device, non_blocking=True),
            )
        probabilities: np.ndarray = torch.sigmoid(output.logits.float()).cpu().numpy()
        token_logits = getattr(output, "token_logits", None)
        if not tokens or token_logits is None:
            return probabilities, None
        token_probabilities: np.ndarray = torch.sigmoid(token_logits.float()).cpu().numpy()
        return probabilities, token_probabilities

    return forward


def onnx_forward(path: Path, threads: int | None = None) -> Forward:
    """An ONNX Runtime session on the CPU, one intra-op thread per core unless told otherwise."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = (
        threads or int(os.environ.get("TOXICITY_THREADS", "0")) or (os.cpu_count() or 1)
    )
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    has_tokens = "token_logits" in {output.name for output in session.get_outputs()}

    def forward(batch: dict[str, torch.Tensor], tokens: bool) -> tuple[np.ndarray, np.ndarray | None]:
        wanted = ["logits", "token_logits"] if tokens and has_tokens else ["logits"]
        outputs = session.run(
            wanted,
            {"input_ids": batch["input_ids"].numpy(), "attention_mask": batch["attention_mask"].numpy()},
        )
        return sigmoid(outputs[0]), (sigmoid(outputs[1]) if len(outputs) > 1 else None)

    return forward


class ScoringStoppedError(RuntimeError):
    """The caller asked to stop (its client left, or its time ran out) before all batches ran."""


def score_batches(
    encoded: Encoded, batch_size: int, pad_id: int, forward: Forward, *, token_budget: int | None = None
) -> np.ndarray:
    """Probabilities for already tokenized texts, in their original order, whatever the runtime.

    For one caller at a time (training, evaluation); the served model batches concurrent callers
    through `coalescing.Coalescer`. With a `token_budget` (CPUs) batches are also capped in padded
    tokens; without one (GPUs) they are cut by rows alone.
    """
    out = np.empty((len(encoded), len(LABELS)), dtype=np.float32)
    for rows in inference_batches(encoded.lengths, batch_size, token_budget):
        out[rows] = forward(pad([encoded.input_ids[i] for i in rows], pad_id), False)[0]
    return out
