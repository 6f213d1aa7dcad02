"""The REST API's blocking work (SQLite, hashing files for ``status``) runs off the IOLoop, in
a bounded pool, with a time bound: one slow request never stalls jupyter_server, and a flood
of them is turned away instead of queued without end."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from ..errors import RequestTimeoutError, ServerBusyError

T = TypeVar("T")

WORKERS = 4
QUEUED_PER_WORKER = 4
TIMEOUT_SECONDS = 30.0


class Pool:
    def __init__(self, workers: int = WORKERS, timeout: float = TIMEOUT_SECONDS) -> None:
        self.workers = max(1, int(workers))
        self.timeout = float(timeout)
        self.limit = self.workers * (1 + QUEUED_PER_WORKER)
        self.executor = ThreadPoolExecutor(self.workers, thread_name_prefix="jupyter-lineage-api")
        self.pending = 0  # running or queued; changed only on the IOLoop's thread

    async def run(self, work: Callable[[], T]) -> T:
        """``work()`` in the pool; a RequestTimeoutError once it takes longer than the bound
        (the thread finishes on its own: SQLite reads stop themselves at the same bound)."""
        if self.pending >= self.limit:
            raise ServerBusyError(
                f"The lineage API is busy ({self.pending} requests in progress); try again in "
                "a moment."
            )
        loop = asyncio.get_running_loop()
        self.pending += 1
        future: Future[T] = self.executor.submit(work)

        def done(_: Any) -> None:
            loop.call_soon_threadsafe(self._release)

        future.add_done_callback(done)
        try:
            # a little grace, so the store's own bound (a clearer message) usually answers first
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout + 1)
        except asyncio.TimeoutError:
            raise RequestTimeoutError(
                f"The request took more than {self.timeout:g} s and was stopped. Ask for less (a "
                "smaller depth or limit), or raise the server's lineage_request_timeout."
            ) from None

    def _release(self) -> None:
        self.pending -= 1

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
