"""The model definition: a fine-tuned encoder with a six-output multi-label head."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_classifier(folder: str | Path) -> tuple[Any, Any]:
    """Load a fine-tuned classifier saved with `save_pretrained`, and its tokenizer, for inference."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(str(folder))
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model.eval()
    return model, tokenizer


def load_tokenizer(folder: str | Path) -> Any:
    """The tokenizer alone: what an ONNX-served model needs beside its graph."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(folder))
