"""Training batches: seeded, length-grouped, with labels and weights that keep unknown cells."""

from __future__ import annotations

import numpy as np

from toxicity_pyfunc.jobs.training.batches import LabelledRows, collate, length_grouped_batches
from toxicity_pyfunc.served.batching import Encoded


def test_grouped_batches_are_seeded_and_reduce_padding() -> None:
    rng_lengths = np.random.default_rng(1).integers(1, 200, 1000)
    first = length_grouped_batches(rng_lengths, 16, np.random.default_rng(7), pool_batches=10)
    again = length_grouped_batches(rng_lengths, 16, np.random.default_rng(7), pool_batches=10)
    assert all((a == b).all() for a, b in zip(first, again, strict=True))
    assert sorted(np.concatenate(first).tolist()) == list(range(1000))
    padded = sum(len(b) * rng_lengths[b].max() for b in first)
    shuffled = np.random.default_rng(7).permutation(1000)
    naive = sum(16 * rng_lengths[shuffled[i : i + 16]].max() for i in range(0, 1000, 16))
    assert padded < 0.7 * naive


def test_collate_pads_masks_and_keeps_unknown_labels() -> None:
    rows = LabelledRows(
        Encoded([[101, 7, 102], [101, 102]]),
        labels=np.array([[1.0], [np.nan]], dtype=np.float32),
        weights=np.array([2.0, 0.5], dtype=np.float32),
    )
    batch = collate(rows, np.array([1, 0]), pad_id=0)
    assert batch["input_ids"].tolist() == [[101, 102, 0], [101, 7, 102]]
    assert batch["attention_mask"].tolist() == [[1, 1, 0], [1, 1, 1]]
    assert np.isnan(batch["labels"][0, 0].item())
    assert batch["weights"].tolist() == [0.5, 2.0]
