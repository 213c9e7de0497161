"""Tokenize once, then cut texts into batches of similar length so padding stays small."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase


@dataclass
class Encoded:
    """Token ids of many texts, unpadded, plus their soft labels (NaN = unknown) and loss weights."""

    input_ids: list[list[int]]
    labels: np.ndarray | None = None
    weights: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def lengths(self) -> np.ndarray:
        return np.fromiter((len(ids) for ids in self.input_ids), dtype=np.int64, count=len(self))


def encode(
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    max_length: int,
    labels: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> Encoded:
    """Tokenize all texts in one call, truncating to `max_length` tokens."""
    ids = tokenizer(
        list(texts),
        truncation=True,
        max_length=max_length,
        padding=False,
        return_attention_mask=False,
        return_token_type_ids=False,
    )["input_ids"]
    return Encoded(input_ids=ids, labels=labels, weights=weights)


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


def length_grouped_batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator, pool_batches: int = 50
) -> list[np.ndarray]:
    """Shuffled batches whose members have similar lengths: for training.

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
    rng.shuffle(batches)  # type: ignore[arg-type]
    return batches


def collate(encoded: Encoded, rows: np.ndarray, pad_id: int, multiple: int = 1) -> dict[str, torch.Tensor]:
    """Pad the chosen rows to their longest member (rounded up to `multiple`) as model tensors."""
    seqs = [encoded.input_ids[i] for i in rows]
    width = max(len(s) for s in seqs)
    width = -(-width // multiple) * multiple
    input_ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, seq in enumerate(seqs):
        input_ids[i, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        attention[i, : len(seq)] = 1
    batch = {"input_ids": input_ids, "attention_mask": attention}
    if encoded.labels is not None:
        batch["labels"] = torch.from_numpy(encoded.labels[rows])
    if encoded.weights is not None:
        batch["weights"] = torch.from_numpy(encoded.weights[rows])
    return batch


def iterate(
    encoded: Encoded, batches: list[np.ndarray], pad_id: int
) -> Iterator[tuple[np.ndarray, dict[str, torch.Tensor]]]:
    """Yield (row indices, tensors) for each batch."""
    for rows in batches:
        yield rows, collate(encoded, rows, pad_id)


class BatchDataset(torch.utils.data.Dataset):
    """Item i is batch i, already padded: lets DataLoader workers build batches ahead of the GPU."""

    def __init__(self, encoded: Encoded, batches: list[np.ndarray], pad_id: int, multiple: int = 1) -> None:
        self.encoded, self.batches, self.pad_id, self.multiple = encoded, batches, pad_id, multiple

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return collate(self.encoded, self.batches[index], self.pad_id, self.multiple)


def batch_loader(
    encoded: Encoded, batches: list[np.ndarray], pad_id: int, on_gpu: bool
) -> torch.utils.data.DataLoader:
    """Batches prepared by worker processes into pinned memory on GPU; in-process on CPU."""
    return torch.utils.data.DataLoader(
        BatchDataset(encoded, batches, pad_id, multiple=8 if on_gpu else 1),
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
