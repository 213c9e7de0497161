"""Batching across callers: concurrent requests share forward passes.

Every caller tokenizes its own texts in its own thread, then hands the token ids to one worker
thread per model. The worker takes everything that is waiting, cuts it into the length-sorted
batches the runtime already uses, runs them, and hands each caller its rows back. A caller that
finds nothing running and nobody waiting runs its own batches in its own thread (no waiting
window and no thread hand-off: a lone request costs nothing); callers that arrive while batches
run are merged into the next ones. This lives in the served model, so it works the same under
`mlflow models serve`, `toxicity-serve`, Spark and in-process use.

Failures stay with their owner: when a batch that mixes callers fails, each caller's rows are run
again alone, so only the caller whose rows fail gets the error. A caller that stops (its client
left, its time ran out) has its rows dropped before the next batch. If the worker itself dies,
every waiting caller gets the error and the next call starts a new worker: nothing waits forever.
A worker idle for `idle_seconds` ends, so a model nobody calls any more (one replaced by a newer
version) holds no thread and can be freed.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

from toxicity_pyfunc.served.batching import Encoded, inference_batches, pad
from toxicity_pyfunc.served.labels import LABELS
from toxicity_pyfunc.served.runtimes import Forward, ScoringStoppedError

logger = logging.getLogger(__name__)

Result = tuple[np.ndarray, list[np.ndarray] | None]


@dataclass
class _Job:
    encoded: Encoded
    tokens: bool
    should_stop: Callable[[], bool] | None
    future: Future[Result] = field(default_factory=Future)
    scores: np.ndarray = field(init=False)
    token_scores: list[np.ndarray] | None = field(init=False)

    def __post_init__(self) -> None:
        self.scores = np.empty((len(self.encoded), len(LABELS)), dtype=np.float32)
        self.token_scores = [np.empty(0, dtype=np.float32)] * len(self.encoded) if self.tokens else None

    def stopped(self) -> bool:
        return self.should_stop is not None and self.should_stop()


class Coalescer:
    """One worker thread that runs the forward passes of every caller of one model."""

    def __init__(
        self,
        forward: Forward,
        pad_id: int,
        batch_size: int,
        token_budget: int | None,
        *,
        idle_seconds: float = 30.0,
        on_batch: Callable[[int], None] | None = None,
        pad_multiple: int = 1,
    ) -> None:
        self.forward, self.pad_id, self.pad_multiple = forward, pad_id, pad_multiple
        self.batch_size, self.token_budget = batch_size, token_budget
        self.idle_seconds = idle_seconds
        self.on_batch = on_batch  # told the number of texts of every forward pass (for /metrics)
        self._queue: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        # Held while batches run, by the worker or by a lone caller running its own: one at a time.
        self._running = threading.Lock()

    def score(
        self, encoded: Encoded, *, tokens: bool = False, should_stop: Callable[[], bool] | None = None
    ) -> Result:
        """Probabilities per text (and per token when asked), as if the caller ran alone."""
        job = _Job(encoded, tokens, should_stop)
        if len(encoded) == 0:
            return job.scores, job.token_scores
        if self._running.acquire(blocking=False):
            try:
                if self._queue.empty():  # alone: run here; whoever comes meanwhile queues for the worker
                    self._serve([job])
                    return job.future.result()
            finally:
                self._running.release()
        self._queue.put(job)  # before the worker check: an idle worker leaving sees it and stays
        self._ensure_worker()
        return job.future.result()

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="toxicity-batches", daemon=True)
                self._worker.start()

    def _run(self) -> None:
        pending: list[_Job] = []
        try:
            while True:
                try:
                    pending = [self._queue.get(timeout=self.idle_seconds)]
                except queue.Empty:
                    with self._lock:
                        if self._queue.empty():
                            self._worker = None
                            return
                    continue
                with self._running:
                    while True:  # everything that arrived while the last batches ran
                        try:
                            pending.append(self._queue.get_nowait())
                        except queue.Empty:
                            break
                    self._serve(pending)
                pending = []
        except BaseException as error:  # the worker must never leave a caller waiting
            logger.exception("the batching worker stopped")
            with self._lock:
                self._worker = None  # the next caller starts a new one
            for job in pending:
                if not job.future.done():
                    job.future.set_exception(error)
            if not self._queue.empty():
                self._ensure_worker()  # callers that queued meanwhile are served by the new worker
            raise

    def _serve(self, jobs: list[_Job]) -> None:
        live = [job for job in jobs if not self._stop(job)]
        rows = [(job, row) for job in live for row in range(len(job.encoded))]
        lengths = np.fromiter(
            (len(job.encoded.input_ids[row]) for job, row in rows), dtype=np.int64, count=len(rows)
        )
        batches = inference_batches(lengths, self.batch_size, self.token_budget)
        failed: set[int] = set()
        for batch in batches:
            members = [rows[i] for i in batch if id(rows[i][0]) not in failed]
            owners = {id(job): job for job, _ in members}
            for owner in list(owners.values()):
                if self._stop(owner):
                    failed.add(id(owner))
            members = [(job, row) for job, row in members if id(job) not in failed]
            if not members:
                continue
            try:
                self._run_batch(members)
            except Exception as error:
                self._isolate(members, error, failed)
        for job in live:
            if id(job) not in failed and not job.future.done():
                job.future.set_result((job.scores, job.token_scores))

    def _run_batch(self, members: list[tuple[_Job, int]]) -> None:
        tokens = any(job.tokens for job, _ in members)
        scores, token_scores = self.forward(
            pad([job.encoded.input_ids[row] for job, row in members], self.pad_id, self.pad_multiple), tokens
        )
        if self.on_batch is not None:
            self.on_batch(len(members))
        for position, (job, row) in enumerate(members):
            job.scores[row] = scores[position]
            if job.token_scores is not None and token_scores is not None:
                job.token_scores[row] = token_scores[position, : len(job.encoded.input_ids[row])]

    def _isolate(self, members: list[tuple[_Job, int]], error: Exception, failed: set[int]) -> None:
        """A mixed batch failed: run each caller's rows alone; only the failing callers hear of it."""
        owners = {id(job): job for job, _ in members}
        if len(owners) == 1:
            owner = next(iter(owners.values()))
            failed.add(id(owner))
            owner.future.set_exception(error)
            return
        for owner in owners.values():
            try:
                self._run_batch([(job, row) for job, row in members if job is owner])
            except Exception as own_error:
                failed.add(id(owner))
                owner.future.set_exception(own_error)

    @staticmethod
    def _stop(job: _Job) -> bool:
        if job.future.done():
            return True
        if job.stopped():
            job.future.set_exception(ScoringStoppedError("stopped before its batches ran"))
            return True
        return False
