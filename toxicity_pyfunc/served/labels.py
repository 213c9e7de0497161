"""The six output attributes, in the order every score matrix and column list follows."""

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
