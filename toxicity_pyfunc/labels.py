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
