"""A bounded pool of worker threads for CPU-bound work (embedded detection, tenant patterns), so
the event loop keeps answering (``/health``, other requests) while a large request is scanned.

    pool = WorkerPool(workers=2)                      # owned by the runtime, one per process
    entities = await run_cpu(pool, deadline, recognizer.find_entities, text, "en")
    pool.shutdown()

``run_cpu(pool, deadline, func, *args, **kwargs) -> T`` runs ``func(*args, **kwargs)`` on a
worker thread and returns its result (or raises its exception). Submit short units (one document
of at most 5,000 characters, one text's patterns): a unit that has started cannot be stopped,
so the deadline is enforced between units:

- a unit never starts once ``deadline`` has passed: ``DeadlineError`` (reason ``deadline``) is
  raised instead, whether it was still queued or about to run on a worker;
- the caller never waits past ``deadline``: ``DeadlineError`` again; a unit already running then
  finishes in the background and its result is dropped;
- cancelling the caller (``asyncio.timeout``) drops a unit that has not started.

At most ``workers`` units run at once and no more are handed to the threads; the others wait in
the pool, one queue per request (the ``deadline`` object identifies the request), served round
robin, so a small request waits for a few units, not for every unit of a large one.

``pool`` may be None (tools, tests): ``func`` then runs inline on the loop, after the same
deadline check. Threads keep the loop responsive; they do not add CPU (the GIL): ``workers`` is
about overlap with C code and fairness, not throughput.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from redaction.deadline import Deadline
from redaction.errors import DeadlineError

P = ParamSpec("P")
T = TypeVar("T")


class WorkerPool:
    """Worker threads plus the admission that keeps them bounded and fair across requests."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pii-cpu")
        self._free = workers
        self._queues: dict[int, deque[asyncio.Future[None]]] = {}  # per request, by id(deadline)
        self._turns: deque[int] = deque()  # requests with waiting units, in serving order
        self._lock = threading.Lock()
        self.started = 0  # units that began running (read by tests and telemetry)
        self.finished = 0

    async def run(
        self, deadline: Deadline, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        if deadline.expired:
            raise DeadlineError()
        await self._acquire(deadline)
        loop = asyncio.get_running_loop()
        work = self._executor.submit(self._unit, deadline, functools.partial(func, *args, **kwargs))
        work.add_done_callback(lambda _: _call_soon(loop, self._release))
        result = asyncio.wrap_future(work)
        try:
            done, _ = await asyncio.wait({result}, timeout=deadline.remaining())
        finally:
            result.cancel()  # no-op when done; drops a unit that has not started
        if not done:
            raise DeadlineError()
        return result.result()

    def shutdown(self) -> None:
        """Stops the threads once their current unit ends; queued units never start."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _unit(self, deadline: Deadline, unit: Callable[[], T]) -> T:
        """Runs on a worker: the last deadline check happens here, right before the work."""
        if deadline.expired:
            raise DeadlineError()
        with self._lock:
            self.started += 1
        try:
            return unit()
        finally:
            with self._lock:
                self.finished += 1

    async def _acquire(self, deadline: Deadline) -> None:
        """A worker slot, waited for in this request's queue, never past ``deadline``."""
        if self._free > 0 and not self._turns:
            self._free -= 1
            return
        owner = id(deadline)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if owner not in self._queues:
            self._queues[owner] = deque()
            self._turns.append(owner)
        self._queues[owner].append(waiter)
        try:
            await asyncio.wait({waiter}, timeout=deadline.remaining())
        except BaseException:  # cancelled: give back a slot granted meanwhile, or stop waiting
            if waiter.done():
                self._release()
            else:
                self._forget(owner, waiter)
            raise
        if not waiter.done():
            self._forget(owner, waiter)
            raise DeadlineError()

    def _release(self) -> None:
        """A unit ended: its slot goes to the next request in turn, or back to the pool."""
        if not self._turns:
            self._free += 1
            return
        owner = self._turns.popleft()
        queue = self._queues[owner]
        waiter = queue.popleft()
        if queue:
            self._turns.append(owner)
        else:
            del self._queues[owner]
        waiter.set_result(None)

    def _forget(self, owner: int, waiter: asyncio.Future[None]) -> None:
        queue = self._queues.get(owner)
        if queue is None or waiter not in queue:
            return
        queue.remove(waiter)
        if not queue:
            del self._queues[owner]
            self._turns.remove(owner)


# Work on this many characters or fewer runs on the event loop (a few milliseconds): it costs
# less there than the hand-off to a worker.
INLINE_CHARS = 2000


async def run_cpu(
    pool: WorkerPool | None,
    deadline: Deadline,
    func: Callable[P, T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """``func(*args)`` on a worker of ``pool`` under ``deadline`` (see the module docstring).

    Raises ``DeadlineError`` when the unit cannot start, or finish waiting, before the deadline."""
    if pool is None:
        if deadline.expired:
            raise DeadlineError()
        return func(*args, **kwargs)
    return await pool.run(deadline, func, *args, **kwargs)


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    """From a worker thread; a closed loop (shut down mid-unit) has no slots left to free."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(callback)
