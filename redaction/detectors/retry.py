"""Retry decisions (pure) and the short loop that applies them inside a request deadline."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from redaction.deadline import Deadline
from redaction.errors import DeadlineError, DetectorError, HttpStatusError
from redaction.headers import header
from redaction.reasons import FailureReason

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0
    attempt_timeout_s: float = 10.0

    def backoff(self, retry_number: int, rng: random.Random) -> float:
        """Exponential backoff with full jitter for the ``retry_number``-th retry (1-based)."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2 ** (retry_number - 1))
        return rng.uniform(ceiling / 2, ceiling)

    def wait_before_retry(
        self, error: DetectorError, retry_number: int, rng: random.Random
    ) -> float | None:
        """Seconds to wait before retrying after ``error``, or None when it must not be retried."""
        if not error.retryable or retry_number >= self.max_attempts:
            return None
        if isinstance(error, HttpStatusError) and error.retry_after is not None:
            return error.retry_after
        return self.backoff(retry_number, rng)

    def attempt_timeout(self, deadline: Deadline) -> float:
        return min(self.attempt_timeout_s, deadline.remaining())


def parse_retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms`, `x-ms-retry-after-ms` or `Retry-After`."""
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        value = header(headers, name)
        if value is not None:
            try:
                return max(0.0, float(value) / 1000)
            except ValueError:
                continue
    value = header(headers, "retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


Attempt = Callable[[float, int], Awaitable[T]]
# Called once per attempt when it ends: (attempt number, error or None, wait before retry or None).
Observe = Callable[[int, DetectorError | None, float | None], None]


def _ignore(_number: int, _error: DetectorError | None, _wait: float | None) -> None:
    return None


def _cancellation(deadline: Deadline) -> DetectorError:
    """Why a running attempt was cancelled: the deadline, or a caller that no longer needs its
    answer (the other call of a hedged batch answered first)."""
    if deadline.expired:
        return DeadlineError("the attempt was cancelled at the deadline")
    return DetectorError(FailureReason.CANCELLED, "the attempt was cancelled before the deadline")


async def run_with_retry(
    attempt: Attempt[T],
    policy: RetryPolicy,
    deadline: Deadline,
    *,
    rng: random.Random,
    sleep: Sleep = asyncio.sleep,
    observe: Observe = _ignore,
) -> T:
    """Calls ``attempt(timeout, number)`` until it succeeds, the error is final, or time is up.

    No wait crosses the deadline: when the next wait would, ``DeadlineError`` is raised instead.
    """
    number = 1
    while True:
        if deadline.expired:
            raise DeadlineError()
        try:
            result = await attempt(policy.attempt_timeout(deadline), number)
        except asyncio.CancelledError:
            observe(number, _cancellation(deadline), None)
            raise
        except DetectorError as error:
            planned = None if deadline.expired else policy.wait_before_retry(error, number, rng)
            fits = planned is not None and planned < deadline.remaining()
            observe(number, error, planned if fits else None)
            if planned is not None and fits:
                await sleep(planned)
                number += 1
                continue
            if deadline.expired or planned is not None:
                raise DeadlineError() from error
            raise
        observe(number, None, None)
        return result
