"""Typed, validated configuration for each job.

The MLproject file is the single source of defaults: `steps/*.py` receive every parameter from
it, and `project_defaults` reads the same file for callers (tests, notebooks) that want the
defaults without going through `mlflow run`. A config refuses unknown keys and out-of-range
values, naming the parameter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class ConfigError(ValueError):
    """A job parameter is unknown, missing or out of range; the message names it."""


def _whole_number(value: Any) -> Any:
    """MLproject has no int type: "3", "3.0" and 3.0 all mean 3; 3.5 is refused."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return value  # pydantic names the problem
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"must be a whole number, got {value}")
        return int(value)
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]


class JobConfig(BaseModel):
    """Base for job configs: frozen, unknown keys refused, errors name the parameter."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def from_params(cls, values: dict[str, Any]) -> Self:
        """Validate a job's parameters; every key must be one of this job's."""
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            problems = "; ".join(
                f"parameter {'.'.join(str(part) for part in item['loc']) or '?'}: {item['msg']}"
                + ("" if item["type"] in ("missing", "extra_forbidden") else f" (got {item['input']!r})")
                for item in error.errors()
            )
            raise ConfigError(f"{cls.__name__}: {problems}") from None

    @classmethod
    def pick(cls, values: dict[str, Any]) -> Self:
        """The fields of this job from a larger mapping (the `main` job's shared parameters)."""
        return cls.from_params({key: value for key, value in values.items() if key in cls.model_fields})

    def with_changes(self, **changes: Any) -> Self:
        """A copy with some parameters changed, validated again."""
        return type(self).from_params(self.model_dump() | changes)


class TrainConfig(JobConfig):
    """What `train` needs: data, base encoder, optimisation and anti-bias settings."""

    train_data: str
    valid_data: str
    base_model: str
    epochs: WholeNumber = Field(ge=1)
    batch_size: WholeNumber = Field(ge=1)
    max_batch_tokens: WholeNumber = Field(
        ge=0,
        description="padded tokens per forward pass; a batch above it is run in slices, one step (0: whole)",
    )
    max_length: WholeNumber = Field(ge=8, le=8192)
    learning_rate: float = Field(gt=0.0, lt=1.0)
    seed: WholeNumber
    identity_swaps: WholeNumber = Field(
        ge=0, description="counterfactual copies of each training row that mentions an identity"
    )
    identity_example_share: float = Field(
        ge=0.0, le=1.0, description="harmless identity sentences added, as a share of the training rows"
    )
    source_weights: str = Field(description='"source=w,..." loss weights by the source column; "none": all 1')
    targets: Literal["soft", "binary"] = Field(
        description='"soft" learns annotator shares as they are, "binary" cut at 0.5'
    )
    ema_decay: float = Field(ge=0.0, lt=1.0, description="validate an average of the weights (0: off)")
    soup_members: WholeNumber = Field(
        ge=1,
        description=(
            "models trained from the same start on different data draws and orders (seed, seed + 1, "
            "...), their weights averaged into the one served (1: a single model)"
        ),
    )
    lexical_max_weight: float = Field(
        ge=0.0, le=1.0, description="largest blend weight of the TF-IDF companion (0: encoder alone)"
    )
    lexical_char_ngrams: bool = Field(description="the companion reads character 2-5-grams beside words")
    plain_spelling: bool = Field(
        description='the served model reads disguised spellings as the words meant ("h4te", "idoit")'
    )
    behaviour_example_share: float = Field(
        ge=0.0,
        le=1.0,
        description="the suite's training families as labelled rows, a share of the training rows",
    )
    behaviour_compositional: bool = Field(
        description=(
            "suite examples also assert and deny claims about groups (the same words both ways) "
            "and aim the abusive adjectives at things"
        )
    )
    behaviour_draw: Literal["weighted", "stratified"] = Field(
        description=(
            "how the suite's training rows are drawn: at random with replacement by function "
            '("weighted"), or every frame of a function equally, fillers without early repeats'
        )
    )
    obfuscation_share: float = Field(
        ge=0.0, le=1.0, description="share of toxic rows copied with one toxic word disguised"
    )
    obfuscation_harmless_ratio: float = Field(
        ge=0.0, description="harmless rows copied with one word disguised, per disguised toxic copy"
    )
    pooling: Literal["mean", "cls"] = Field(description="how the six-label head reads the encoder's tokens")
    encoder_layers: WholeNumber = Field(
        ge=0,
        description="keep the base encoder's first N layers (0: all, or as its short name says: mpnet-6: 6)",
    )
    train_spans: str = Field(description='toxic-spans file for the token head ("none": no span training)')
    valid_spans: str = Field(description="toxic-spans file the span threshold is chosen on")
    span_loss_weight: float = Field(
        ge=0.0, description="weight of the token head's loss beside the labels' loss"
    )
    teacher_model: str = Field(
        description='a model of this project (URI or saved folder) scoring the training rows ("none": none)'
    )
    distill_weight: float = Field(
        ge=0.0,
        le=1.0,
        description="the teacher's share of a known target; unknown targets take the teacher's score",
    )
    warmup_ratio: float = Field(default=0.1, ge=0.0, le=1.0)
    weight_decay: float = Field(default=0.01, ge=0.0)
    output_dir: str = "outputs"


class EvaluateConfig(JobConfig):
    """What `evaluate` needs: the model to score and the files to score it on."""

    model_uri: str
    test_data: str
    train_data: str
    test_spans: str = Field(default="none", description='toxic-spans test file ("none": no span F1)')


class RegisterConfig(JobConfig):
    """What `register` needs: the candidate, the file that decides, the registry name."""

    model_uri: str
    test_data: str
    registered_model: str = Field(min_length=1)


class BatchScoreConfig(JobConfig):
    """What `batch_score` needs: the model, the input file and where the scores go."""

    model_uri: str
    input: str
    output: str
    spark_master: str = "local[*]"
    spans: bool = Field(default=False, description="add a column of toxic spans per row")


class UploadConfig(JobConfig):
    """What `upload` needs: a trained folder kept on disk after a failed upload."""

    model_dir: str


def project_defaults(entry_point: str, mlproject: Path | None = None) -> dict[str, Any]:
    """Return the default parameter values that MLproject declares for `entry_point`."""
    path = mlproject or PROJECT_ROOT / "MLproject"
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    params = spec["entry_points"][entry_point].get("parameters", {})
    return {name: value.get("default") for name, value in params.items()}
