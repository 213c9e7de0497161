"""The training loss must ignore unknown labels, not read them as 0."""

from __future__ import annotations

import torch

from toxicity_pyfunc.jobs.training.loss import masked_bce_loss

nan = float("nan")


def test_masked_loss_equals_bce_over_known_cells() -> None:
    logits = torch.tensor([[2.0, -1.0], [0.5, 3.0]])
    targets = torch.tensor([[1.0, nan], [0.3, 0.0]])
    known = ~torch.isnan(targets)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits[known], targets[known])
    assert torch.allclose(masked_bce_loss(logits, targets), expected)


def test_masked_loss_ignores_unknown_cells_entirely() -> None:
    targets = torch.tensor([[1.0, nan]])
    low = masked_bce_loss(torch.tensor([[2.0, -50.0]]), targets)
    high = masked_bce_loss(torch.tensor([[2.0, 50.0]]), targets)
    assert torch.allclose(low, high)


def test_masked_loss_of_all_unknown_batch_is_zero_not_nan() -> None:
    loss = masked_bce_loss(torch.tensor([[1.0]]), torch.tensor([[nan]]))
    assert float(loss) == 0.0


def test_row_weights_scale_each_rows_share_of_the_loss() -> None:
    logits = torch.tensor([[3.0], [-3.0]])
    targets = torch.tensor([[0.0], [0.0]])  # row 0 is badly wrong, row 1 right
    plain = masked_bce_loss(logits, targets)
    heavier_wrong = masked_bce_loss(logits, targets, torch.tensor([3.0, 1.0]))
    only_right = masked_bce_loss(logits, targets, torch.tensor([0.0, 1.0]))
    assert heavier_wrong > plain > only_right
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits[1], targets[1])
    assert torch.allclose(only_right, expected)
