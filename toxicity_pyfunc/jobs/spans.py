"""Toxic-spans data and its metric (SemEval-2021 Task 5).

A spans file has `text` and `spans`, a JSON list of the character offsets annotators marked
toxic. Training turns the offsets into one label per token; the metric is the task's own:
character-level F1 per post, averaged over posts, where a post with neither gold nor predicted
offsets scores 1.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class SpanCut:
    """How words become spans, chosen on validation posts: the word `threshold`, and the `gate`
    (None: none) that a post's most toxic word must reach before it gets any span at all."""

    threshold: float
    gate: float | None
    f1: float  # mean span F1 on the posts it was chosen on
    f1_by_threshold: dict[float, float]  # without a gate


def choose_span_cut(
    texts: Sequence[str], words: Sequence[Sequence[Word]], gold: Sequence[set[int]], step: float = 0.05
) -> SpanCut:
    """The word threshold and post gate with the best mean span F1 on these posts.

    Why a gate: annotators mark no span in many toxic posts (the insult is in the whole, not in a
    word), and a post left without spans scores 1 there; the gate keeps spans for posts with one
    clearly toxic word. Ties go to no gate, then to the threshold nearest 0.5.
    """
    candidates = [float(c) for c in np.round(np.arange(step, 1.0, step), 4)]
    gates = [float(g) for g in np.round(np.arange(0.5, 1.0, 0.01), 4)]
    empty = np.array([not offsets for offsets in gold], dtype=np.float64)
    strongest = np.array([max((score for _, _, score in found), default=0.0) for found in words])
    f1_by_threshold: dict[float, float] = {}
    best: tuple[tuple[float, float, float], float, float | None] | None = None
    for threshold in candidates:
        per_post = np.array(
            [
                span_f1(characters(spans_from_words(text, found, threshold)), offsets)
                for text, found, offsets in zip(texts, words, gold, strict=True)
            ]
        )
        f1_by_threshold[threshold] = float(per_post.mean()) if len(per_post) else float("nan")
        for gate in [None, *(g for g in gates if g > threshold)]:
            gated = per_post if gate is None else np.where(strongest >= gate, per_post, empty)
            f1 = float(gated.mean()) if len(gated) else float("nan")
            key = (round(f1, 10), -(gate or 0.0), -abs(threshold - 0.5))
            if best is None or key > best[0]:
                best = (key, threshold, gate)
    assert best is not None, "no posts to choose a span threshold on"
    (f1, _, _), threshold, gate = best
    return SpanCut(threshold, gate, f1, f1_by_threshold)
