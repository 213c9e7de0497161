"""Batching across callers: the same answers as alone, failures kept with their owner, no one left waiting."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

from toxicity_pyfunc.served.batching import Encoded
from toxicity_pyfunc.served.coalescing import Coalescer
from toxicity_pyfunc.served.labels import LABELS
from toxicity_pyfunc.served.runtimes import ScoringStoppedError

POISON = 666


class FakeForward:
    """Each row's scores depend on its own ids only; a POISON id fails the batch; calls are counted."""

    def __init__(self, first_call_seconds: float = 0.0) -> None:
        self.calls: list[int] = []
        self.first_call_seconds = first_call_seconds
        self.lock = threading.Lock()

    def __call__(self, batch: dict[str, torch.Tensor], tokens: bool) -> tuple[np.ndarray, np.ndarray | None]:
        with self.lock:
            self.calls.append(batch["input_ids"].shape[0])
            first = len(self.calls) == 1
        if first:
            time.sleep(self.first_call_seconds)  # the others arrive meanwhile
        ids = batch["input_ids"].numpy()
        if (ids == POISON).any():
            raise ValueError("poisoned row")
        sums = (ids * batch["attention_mask"].numpy()).sum(axis=1, keepdims=True)
        scores = (sums % 97 / 97.0 + np.arange(len(LABELS)) / 100).astype(np.float32)
        return scores, (ids % 7 / 7.0).astype(np.float32) if tokens else None


def rows(*sequences: list[int]) -> Encoded:
    return Encoded([list(s) for s in sequences])


def alone(sequences: list[list[int]]) -> np.ndarray:
    return Coalescer(FakeForward(), 0, 64, 512).score(rows(*sequences))[0]


def test_concurrent_callers_get_what_they_get_alone_in_fewer_passes() -> None:
    forward = FakeForward(first_call_seconds=0.3)
    coalescer = Coalescer(forward, 0, 64, 512)
    requests = [[[101, i, i + 1, 102]] for i in range(1, 40)] + [[[101, 5, 102], [101, 9, 9, 9, 9, 102]]]
    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        answers = list(pool.map(lambda sequences: coalescer.score(rows(*sequences), tokens=True), requests))
    for sequences, (scores, token_scores) in zip(requests, answers, strict=True):
        np.testing.assert_array_equal(scores, alone(sequences))
        assert token_scores is not None
        assert [len(t) for t in token_scores] == [len(s) for s in sequences]
    assert len(forward.calls) < len(requests)  # callers that came while a batch ran shared the next


def test_a_failing_caller_fails_alone() -> None:
    forward = FakeForward(first_call_seconds=0.3)
    coalescer = Coalescer(forward, 0, 64, 512)
    requests = [[[101, 3, 102]], [[101, POISON, 102]], [[101, 4, 102]], [[101, 5, 102]]]

    def call(sequences: list[list[int]]) -> object:
        try:
            return coalescer.score(rows(*sequences))[0]
        except ValueError as error:
            return error

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(call, requests))
    assert isinstance(answers[1], ValueError)
    for index in (0, 2, 3):
        np.testing.assert_array_equal(answers[index], alone(requests[index]))


def test_nothing_waits_forever_when_the_model_fails() -> None:
    def broken(batch: dict[str, torch.Tensor], tokens: bool) -> tuple[np.ndarray, None]:
        raise RuntimeError("the runtime is gone")

    coalescer = Coalescer(broken, 0, 64, 512)
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(coalescer.score, rows([101, i, 102])) for i in range(8)]
        for future in futures:
            with pytest.raises(RuntimeError, match="runtime is gone"):
                future.result(timeout=30)

    def dies(batch: dict[str, torch.Tensor], tokens: bool) -> tuple[np.ndarray, None]:
        time.sleep(0.2)  # the first caller runs its own batch; the others queue for the worker
        raise SystemExit("the thread running the batch ends")

    dying = Coalescer(dies, 0, 64, 512)
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(dying.score, rows([101, i, 102])) for i in range(4)]
        for future in futures:
            with pytest.raises(SystemExit):
                future.result(timeout=30)
    dying.forward = FakeForward(first_call_seconds=0.2)
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(dying.score, [rows([101, i, 102]) for i in range(4)]))
    assert [a[0].shape for a in answers] == [(1, len(LABELS))] * 4  # a new worker took over


def test_a_stopped_caller_is_dropped_before_its_batches_run() -> None:
    forward = FakeForward()
    coalescer = Coalescer(forward, 0, 64, 512)
    with pytest.raises(ScoringStoppedError):
        coalescer.score(rows([101, 1, 102]), should_stop=lambda: True)
    assert forward.calls == []


def test_a_lone_caller_runs_its_own_batches_in_its_own_thread() -> None:
    threads: list[threading.Thread] = []
    forward = FakeForward()

    def recording(batch: dict[str, torch.Tensor], tokens: bool) -> tuple[np.ndarray, np.ndarray | None]:
        threads.append(threading.current_thread())
        return forward(batch, tokens)

    coalescer = Coalescer(recording, 0, 2, None)
    coalescer.score(rows([1], [2], [3]))
    assert threads == [threading.current_thread()] * 2  # no hand-off to a worker thread
    assert coalescer._worker is None


def test_an_idle_worker_ends_and_the_next_callers_start_one() -> None:
    forward = FakeForward(first_call_seconds=0.3)
    coalescer = Coalescer(forward, 0, 8, None, idle_seconds=0.2)
    requests = [rows([1, 2], [3]), rows([4])]
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = list(pool.map(coalescer.score, requests))  # one runs its own; the other queues
    worker = coalescer._worker
    assert worker is not None
    worker.join(timeout=5)  # idle past 0.2 s: it leaves, holding nothing (a replaced model can be freed)
    assert not worker.is_alive()
    forward.calls.clear()
    with ThreadPoolExecutor(max_workers=2) as pool:
        again = list(pool.map(coalescer.score, requests))
    for before, after in zip(first, again, strict=True):
        np.testing.assert_array_equal(before[0], after[0])
    assert coalescer._worker is not None
    assert coalescer._worker is not worker


def test_every_forward_pass_is_reported_with_its_size() -> None:
    sizes: list[int] = []
    coalescer = Coalescer(FakeForward(), 0, 2, None, on_batch=sizes.append)
    coalescer.score(rows([1], [2], [3]))
    assert sorted(sizes) == [1, 2]


def test_padded_widths_are_rounded_up_and_scores_stay_the_same() -> None:
    widths: list[int] = []
    forward = FakeForward()

    def recording(batch: dict[str, torch.Tensor], tokens: bool) -> tuple[np.ndarray, np.ndarray | None]:
        widths.append(batch["input_ids"].shape[1])
        return forward(batch, tokens)

    sequences = [[101] + [7] * n + [102] for n in (1, 5, 40, 70)]
    coalescer = Coalescer(recording, 0, 2, None, pad_multiple=32)
    scores, token_scores = coalescer.score(rows(*sequences), tokens=True)
    assert widths == [32, 96]  # lengths 3 and 7, then 42 and 72
    np.testing.assert_array_equal(scores, alone(sequences))
    assert token_scores is not None
    assert [len(t) for t in token_scores] == [len(s) for s in sequences]
