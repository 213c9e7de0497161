"""The training loss: binary cross-entropy on soft targets, unknown cells masked out."""

from __future__ import annotations

import torch


def masked_bce_loss(
    logits: torch.Tensor, targets: torch.Tensor, row_weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Binary cross-entropy on soft targets, a weighted average over known cells only.

    A NaN target means the source does not carry that label: the cell adds nothing.
    """
    known = ~torch.isnan(targets)
    safe_targets = torch.where(known, targets, torch.zeros_like(targets))
    losses = torch.nn.functional.binary_cross_entropy_with_logits(
        logits.float(), safe_targets.float(), reduction="none"
    )
    weight = known.float()
    if row_weights is not None:
        weight = weight * row_weights.float().unsqueeze(1)
    return (losses * weight).sum() / weight.sum().clamp(min=1e-6)
