"""Toxic-spans data and its metric (SemEval-2021 Task 5).

A spans file has `text` and `spans`, a JSON list of the character offsets annotators marked
toxic. Training turns the offsets into one label per token; the metric is the task's own:
character-level F1 per post, averaged over posts, where a post with neither gold nor predicted
offsets scores 1.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from toxicity_pyfunc.jobs.data import DataValidationError, read_table
from toxicity_pyfunc.served.batching import tokenize
from toxicity_pyfunc.served.spans import Word, characters, spans_from_words


def read_spans(path: str | Path) -> pd.DataFrame:
    """`text` and `offsets` (a sorted list of ints) from a spans file; bad rows are named."""
    frame = read_table(path)
    missing = {"text", "spans"} - set(frame.columns)
    if missing:
        raise DataValidationError(
            f"{path}: missing column(s) {sorted(missing)}; columns are {list(frame.columns)}"
        )
    offsets, bad = [], []
    for row, (text, raw) in enumerate(zip(frame["text"].astype(str), frame["spans"], strict=True)):
        try:
            values = json.loads(raw) if isinstance(raw, str) else []
        except json.JSONDecodeError:
            values = None
        if not isinstance(values, list) or not all(isinstance(v, int) and 0 <= v < len(text) for v in values):
            bad.append(row + 1)
            values = []
        offsets.append(sorted(set(values)))
    if bad:
        raise DataValidationError(
            f"{path}: column 'spans' must be a JSON list of character offsets inside the text; "
            f"rows {', '.join(map(str, bad[:5]))}{' and more' if len(bad) > 5 else ''} are not"
        )
    return pd.DataFrame({"text": frame["text"].astype(str), "offsets": offsets})


def token_labels(offsets: Sequence[tuple[int, int]], gold: set[int]) -> np.ndarray:
    """1 for a token whose characters are mostly gold, 0 otherwise, NaN for special tokens."""
    labels = np.full(len(offsets), np.nan, dtype=np.float32)
    for token, (begin, end) in enumerate(offsets):
        if end > begin:
            labels[token] = float(sum(offset in gold for offset in range(begin, end)) * 2 >= end - begin)
    return labels


def span_f1(predicted: set[int], gold: set[int]) -> float:
    """The task's per-post F1 on character offsets (1 when both are empty)."""
    if not predicted and not gold:
        return 1.0
    if not predicted or not gold:
        return 0.0
    overlap = len(predicted & gold)
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(predicted), overlap / len(gold)
    return 2 * precision * recall / (precision + recall)


def mean_span_f1(predicted: Sequence[set[int]], gold: Sequence[set[int]]) -> float:
    return (
        float(np.mean([span_f1(p, g) for p, g in zip(predicted, gold, strict=True)]))
        if gold
        else float("nan")
    )


def span_breakdown(predicted: Sequence[set[int]], gold: Sequence[set[int]]) -> dict[str, float]:
    """The mean F1 (`f1`) and where it comes from: posts without gold offsets (F1 1 only when
    nothing is predicted) apart from posts with some, and on those, mean precision and recall per
    post.

    The SemEval test file has far more posts without gold offsets than its training and trial
    files: a model that finds something in every post loses all of those.
    """
    empty = np.array([not offsets for offsets in gold], dtype=bool)
    f1 = np.array([span_f1(p, g) for p, g in zip(predicted, gold, strict=True)])
    with_gold = [(p, g) for p, g in zip(predicted, gold, strict=True) if g]
    return {
        "f1": float(f1.mean()) if len(gold) else float("nan"),
        "gold_empty_share": float(empty.mean()) if len(gold) else float("nan"),
        "predicted_empty_share": float(np.mean([not p for p in predicted])) if predicted else float("nan"),
        "f1_gold_empty": float(f1[empty].mean()) if empty.any() else float("nan"),
        "f1_with_gold": float(f1[~empty].mean()) if (~empty).any() else float("nan"),
        "precision_with_gold": (
            float(np.mean([len(p & g) / len(p) if p else 0.0 for p, g in with_gold]))
            if with_gold
            else float("nan")
        ),
        "recall_with_gold": (
            float(np.mean([len(p & g) / len(g) for p, g in with_gold])) if with_gold else float("nan")
        ),
    }


def spans_by_text(frame: pd.DataFrame) -> dict[str, set[int]]:
    """Gold offsets keyed by text (a text annotated twice keeps its first annotation)."""
    out: dict[str, set[int]] = {}
    for text, offsets in zip(frame["text"], frame["offsets"], strict=True):
        out.setdefault(text, set(offsets))
    return out


def training_token_labels(
    tokenizer: Any, texts: Sequence[str], max_length: int, gold: dict[str, set[int]]
) -> list[np.ndarray | None]:
    """Per text, labels for the tokens `encode` gives it, where the text has span annotations."""
    labels: list[np.ndarray | None] = [None] * len(texts)
    annotated = [row for row, text in enumerate(texts) if text in gold]
    if not annotated:
        return labels
    offsets = tokenize(tokenizer, [texts[row] for row in annotated], max_length, offsets=True)[
        "offset_mapping"
    ]
    for row, mapping in zip(annotated, offsets, strict=True):
        labels[row] = token_labels(mapping, gold[texts[row]])
    return labels


def choose_span_threshold(
    texts: Sequence[str], words: Sequence[Sequence[Word]], gold: Sequence[set[int]], step: float = 0.05
) -> tuple[float, dict[float, float]]:
    """The word threshold with the best mean span F1 on these posts, and every threshold's F1."""
    candidates = np.round(np.arange(step, 1.0, step), 4)
    f1 = {
        float(threshold): mean_span_f1(
            [
                characters(spans_from_words(text, found, float(threshold)))
                for text, found in zip(texts, words, strict=True)
            ],
            gold,
        )
        for threshold in candidates
    }
    best = max(f1, key=lambda threshold: (f1[threshold], -abs(threshold - 0.5)))
    return best, f1
