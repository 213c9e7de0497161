"""The training loss: binary cross-entropy on soft targets, unknown cells masked out."""

from __future__ import annotations

import torch


def known_weight(targets: torch.Tensor, row_weights: torch.Tensor | None = None) -> torch.Tensor:
    """What the loss averages over: the known cells, each counted with its row's weight.

    Computed once for a whole batch, it lets the batch's slices (gradient accumulation) add up
    to exactly the loss of the whole batch.
    """
    weight = (~torch.isnan(targets)).float()
    if row_weights is not None:
        weight = weight * row_weights.float().unsqueeze(1)
    return weight.sum()


def masked_bce_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    row_weights: torch.Tensor | None = None,
    *,
    total_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Binary cross-entropy on soft targets, a weighted average over known cells only.

    A NaN target means the source does not carry that label: the cell adds nothing.
    `total_weight` (from `known_weight` over the whole batch) divides instead of this slice's own.
    """
    known = ~torch.isnan(targets)
    safe_targets = torch.where(known, targets, torch.zeros_like(targets))
    losses = torch.nn.functional.binary_cross_entropy_with_logits(
        logits.float(), safe_targets.float(), reduction="none"
    )
    weight = known.float()
    if row_weights is not None:
        weight = weight * row_weights.float().unsqueeze(1)
    denominator = weight.sum() if total_weight is None else total_weight
    return (losses * weight).sum() / denominator.clamp(min=1e-6)
