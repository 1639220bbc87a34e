"""Retry decisions and the retry loop, with an injected clock and sleep."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from redaction.deadline import Deadline
from redaction.detectors.retry import RetryPolicy, parse_retry_after, run_with_retry
from redaction.errors import (
    DeadlineError,
    DetectorError,
    HttpStatusError,
    ServiceRequestError,
    ServiceResponseError,
)

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"Retry-After": "Mon, 23 Nov 2026 12:00:07 GMT"}, 7.0),
        ({"Retry-After": "Mon, 23 Nov 2026 11:00:00 GMT"}, 0.0),
        ({"retry-after-ms": "250", "Retry-After": "9"}, 0.25),
        ({"x-ms-retry-after-ms": "1500"}, 1.5),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], seconds: float | None) -> None:
    assert parse_retry_after(headers, NOW) == seconds


def test_backoff_grows_with_jitter_and_a_ceiling() -> None:
    policy = RetryPolicy(backoff_base_s=1, backoff_max_s=4)
    rng = random.Random(1)
    waits = [policy.backoff(n, rng) for n in (1, 2, 3, 4, 5)]
    assert 0.5 <= waits[0] <= 1
    assert 1 <= waits[1] <= 2
    assert 2 <= waits[2] <= 4
    assert all(w <= 4 for w in waits)


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (HttpStatusError(429), True),
        (HttpStatusError(500), True),
        (HttpStatusError(503), True),
        (HttpStatusError(400), False),
        (HttpStatusError(401), False),
        (HttpStatusError(403), False),
        (ServiceRequestError("timeout"), True),
        (ServiceRequestError("connection-error"), True),
        # an unreadable answer is retried in production too (this row used to say otherwise)
        (ServiceResponseError("invalid-response"), True),
        (ServiceResponseError("connection-reset"), True),
        (ServiceResponseError("incomplete-coverage"), True),
        (DetectorError("document-error"), False),
        (DetectorError("credential-error"), False),
        (DetectorError("cancelled"), False),
        (DeadlineError(), False),
    ],
)
def test_which_errors_are_retried(error: DetectorError, retried: bool) -> None:
    policy = RetryPolicy()
    assert (policy.wait_before_retry(error, 1, random.Random(0)) is not None) == retried


def test_retry_after_wins_over_backoff() -> None:
    wait = RetryPolicy().wait_before_retry(HttpStatusError(429, retry_after=7), 1, random.Random())
    assert wait == 7


class FakeTime:
    """A clock that only moves when the loop sleeps or an attempt takes time."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


async def test_retries_until_success() -> None:
    time = FakeTime()
    errors = [HttpStatusError(503), HttpStatusError(429, retry_after=2.0)]
    seen: list[tuple[int, str | None, float | None]] = []

    async def attempt(timeout: float, number: int) -> str:
        if errors:
            raise errors.pop(0)
        return f"ok after {number}"

    result = await run_with_retry(
        attempt,
        RetryPolicy(backoff_base_s=0.1),
        Deadline.after(30, time.clock),
        rng=random.Random(0),
        sleep=time.sleep,
        observe=lambda n, e, w: seen.append((n, e.reason if e else None, w)),
    )
    assert result == "ok after 3"
    assert time.sleeps[1] == 2.0
    assert [s[:2] for s in seen] == [(1, "http-503"), (2, "http-429"), (3, None)]
    assert seen[-1][2] is None


async def test_gives_up_after_max_attempts_with_the_last_reason() -> None:
    time = FakeTime()

    async def attempt(timeout: float, number: int) -> str:
        raise HttpStatusError(500)

    with pytest.raises(HttpStatusError) as raised:
        await run_with_retry(
            attempt,
            RetryPolicy(max_attempts=3),
            Deadline.after(60, time.clock),
            rng=random.Random(0),
            sleep=time.sleep,
        )
    assert raised.value.reason == "http-500"
    assert len(time.sleeps) == 2


async def test_no_wait_crosses_the_deadline() -> None:
    time = FakeTime()
    calls = 0

    async def attempt(timeout: float, number: int) -> str:
        nonlocal calls
        calls += 1
        raise HttpStatusError(429, retry_after=20)

    with pytest.raises(DeadlineError) as raised:
        await run_with_retry(
            attempt,
            RetryPolicy(),
            Deadline.after(10, time.clock),
            rng=random.Random(0),
            sleep=time.sleep,
        )
    assert raised.value.reason == "deadline"
    assert calls == 1
    assert time.sleeps == []


async def test_attempt_timeout_is_capped_by_what_is_left() -> None:
    time = FakeTime()
    timeouts: list[float] = []

    async def attempt(timeout: float, number: int) -> str:
        timeouts.append(timeout)
        time.now += timeout
        raise ServiceRequestError("timeout")

    with pytest.raises(DeadlineError):
        await run_with_retry(
            attempt,
            RetryPolicy(attempt_timeout_s=4, backoff_base_s=0.5, max_attempts=10),
            Deadline.after(10, time.clock),
            rng=random.Random(0),
            sleep=time.sleep,
        )
    assert timeouts[0] == 4
    assert timeouts[-1] < 4
    assert time.now <= 100 + 10 + 1e-9
