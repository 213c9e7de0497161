"""Length-aware batching for inference: every row once, little padding, a token budget on CPUs."""

from __future__ import annotations

import numpy as np

from toxicity_pyfunc.served.batching import length_sorted_batches, pad, token_budget_batches


def test_sorted_batches_cover_every_row_once_in_length_order() -> None:
    lengths = np.array([5, 1, 9, 3, 3, 7, 2])
    batches = length_sorted_batches(lengths, 3)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(7))
    assert lengths[flat].tolist() == sorted(lengths.tolist())


def test_token_budget_batches_cap_rows_and_padded_tokens() -> None:
    lengths = np.array([5, 100, 6, 7, 200, 5, 5])
    batches = token_budget_batches(lengths, max_rows=3, token_budget=210)
    assert sorted(np.concatenate(batches).tolist()) == list(range(7))
    for rows in batches:
        assert len(rows) <= 3
        assert len(rows) * lengths[rows].max() <= 210 or len(rows) == 1
    assert [4] in [b.tolist() for b in batches]  # the long one alone


def test_pad_pads_masks_and_rounds_up() -> None:
    batch = pad([[101, 102], [101, 7, 102]], pad_id=0)
    assert batch["input_ids"].tolist() == [[101, 102, 0], [101, 7, 102]]
    assert batch["attention_mask"].tolist() == [[1, 1, 0], [1, 1, 1]]
    assert pad([[1, 2, 3]], pad_id=9, multiple=8)["input_ids"].tolist() == [[1, 2, 3] + [9] * 5]
