"""Running the model for a request: off the event loop, within its time, and not for nobody.

The scoring runs in a worker thread. While it runs, the request watches its deadline and its
client; when either is gone the model is told to stop before its next batch, so timed-out
requests and clients that left do not keep the CPU busy (nor pile work up when they retry).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from starlette.requests import Request

from toxicity_pyfunc.served.model import Scored, ToxicityModel
from toxicity_pyfunc.service.body import RequestError

logger = logging.getLogger(__name__)

CLIENT_GONE = 499  # nginx's "client closed request": logged, never read by anyone
_WATCH_SECONDS = 0.05


class Runner:
    """Scores texts for requests with a deadline; answers 503 when it passes."""

    def __init__(self, timeout: float, threads: int = 32) -> None:
        self.timeout = timeout
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="score")

    async def analyze(
        self, request: Request, model: ToxicityModel, texts: Sequence[str], *, spans: bool = False
    ) -> Scored:
        stop = threading.Event()
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(
            self._executor, partial(model.analyze, texts, spans=spans, should_stop=stop.is_set)
        )
        future.add_done_callback(_retrieve)
        deadline = loop.time() + self.timeout
        try:
            while True:
                done, _ = await asyncio.wait({future}, timeout=_WATCH_SECONDS)
                if done:
                    return future.result()
                if loop.time() > deadline:
                    stop.set()
                    raise RequestError(
                        503,
                        f"the request took longer than {self.timeout:g} s; its work was dropped",
                        headers={"Retry-After": "1"},
                    )
                if await request.is_disconnected():
                    stop.set()
                    raise RequestError(CLIENT_GONE, "the client closed the connection; its work was dropped")
        except asyncio.CancelledError:
            stop.set()
            raise

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _retrieve(future: asyncio.Future[Scored]) -> None:
    """A stopped job's exception is expected: take it so asyncio does not warn about it."""
    if not future.cancelled():
        future.exception()
