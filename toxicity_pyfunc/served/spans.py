"""Toxic spans: from per-token probabilities to character ranges of whole words.

The token head scores word pieces; a word is as toxic as its most toxic piece, flagged words
next to each other (only spaces between them) make one span, and every offset is into the text
as sent (Unicode code points, as Python slices it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Span:
    """Characters `begin` to `end` (exclusive) of the text, and how toxic the model finds them."""

    begin: int
    end: int
    text: str
    score: float

    def as_dict(self) -> dict[str, int | str | float]:
        return {"begin": self.begin, "end": self.end, "text": self.text, "score": self.score}


# A word of the text: (begin, end, score), offsets into the text.
Word = tuple[int, int, float]


def scored_words(
    offsets: Sequence[tuple[int, int]], word_ids: Sequence[int | None], token_probabilities: np.ndarray
) -> list[Word]:
    """Each word the model read, in order, scored by its most toxic piece."""
    words: dict[int, Word] = {}
    for token, word in enumerate(word_ids):
        begin, end = offsets[token]
        if word is None or begin == end or token >= len(token_probabilities):
            continue  # special tokens and padding have no characters
        probability = float(token_probabilities[token])
        if word in words:
            first, last, best = words[word]
            words[word] = (min(first, begin), max(last, end), max(best, probability))
        else:
            words[word] = (begin, end, probability)
    return sorted(words.values())


def spans_from_words(
    text: str, words: Sequence[Word], threshold: float, gate: float | None = None
) -> list[Span]:
    """The spans of words at or above `threshold`; neighbours with only spaces between them join.

    With a `gate`, a text whose most toxic word scores below it gets no span at all (a toxic
    post need not have a toxic word: then no word should be pointed at).
    """
    if gate is not None and max((score for _, _, score in words), default=0.0) < gate:
        return []
    merged: list[Word] = []
    for begin, end, score in words:
        if score < threshold:
            continue
        if merged and not text[merged[-1][1] : begin].strip():
            first, _, best = merged[-1]
            merged[-1] = (first, end, max(best, score))
        else:
            merged.append((begin, end, score))
    return [Span(begin, end, text[begin:end], round(score, 6)) for begin, end, score in merged]


def characters(spans: Sequence[Span]) -> set[int]:
    """Every character offset the spans cover (what the SemEval metric compares)."""
    return {offset for span in spans for offset in range(span.begin, span.end)}
