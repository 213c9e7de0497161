"""Data-parallel training under `torchrun`: one process per GPU, rank 0 tracks and logs.

Without torchrun's variables everything is a single process and nothing here does anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Context:
    """Where this process stands: its rank, how many there are, and its device."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def setup() -> Context:
    """Join the process group torchrun describes (NCCL on GPUs, Gloo on CPUs), or run alone."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    cuda = torch.cuda.is_available()
    if world_size == 1:
        return Context(device=torch.device("cuda" if cuda else "cpu"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if cuda:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    device = torch.device(f"cuda:{local_rank}") if cuda else torch.device("cpu")
    return Context(rank=dist.get_rank(), world_size=dist.get_world_size(), device=device)


def shard(global_batches: list[np.ndarray], context: Context) -> list[np.ndarray]:
    """This rank's part of each global batch (world_size x batch_size rows, sorted by length).

    Taking every world_size-th row gives all ranks rows of nearly the same lengths at each step,
    so none waits for a slower one at the gradient all-reduce. Every rank gets the same number
    of steps, as DDP needs; a last global batch too small to share is left out.
    """
    if not context.distributed:
        return global_batches
    return [
        rows[context.rank :: context.world_size] for rows in global_batches if len(rows) >= context.world_size
    ]


def barrier(context: Context) -> None:
    if context.distributed:
        dist.barrier()


def teardown(context: Context) -> None:
    if context.distributed and dist.is_initialized():
        dist.destroy_process_group()
