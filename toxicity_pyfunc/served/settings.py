"""What scoring needs beside the weights: one typed settings file, written by `train`, read by all.

The file (`inference.json`) makes a logged model self-describing: the token limit it was trained
with, how to batch on a CPU, which runtime was measured for it, the companion's blend weight and
the per-label flag thresholds. Everyone (the pyfunc, the server, evaluation, the benchmark) reads
it through `InferenceSettings`, never as a raw dict.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from toxicity_pyfunc.served.labels import LABELS

SETTINGS_FILE = "inference.json"
DEFAULT_THRESHOLD = 0.5

Runtime = Literal["torch", "onnx", "onnx-int8"]
# "encoder-heads": encoder + six-label head + token head (spans); "sequence-classifier": a folder
# saved before the token head existed (a Hugging Face sequence classifier, no spans).
Architecture = Literal["encoder-heads", "sequence-classifier"]


def _default_thresholds() -> dict[str, float]:
    return dict.fromkeys(LABELS, DEFAULT_THRESHOLD)


class InferenceSettings(BaseModel):
    """The settings stored with a model; unknown keys and out-of-range values are refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_length: int = Field(gt=1, description="tokens the model reads; longer texts are cut")
    batch_size: int = Field(default=64, gt=0, description="most rows per CPU batch")
    token_budget: int = Field(default=512, gt=0, description="most padded tokens per CPU batch")
    gpu_token_budget: int = Field(
        default=16384, ge=0, description="most padded tokens per GPU batch (0: batches cut by rows alone)"
    )
    labels: tuple[str, ...] = LABELS
    runtime: Runtime = Field(default="torch", description="the CPU runtime measured for this model")
    lexical_weight: float = Field(default=0.0, ge=0.0, le=1.0, description="the companion's blend weight")
    thresholds: dict[str, float] = Field(
        default_factory=_default_thresholds, description="per label, the score at which a text is flagged"
    )
    architecture: Architecture = Field(default="sequence-classifier", description="what the folder holds")
    pooling: Literal["mean", "cls"] = Field(
        default="cls", description="how the six-label head reads the tokens"
    )
    span_threshold: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="a word at or above this is in a toxic span (None: no spans)",
    )
    span_gate: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="a text gets spans only when its most toxic word scores at least this (None: any)",
    )
    plain_spelling: bool = Field(
        default=False, description="read disguised spellings as the words meant before scoring (spelling.py)"
    )

    @field_validator("labels")
    @classmethod
    def _same_labels(cls, labels: tuple[str, ...]) -> tuple[str, ...]:
        if tuple(labels) != LABELS:
            raise ValueError(f"the model was trained for labels {list(labels)}, not {list(LABELS)}")
        return labels

    @field_validator("thresholds")
    @classmethod
    def _every_label(cls, thresholds: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(thresholds) - set(LABELS))
        if unknown:
            raise ValueError(f"thresholds for unknown labels {unknown}")
        return {label: float(thresholds.get(label, DEFAULT_THRESHOLD)) for label in LABELS}

    @classmethod
    def read(cls, folder: Path) -> InferenceSettings:
        path = folder / SETTINGS_FILE
        return cls.model_validate_json(path.read_text(encoding="utf-8"))

    def write(self, folder: Path) -> None:
        (folder / SETTINGS_FILE).write_text(self.model_dump_json(indent=2), encoding="utf-8")
