"""Hedged detector calls: one duplicate of a batch whose call runs past the observed quantile.

Off by default (``PII_HEDGE_ENABLED``). A slow Language call is usually slow because of the
service, not the batch, so a second call of the same batch started once the first has run past
the observed p95 often answers first. The call is idempotent and results are cached once (by the
scanner, after the winner returns), so the duplicate is safe. The first success wins and the
other call is cancelled; when one call fails the other is awaited; when both fail, the first
error is raised.

The extra load is bounded:

- no hedging before ``min_samples`` successful batches have been observed;
- a budget: each batch earns ``max_ratio`` of a hedge, a hedge spends one, and the balance is
  capped at a small burst, so hedges never exceed ``max_ratio`` of the batches plus the burst,
  even when Language slows down as a whole;
- a hedge takes a free slot of the instance gate (``PII_INSTANCE_CONCURRENCY``) or is not sent:
  it never waits for a slot, and never takes one while batches are waiting for it;
- the request deadline must leave at least the threshold again;
- none once the request has been throttled (429): a duplicate adds load Language is refusing.

The latency recorded is the batch's, from the first call's start to the first success. With
hedging at T, a batch takes longer than T exactly when its first call does, so the observed
quantile stays that of a single call and hedging does not chase its own tail.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import replace

from redaction.deadline import Clock
from redaction.detectors.detector import BatchResult, DetectionContext, Detector, DetectorWrapper
from redaction.entities import Document

DEFAULT_WINDOW = 1000
DEFAULT_BURST = 10.0


class LatencyTracker:
    """A bounded window of recent batch latencies (seconds) and its quantile."""

    def __init__(
        self, quantile: float = 0.95, min_samples: int = 100, window: int = DEFAULT_WINDOW
    ) -> None:
        if not 0.0 < quantile < 1.0:
            raise ValueError("quantile must be between 0 and 1")
        if not 1 <= min_samples <= window:
            raise ValueError("min_samples must be between 1 and the window")
        self.quantile = quantile
        self.min_samples = min_samples
        self._samples: deque[float] = deque(maxlen=window)
        self._threshold: float | None = None

    def __len__(self) -> int:
        return len(self._samples)

    def record(self, seconds: float) -> None:
        self._samples.append(seconds)
        self._threshold = None

    def threshold(self) -> float | None:
        """The quantile (nearest rank) of the window; None until there are enough samples."""
        if len(self._samples) < self.min_samples:
            return None
        if self._threshold is None:
            ordered = sorted(self._samples)
            rank = max(1, math.ceil(self.quantile * len(ordered)))
            self._threshold = ordered[rank - 1]
        return self._threshold


class HedgeBudget:
    """Each batch earns ``ratio`` of a hedge and a hedge spends one; the balance is capped at
    ``burst``, so over any span hedges <= ratio * batches + burst."""

    def __init__(self, ratio: float, burst: float = DEFAULT_BURST) -> None:
        if not 0.0 < ratio <= 1.0:
            raise ValueError("ratio must be in (0, 1]")
        self.ratio = ratio
        self.burst = max(1.0, burst)
        self._balance = 0.0

    def earn(self) -> None:
        self._balance = min(self.burst, self._balance + self.ratio)

    def spend(self) -> bool:
        if self._balance < 1.0 - 1e-9:  # ten earnings of 0.1 add up to 0.9999999999999999
            return False
        self._balance -= 1.0
        return True


class HedgedDetector(DetectorWrapper):
    """A ``Detector`` that sends one duplicate of a batch running past the tracker's threshold."""

    def __init__(
        self,
        inner: Detector,
        tracker: LatencyTracker,
        budget: HedgeBudget,
        gate: asyncio.Semaphore | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__(inner)
        self.tracker = tracker
        self._budget = budget
        self._gate = gate
        self._clock = clock

    async def detect(self, documents: Sequence[Document], context: DetectionContext) -> BatchResult:
        self._budget.earn()
        started = self._clock()
        threshold = self.tracker.threshold()
        if threshold is None:
            result = await self.inner.detect(documents, context)
        else:
            result = await self._race(documents, context, threshold)
        self.tracker.record(self._clock() - started)
        return result

    async def _race(
        self, documents: Sequence[Document], context: DetectionContext, threshold: float
    ) -> BatchResult:
        tasks = [asyncio.create_task(self.inner.detect(documents, context))]
        try:
            await asyncio.wait(tasks, timeout=threshold)
            if not tasks[0].done() and self._may_hedge(context, threshold):
                tasks.append(await self._start_hedge(documents, context))
            return await _first_success(tasks)
        finally:
            await _cancel(tasks)

    def _may_hedge(self, context: DetectionContext, threshold: float) -> bool:
        if context.stats.throttled or context.deadline.remaining() < threshold:
            return False
        if self._gate is not None and self._gate.locked():
            return False
        return self._budget.spend()

    async def _start_hedge(
        self, documents: Sequence[Document], context: DetectionContext
    ) -> asyncio.Task[BatchResult]:
        """Starts the duplicate in the gate slot ``_may_hedge`` found free (so ``acquire`` does
        not wait) and gives the slot back when the duplicate ends, however it ends."""
        gate = self._gate
        if gate is not None:
            await gate.acquire()
        context.stats.hedges += 1
        task = asyncio.create_task(self.inner.detect(documents, replace(context, hedge=True)))
        if gate is not None:
            task.add_done_callback(lambda _: gate.release())
        return task


async def _first_success(tasks: list[asyncio.Task[BatchResult]]) -> BatchResult:
    """The first result to arrive; when every call fails, the error that came first."""
    pending = set(tasks)
    error: BaseException | None = None
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in sorted(done, key=tasks.index):
            failure = task.exception()
            if failure is None:
                return task.result()
            error = error or failure
    assert error is not None
    raise error


async def _cancel(tasks: list[asyncio.Task[BatchResult]]) -> None:
    """Cancels the calls still running and waits for them, so none outlives the batch."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
