"""What a model URI names, read without loading anything (the CLI uses it before torch is imported)."""

from __future__ import annotations

import re

REGISTRY_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>[^/]+))$")
RUN_URI = re.compile(r"^runs:/(?P<run_id>[^/]+)/")


class ServingError(RuntimeError):
    """The model cannot be served; the message says what to fix."""


def follows_an_alias(model_uri: str) -> bool:
    """Whether the URI names a registry alias (models:/NAME@ALIAS), the only kind one can follow."""
    match = REGISTRY_URI.match(model_uri)
    return bool(match and match["alias"])
