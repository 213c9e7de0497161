"""The six output attributes and the public column names that map onto them."""

from __future__ import annotations

from typing import Final

LABELS: Final[tuple[str, ...]] = (
    "toxicity",
    "severe_toxicity",
    "obscene",
    "identity_attack",
    "insult",
    "threat",
)

TEXT_COLUMN: Final[str] = "text"

# Public data sets name the same things differently. Keys are lower-cased column names
# as published (Jigsaw 2018 Wikipedia, Jigsaw Unintended Bias / Civil Comments).
COLUMN_ALIASES: Final[dict[str, str]] = {
    "comment_text": TEXT_COLUMN,
    "target": "toxicity",
    "toxic": "toxicity",
    "severe_toxic": "severe_toxicity",
    "identity_hate": "identity_attack",
}

# Identity columns of the Jigsaw Unintended Bias / Civil Comments files (share of annotators
# who saw the identity mentioned). When a test file carries them, `evaluate` reports bias metrics.
IDENTITY_COLUMNS: Final[tuple[str, ...]] = (
    "male",
    "female",
    "transgender",
    "other_gender",
    "heterosexual",
    "homosexual_gay_or_lesbian",
    "bisexual",
    "other_sexual_orientation",
    "christian",
    "jewish",
    "muslim",
    "hindu",
    "buddhist",
    "atheist",
    "other_religion",
    "black",
    "white",
    "asian",
    "latino",
    "other_race_or_ethnicity",
    "physical_disability",
    "intellectual_or_learning_disability",
    "psychiatric_or_mental_illness",
    "other_disability",
)
