"""Typed configuration for each job.

The MLproject file is the single source of defaults: `steps/*.py` receive every
parameter from it, and `project_defaults` reads the same file for callers (tests,
notebooks) that want the defaults without going through `mlflow run`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent

ConfigT = TypeVar("ConfigT", bound="JobConfig")


@dataclass(frozen=True)
class JobConfig:
    """Base for job configs: builds itself from a flat mapping of parameters."""

    @classmethod
    def from_mapping(cls: type[ConfigT], values: dict[str, Any]) -> ConfigT:
        """Keep only the fields this job knows and convert them to the declared types."""
        converted: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            if field.name not in values:
                continue
            raw = values[field.name]
            kind = field.type if isinstance(field.type, type) else _TYPES[str(field.type)]
            if raw is not None and kind is int:
                raw = float(raw)  # MLproject has no int type: "3" and "3.0" both mean 3
                if not raw.is_integer():
                    raise ValueError(f"parameter {field.name} must be a whole number, got {raw}")
            converted[field.name] = raw if raw is None else kind(raw)
        return cls(**converted)


_TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool}


@dataclass(frozen=True)
class TrainConfig(JobConfig):
    """What `train` needs: data, base encoder, optimisation and anti-bias settings.

    `identity_swaps`: counterfactual copies of each training row that mentions an identity;
    `identity_example_share`: harmless identity sentences added, as a share of the rows;
    `source_weights`: "source=w,...";
    `targets`: "soft" learns annotator shares as they are, "binary" learns them cut at 0.5;
    `ema_decay`: validate and keep an exponential moving average of the weights (0: off);
    `lexical_max_weight`: the largest weight the TF-IDF companion may get in the blend, the
    weight itself chosen on the validation file (0: the encoder alone).
    """

    train_data: str
    valid_data: str
    base_model: str
    epochs: int
    batch_size: int
    max_length: int
    learning_rate: float
    seed: int
    identity_swaps: int
    identity_example_share: float
    source_weights: str
    targets: str
    ema_decay: float
    lexical_max_weight: float
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    output_dir: str = "outputs"

    def __post_init__(self) -> None:
        if self.targets not in TARGET_MODES:
            raise ValueError(f"parameter targets must be one of {TARGET_MODES}, got {self.targets!r}")
        if self.identity_swaps < 0:
            raise ValueError(f"parameter identity_swaps must be 0 or more, got {self.identity_swaps}")
        if not 0.0 <= self.identity_example_share <= 1.0:
            raise ValueError(
                f"parameter identity_example_share is a share of the training rows, between 0 and 1; "
                f"got {self.identity_example_share}"
            )
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"parameter ema_decay must be in [0, 1) (0: off), got {self.ema_decay}")
        if not 0.0 <= self.lexical_max_weight <= 1.0:
            raise ValueError(
                f"parameter lexical_max_weight must be in [0, 1] (0: no TF-IDF companion), "
                f"got {self.lexical_max_weight}"
            )


TARGET_MODES = ("soft", "binary")


@dataclass(frozen=True)
class EvaluateConfig(JobConfig):
    """What `evaluate` needs: the model to score and the files to score it on."""

    model_uri: str
    test_data: str
    train_data: str


@dataclass(frozen=True)
class RegisterConfig(JobConfig):
    """What `register` needs: the candidate, the file that decides, the registry name."""

    model_uri: str
    test_data: str
    registered_model: str


def project_defaults(entry_point: str, mlproject: Path | None = None) -> dict[str, Any]:
    """Return the default parameter values that MLproject declares for `entry_point`."""
    path = mlproject or PROJECT_ROOT / "MLproject"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    params = spec["entry_points"][entry_point].get("parameters", {})
    return {name: value.get("default") for name, value in params.items()}
