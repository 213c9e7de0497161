"""What a training run records in MLflow step by step: the loss, the learning rate, the speed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import mlflow
import torch
from mlflow.entities import Metric
from mlflow.tracking import MlflowClient


class StepLog:
    """Loss and learning rate for every step, sent to MLflow in batches.

    Losses stay on the GPU until a flush, so logging does not stall the training loop.
    """

    def __init__(self, every: int = 100, *, enabled: bool = True) -> None:
        self.every, self.step, self.enabled = every, 0, enabled
        self.pending: list[tuple[int, torch.Tensor, float]] = []

    def add(self, loss: torch.Tensor, learning_rate: float) -> None:
        self.step += 1
        if not self.enabled:
            return
        self.pending.append((self.step, loss, learning_rate))
        if len(self.pending) >= self.every:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        losses = torch.stack([loss for _, loss, _ in self.pending]).float().cpu().tolist()
        now = int(time.time() * 1000)
        metrics = []
        for (step, _, lr), loss in zip(self.pending, losses, strict=True):
            metrics += [Metric("train_loss", loss, now, step), Metric("learning_rate", lr, now, step)]
        run = mlflow.active_run()
        assert run is not None
        MlflowClient().log_batch(run.info.run_id, metrics=metrics, synchronous=False)
        self.pending = []


class Throughput:
    """Samples and real (unpadded) tokens per second of training time, validation excluded.

    Also reported after warm-up (the first `warmup_steps` steps, when kernels are chosen for
    new shapes and the loader fills up): the rate a long run settles at.
    """

    def __init__(self, processes: int = 1, warmup_steps: int = 50) -> None:
        self.samples, self.tokens, self.seconds, self.processes = 0, 0, 0.0, processes
        self.warmup_steps, self.steps = warmup_steps, 0
        self._token_counts: list[torch.Tensor] = []
        self._started = 0.0
        self._device = torch.device("cpu")
        self._mark: tuple[float, int] | None = None  # (seconds, samples) when warm-up ended

    @contextmanager
    def timing(self, device: torch.device) -> Iterator[None]:
        self._device, self._started = device, time.perf_counter()
        yield
        self._sync()
        self.seconds += time.perf_counter() - self._started

    def _sync(self) -> None:
        if self._device.type == "cuda":
            torch.cuda.synchronize()

    def count(self, attention_mask: torch.Tensor) -> None:
        self.samples += attention_mask.shape[0]
        self._token_counts.append(attention_mask.sum())
        self.steps += 1
        if self.steps == self.warmup_steps:
            self._sync()
            self._mark = (self.seconds + time.perf_counter() - self._started, self.samples)

    def summary(self) -> dict[str, float]:
        self.tokens += int(torch.stack(self._token_counts).sum()) if self._token_counts else 0
        self._token_counts = []
        seconds = max(self.seconds, 1e-9)
        # Every process does the same number of steps: together they did `processes` times as much.
        rates = {
            "train_samples_per_s": self.processes * self.samples / seconds,
            "train_tokens_per_s": self.processes * self.tokens / seconds,
        }
        if self._mark is not None and self.seconds > self._mark[0]:
            steady = (self.samples - self._mark[1]) / (self.seconds - self._mark[0])
            rates["train_samples_per_s_after_warmup"] = self.processes * steady
        return rates
