"""The Language call budget: every call waits for a concurrency slot (AIMD) and a token of the
rate limit (``PII_LANGUAGE_RATE_PER_MINUTE``), inside the request's deadline.

- Adaptive concurrency (``AdaptiveConcurrency``): at most ``limit`` calls in flight per instance,
  between 1 and ``PII_INSTANCE_CONCURRENCY``. A 429 halves the limit (once per round of calls: the
  429s of calls sent before the last decrease answer the same overload and do not halve it again)
  and pauses new calls for its ``Retry-After``; each round of ``limit`` successful calls adds one
  slot.
- The rate (``Rate``, ``rate_limit.MovingWindowRate``): at most N calls in any minute, per
  instance or, with ``REDIS_URL``, for every instance together.

A call that cannot get both before ``deadline - reserve`` is not sent: ``DetectorError`` with
``rate-limited`` (not retryable), which the request ends with as with any unscanned batch, per
``fail_closed``. A wait that certainly ends too late is refused at once, not slept through.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from redaction.deadline import Clock, Deadline
from redaction.errors import DetectorError
from redaction.reasons import FailureReason

# What a call needs left of the deadline once it has its budget; below that it is not sent.
CALL_RESERVE_S = 0.5
DECREASE = 0.5
MAX_RATE_JITTER_S = 0.05  # spreads waiters woken by the same freed token


class Rate(Protocol):
    """A rate limit that hands out one token per call."""

    async def take(self) -> float | None:
        """Takes a token: None when taken, else the seconds until one may be free."""
        ...

    async def close(self) -> None: ...


def refused(why: str) -> DetectorError:
    return DetectorError(FailureReason.RATE_LIMITED, f"no Language call budget: {why}")


@dataclass
class Slot:
    """One call's place in the concurrency limit and how the call went."""

    round: int
    status: int | None = None  # Language's answer; None when none came
    retry_after: float | None = None

    def answered(self, status: int, retry_after: float | None = None) -> None:
        self.status = status
        self.retry_after = retry_after


class AdaptiveConcurrency:
    """AIMD concurrency limit of Language calls, with a pause after a 429's ``Retry-After``."""

    def __init__(self, maximum: int, minimum: int = 1, clock: Clock = time.monotonic) -> None:
        if not 1 <= minimum <= maximum:
            raise ValueError("need 1 <= minimum <= maximum")
        self.maximum = maximum
        self.minimum = minimum
        self.limit = maximum
        self.in_flight = 0
        self._successes = 0  # in this round
        self.decreases = 0
        self.paused_until = 0.0
        self._round = 0
        self._clock = clock
        self._changed = asyncio.Event()

    async def acquire(self, deadline: Deadline, reserve: float = CALL_RESERVE_S) -> Slot:
        """A slot, waited for until ``deadline - reserve``; else ``rate-limited``."""
        while (wait := self._wait()) > 0:
            left = deadline.remaining() - reserve
            if self._paused() > left:
                raise refused("Language asked to wait past the deadline")
            if left <= 0:
                raise refused("no concurrency slot before the deadline")
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), min(wait, left))
            except TimeoutError:
                continue
        self.in_flight += 1
        return Slot(self._round)

    def _paused(self) -> float:
        return max(0.0, self.paused_until - self._clock())

    def _wait(self) -> float:
        """Seconds to wait before a call may start (inf: until a slot is released); 0: now."""
        if (paused := self._paused()) > 0:
            return paused
        return 0.0 if self.in_flight < self.limit else float("inf")

    def release(self, slot: Slot) -> None:
        """Gives the slot back and adapts the limit to how the call went."""
        self.in_flight -= 1
        if slot.status == 429:
            self._decrease(slot)
        elif slot.status == 200:
            self._increase()
        self._changed.set()  # wakes every waiter; the next change needs a new event
        self._changed = asyncio.Event()

    def _increase(self) -> None:
        self._successes += 1
        if self._successes >= self.limit:
            self.limit = min(self.maximum, self.limit + 1)
            self._successes = 0

    def _decrease(self, slot: Slot) -> None:
        if slot.retry_after:
            self.paused_until = max(self.paused_until, self._clock() + slot.retry_after)
        if slot.round == self._round:
            self.limit = max(self.minimum, int(self.limit * DECREASE))
            self._successes = 0
            self.decreases += 1
            self._round += 1


class CallBudget:
    """What one Language call passes before it is sent: a concurrency slot, then a rate token."""

    def __init__(
        self,
        concurrency: AdaptiveConcurrency | None,
        rate: Rate | None = None,
        *,
        reserve: float = CALL_RESERVE_S,
        rng: random.Random | None = None,
    ) -> None:
        self.concurrency = concurrency
        self.rate = rate
        self.reserve = reserve
        self.waits = 0  # calls that waited for a rate token (once however long)
        self.refusals = 0
        self._rng = rng or random.Random()

    @asynccontextmanager
    async def call(self, deadline: Deadline) -> AsyncIterator[Slot]:
        """Holds a slot and a token around one call; the caller tells the slot the answer."""
        slot = await self._slot(deadline)
        try:
            await self._token(deadline)
            yield slot
        finally:
            if self.concurrency is not None:
                self.concurrency.release(slot)

    async def _slot(self, deadline: Deadline) -> Slot:
        if self.concurrency is None:
            return Slot(0)
        try:
            return await self.concurrency.acquire(deadline, self.reserve)
        except DetectorError:
            self.refusals += 1
            raise

    async def _token(self, deadline: Deadline) -> None:
        if self.rate is None:
            return
        waited = False
        while (wait := await self.rate.take()) is not None:
            wait += self._rng.uniform(0, MAX_RATE_JITTER_S)
            if wait > deadline.remaining() - self.reserve:
                self.refusals += 1
                raise refused("the rate limit has no token before the deadline")
            self.waits += not waited
            waited = True
            await asyncio.sleep(wait)

    async def close(self) -> None:
        if self.rate is not None:
            await self.rate.close()
