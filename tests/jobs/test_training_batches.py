"""Training batches: seeded, length-grouped, with labels and weights that keep unknown cells, and
sliced within a token budget without changing the step."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from toxicity_pyfunc.jobs.training.batches import LabelledRows, collate, length_grouped_batches, micro_batches
from toxicity_pyfunc.jobs.training.loop import accumulate_gradients
from toxicity_pyfunc.served.batching import Encoded, pad


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


class BagOfEmbeddings(torch.nn.Module):
    """Small enough to compare gradients exactly; reads padding only through the attention mask."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(50, 8)
        self.head = torch.nn.Linear(8, 6)
        self.token_head = torch.nn.Linear(8, 1)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> SimpleNamespace:
        hidden = self.embed(input_ids) * attention_mask.unsqueeze(-1)
        pooled = hidden.sum(dim=1) / attention_mask.sum(dim=1, keepdim=True)
        return SimpleNamespace(logits=self.head(pooled), token_logits=self.token_head(hidden).squeeze(-1))


def _labelled_batch() -> dict[str, torch.Tensor]:
    lengths = [7, 2, 5, 3, 7, 4]
    batch = pad([list(range(1, n + 1)) for n in lengths], 0)
    generator = torch.Generator().manual_seed(0)
    labels = torch.rand((len(lengths), 6), generator=generator)
    labels[1, 2:] = float("nan")  # a source that knows two labels only
    tokens = torch.full(batch["input_ids"].shape, float("nan"))
    tokens[0, :7] = (torch.arange(7) % 2).float()  # one row with span annotations
    return batch | {
        "labels": labels,
        "weights": torch.tensor([1.0, 3.0, 1.0, 0.5, 1.0, 1.0]),
        "token_labels": tokens,
    }


def test_slices_hold_at_most_the_budget_and_every_row_once() -> None:
    batch = _labelled_batch()
    slices = micro_batches(batch, max_tokens=10)
    assert len(slices) > 1
    assert all(part["input_ids"].numel() <= 10 or len(part["input_ids"]) == 1 for part in slices)
    assert sum(len(part["labels"]) for part in slices) == len(batch["labels"])
    assert int(sum(part["attention_mask"].sum() for part in slices)) == int(batch["attention_mask"].sum())
    assert micro_batches(batch, max_tokens=0) == [batch]


def test_a_sliced_batch_gives_the_gradients_of_the_whole_batch() -> None:
    batch = _labelled_batch()
    gradients = []
    losses = []
    for budget in (0, 10):
        torch.manual_seed(0)
        model = BagOfEmbeddings()
        losses.append(float(accumulate_gradients(model, batch, span_loss_weight=0.7, max_tokens=budget)))
        gradients.append([p.grad.clone() for p in model.parameters() if p.grad is not None])
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)
    for whole, sliced in zip(*gradients, strict=True):
        torch.testing.assert_close(whole, sliced, rtol=1e-5, atol=1e-6)
