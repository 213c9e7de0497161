"""Training batches: labelled token ids, shuffled length-grouped batches, a loader for the GPU."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from toxicity_pyfunc.served.batching import Encoded, pad, token_budget_batches

# The tensors of a batch that have a column per token (cut when a slice is shorter).
_PER_TOKEN = ("input_ids", "attention_mask", "token_labels")


@dataclass
class LabelledRows:
    """Token ids of the training texts, their soft labels (NaN = unknown), loss weights, and a
    label per token for the span head where a row has span annotations (None elsewhere)."""

    encoded: Encoded
    labels: np.ndarray
    weights: np.ndarray | None = None
    token_labels: list[np.ndarray | None] | None = None

    def __len__(self) -> int:
        return len(self.encoded)


def length_grouped_batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator, pool_batches: int = 50
) -> list[np.ndarray]:
    """Shuffled batches whose members have similar lengths.

    Rows are shuffled, cut into pools of `pool_batches` batches, each pool sorted by length
    and cut into batches, and the batches shuffled again, so every epoch sees new company.
    """
    order = rng.permutation(len(lengths))
    pool = batch_size * pool_batches
    batches: list[np.ndarray] = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def collate(
    rows: LabelledRows, chosen: np.ndarray, pad_id: int, multiple: int = 1
) -> dict[str, torch.Tensor]:
    """The chosen rows padded as model tensors, with their labels and weights."""
    batch = pad([rows.encoded.input_ids[i] for i in chosen], pad_id, multiple)
    batch["labels"] = torch.from_numpy(rows.labels[chosen])
    if rows.weights is not None:
        batch["weights"] = torch.from_numpy(rows.weights[chosen])
    if rows.token_labels is not None:
        width = batch["input_ids"].shape[1]
        tokens = np.full((len(chosen), width), np.nan, dtype=np.float32)
        for position, row in enumerate(chosen):
            known = rows.token_labels[row]
            if known is not None:
                tokens[position, : len(known)] = known
        batch["token_labels"] = torch.from_numpy(tokens)
    return batch


def micro_batches(
    batch: dict[str, torch.Tensor], max_tokens: int, multiple: int = 1
) -> list[dict[str, torch.Tensor]]:
    """Slices of a padded batch of at most `max_tokens` padded tokens each (0: the batch whole).

    Rows of similar length go together and each slice is cut to its own longest row (rounded up
    to `multiple`), so the slices hold little padding. What bounds training memory: activations
    grow with rows x tokens, and the optimiser still steps once per whole batch.
    """
    rows, width = batch["input_ids"].shape
    if max_tokens <= 0 or rows * width <= max_tokens:
        return [batch]
    lengths = batch["attention_mask"].sum(dim=1).cpu().numpy()
    slices = []
    for chosen in token_budget_batches(lengths, rows, max_tokens):
        index = torch.from_numpy(chosen)
        cut = min(width, -(-int(lengths[chosen].max()) // multiple) * multiple)
        slices.append(
            {
                key: value[index][:, :cut] if key in _PER_TOKEN else value[index]
                for key, value in batch.items()
            }
        )
    return slices


class BatchDataset(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
    """Item i is batch i, already padded: lets DataLoader workers build batches ahead of the GPU."""

    def __init__(self, rows: LabelledRows, batches: list[np.ndarray], pad_id: int, multiple: int = 1) -> None:
        self.rows, self.batches, self.pad_id, self.multiple = rows, batches, pad_id, multiple

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return collate(self.rows, self.batches[index], self.pad_id, self.multiple)


def batch_loader(
    rows: LabelledRows, batches: list[np.ndarray], pad_id: int, on_gpu: bool
) -> torch.utils.data.DataLoader[dict[str, torch.Tensor]]:
    """Batches prepared by worker processes into pinned memory on GPU; in-process on CPU."""
    return torch.utils.data.DataLoader(
        BatchDataset(rows, batches, pad_id, multiple=8 if on_gpu else 1),
        batch_size=None,
        shuffle=False,
        num_workers=4 if on_gpu else 0,
        pin_memory=on_gpu,
        prefetch_factor=8 if on_gpu else None,
        # One thread per worker: padding is cheap, and spare cores keep the training loop fed.
        worker_init_fn=_single_threaded if on_gpu else None,
    )


def _single_threaded(_worker: int) -> None:
    torch.set_num_threads(1)
