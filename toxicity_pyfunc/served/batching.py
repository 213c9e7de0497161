"""Tokenize once, then cut texts into batches of similar length so padding stays small."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import torch


@dataclass
class Encoded:
    """Token ids of many texts, unpadded."""

    input_ids: list[list[int]]

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def lengths(self) -> np.ndarray:
        return np.fromiter((len(ids) for ids in self.input_ids), dtype=np.int64, count=len(self))


def tokenize(tokenizer: Any, texts: Sequence[str], max_length: int, *, offsets: bool = False) -> Any:
    """One call of the fast tokenizer: ids cut to `max_length`, unpadded, character offsets if asked."""
    return tokenizer(
        list(texts),
        truncation=True,
        max_length=max_length,
        padding=False,
        return_attention_mask=False,
        return_token_type_ids=False,
        return_offsets_mapping=offsets,
    )


def encode(tokenizer: Any, texts: Sequence[str], max_length: int) -> Encoded:
    """Token ids of all texts, truncated to `max_length` tokens."""
    return Encoded(input_ids=tokenize(tokenizer, texts, max_length)["input_ids"])


def length_sorted_batches(lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Batches of row indices in order of length: for inference, minimal padding."""
    order = np.argsort(lengths, kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def token_budget_batches(lengths: np.ndarray, max_rows: int, token_budget: int) -> list[np.ndarray]:
    """Length-sorted batches capped at `max_rows` rows and `token_budget` padded tokens each.

    On a CPU a batch costs about rows x longest length: short texts are not made to wait for,
    or padded to, the one long comment in their request.
    """
    order = np.argsort(lengths, kind="stable")
    batches: list[np.ndarray] = []
    start = 0
    for end in range(1, len(order) + 1):
        rows = end - start
        if end == len(order) or rows == max_rows or (rows + 1) * lengths[order[end]] > token_budget:
            batches.append(order[start:end])
            start = end
    return batches


def inference_batches(lengths: np.ndarray, max_rows: int, token_budget: int | None) -> list[np.ndarray]:
    """Length-sorted batches of at most `max_rows` rows and, with a `token_budget`, that many
    padded tokens (the served model's and `score_batches`' one rule)."""
    if token_budget:
        return token_budget_batches(lengths, max_rows, token_budget)
    return length_sorted_batches(lengths, max_rows)


def padded_width(longest: int, multiple: int = 1) -> int:
    """The width a batch whose longest member has `longest` tokens is padded to."""
    return -(-longest // multiple) * multiple


def pad(sequences: Sequence[Sequence[int]], pad_id: int, multiple: int = 1) -> dict[str, torch.Tensor]:
    """Pad token id lists to their longest member (rounded up to `multiple`) as model tensors."""
    lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
    width = padded_width(int(lengths.max()), multiple)
    attention = np.arange(width) < lengths[:, None]  # rows x width: True where a token is
    input_ids = np.full((len(sequences), width), pad_id, dtype=np.int64)
    tokens = chain.from_iterable(sequences)
    input_ids[attention] = np.fromiter(tokens, dtype=np.int64, count=int(lengths.sum()))
    return {
        "input_ids": torch.from_numpy(input_ids),
        "attention_mask": torch.from_numpy(attention.astype(np.int64)),
    }
