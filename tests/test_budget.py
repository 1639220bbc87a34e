"""The Language call budget (issue 15): a rate limit per instance or, with Redis, per cluster, and
adaptive concurrency (AIMD) that backs off on 429 and recovers; a request that gets no budget
inside its deadline ends per ``fail_closed`` with ``rate-limited``.

The rate tests use a whole minute as the window, as production does: every request of a test is
sent well inside it, so what they count does not depend on how fast a busy machine is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import redis.asyncio as redis
from aiohttp.test_utils import TestClient, TestServer
from limits import RateLimitItemPerSecond

import function_app
from emulator.quota import CallQuota
from redaction import telemetry
from redaction.categories import ALL_CATEGORIES
from redaction.deadline import Deadline
from redaction.detectors.azure_detector import AzureLanguageDetector
from redaction.detectors.budget import AdaptiveConcurrency, CallBudget, Slot
from redaction.detectors.credentials import ApiKeyAuth
from redaction.detectors.detector import DetectionContext
from redaction.detectors.language_client import LanguageClient
from redaction.detectors.rate_limit import KEY_PREFIX, MovingWindowRate
from redaction.detectors.retry import RetryPolicy
from redaction.entities import Document
from redaction.errors import DetectorError
from redaction.http.server import build_app
from redaction.settings import Settings
from tests.conftest import EMULATOR_KEY, TEST_SETTINGS, Emulator, post_redact

RATE = 3


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def body(number: int) -> dict[str, Any]:
    """A one-document body, different for each number (so no answer comes from the cache)."""
    return {"messages": [{"role": "user", "content": f"Mail user{number}@example.com please"}]}


# --- adaptive concurrency (AIMD), on plain values ---------------------------------------------


async def test_a_429_halves_the_limit_once_for_the_calls_of_one_round() -> None:
    aimd = AdaptiveConcurrency(8)
    deadline = Deadline.after(60)
    slots = [await aimd.acquire(deadline) for _ in range(8)]
    for slot in slots:  # eight calls sent together, all throttled: one overload, one halving
        slot.answered(429)
        aimd.release(slot)
    assert (aimd.limit, aimd.decreases, aimd.in_flight) == (4, 1, 0)
    later = await aimd.acquire(deadline)  # sent after the decrease: its 429 halves again
    later.answered(429)
    aimd.release(later)
    assert (aimd.limit, aimd.decreases) == (2, 2)


async def test_successes_add_one_slot_per_round_up_to_the_maximum_and_429s_stop_at_one() -> None:
    aimd = AdaptiveConcurrency(4)
    deadline = Deadline.after(60)
    for _ in range(5):
        slot = await aimd.acquire(deadline)
        slot.answered(429)
        aimd.release(slot)
    assert aimd.limit == 1  # never below the minimum
    successes = 0
    while aimd.limit < 4:
        slot = await aimd.acquire(deadline)
        slot.answered(200)
        aimd.release(slot)
        successes += 1
    assert successes == 1 + 2 + 3  # a round of `limit` successes adds one slot
    slot = await aimd.acquire(deadline)
    slot.answered(200)
    aimd.release(slot)
    assert aimd.limit == 4


async def test_retry_after_pauses_new_calls_and_a_pause_past_the_deadline_is_refused_at_once() -> (
    None
):
    clock = FakeClock()
    aimd = AdaptiveConcurrency(4, clock=clock)
    slot = await aimd.acquire(Deadline.after(60, clock))
    slot.answered(429, retry_after=30.0)
    aimd.release(slot)
    with pytest.raises(DetectorError) as refused:
        await aimd.acquire(Deadline.after(5, clock))
    assert refused.value.reason == "rate-limited"
    assert not refused.value.retryable
    clock.now += 30
    assert isinstance(await aimd.acquire(Deadline.after(5, clock)), Slot)


async def test_a_full_limit_waits_for_a_released_slot_or_refuses_at_the_deadline() -> None:
    aimd = AdaptiveConcurrency(1)
    held = await aimd.acquire(Deadline.after(60))
    waiting = asyncio.create_task(aimd.acquire(Deadline.after(60)))
    await asyncio.sleep(0)
    assert not waiting.done()
    held.answered(200)
    aimd.release(held)
    assert isinstance(await waiting, Slot)
    with pytest.raises(DetectorError, match="no Language call budget"):
        await aimd.acquire(Deadline.after(0.6), reserve=0.5)  # 0.1 s to wait, then refused


def test_the_emulator_quota_counts_accepted_calls_in_a_moving_window() -> None:
    clock = FakeClock()
    quota = CallQuota(clock)
    assert [quota.admit(2, 60.0) for _ in range(2)] == [None, None]
    clock.now += 20
    assert quota.admit(2, 60.0) == 40  # the oldest call leaves the window in 40 s
    clock.now += 40
    assert quota.admit(2, 60.0) is None
    assert quota.admit(None, 60.0) is None  # no limit set


def test_rate_limited_is_kept_as_is_on_the_dashboard() -> None:
    assert telemetry.map_failure_reason("rate-limited") == "rate-limited"


# --- the Azure detector with a budget, against the emulator ------------------------------------


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def detector(
    emulator: Emulator, session: aiohttp.ClientSession, budget: CallBudget
) -> AzureLanguageDetector:
    auth = ApiKeyAuth(EMULATOR_KEY)
    client = LanguageClient(session, emulator.url, "2024-11-01", auth)
    policy = RetryPolicy(max_attempts=3, backoff_base_s=0.01, backoff_max_s=0.05)
    return AzureLanguageDetector(client, auth, policy, ALL_CATEGORIES, budget=budget)


def context(seconds: float = 20.0) -> DetectionContext:
    return DetectionContext(Deadline.after(seconds), "en")


async def test_calls_wait_for_the_rate_inside_their_deadline(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    rate = MovingWindowRate(RateLimitItemPerSecond(2, 3), emulator.url)  # 2 calls in any 3 s
    budget = CallBudget(AdaptiveConcurrency(8), rate)
    azure = detector(emulator, session, budget)
    documents = [[Document(str(n), f"Mail user{n}@example.com")] for n in range(4)]
    results = await asyncio.gather(*(azure.detect(docs, context()) for docs in documents))
    await azure.close()
    assert [len(result.documents) for result in results] == [1, 1, 1, 1]
    assert budget.waits == 2  # sent together: two took a token at once, two waited for one
    assert budget.refusals == 0
    assert (await emulator.stats())["requests"] == 4


async def test_a_429_shrinks_the_concurrency_and_successes_restore_it(
    emulator: Emulator, session: aiohttp.ClientSession
) -> None:
    aimd = AdaptiveConcurrency(8)
    azure = detector(emulator, session, CallBudget(aimd))
    await emulator.inject({"kind": "status", "status": 429, "headers": {"Retry-After": "0"}})
    first = await azure.detect([Document("0", "Mail a@example.com")], context())
    assert len(first.documents) == 1  # retried after the 429
    assert (aimd.limit, aimd.decreases) == (4, 1)
    for number in range(1, 30):
        await azure.detect([Document("0", f"Mail a{number}@example.com")], context())
    await azure.close()
    assert aimd.limit == 8
    assert (await emulator.stats())["statuses"] == {"200": 30, "429": 1}


# --- the served app ------------------------------------------------------------------------


async def served(emulator: Emulator, **overrides: Any) -> TestClient[Any, Any]:
    """The app with the emulator as Language; a short deadline, so a minute's wait is refused."""
    values = {"pii_deadline_s": 2.0, "pii_cache_enabled": False, "pii_redis_timeout_s": 5.0}
    settings = Settings(
        **{**TEST_SETTINGS, **values, **overrides},
        language_endpoint=emulator.url,
        language_api_key=EMULATOR_KEY,
    )
    client = TestClient(TestServer(build_app(function_app.app, settings)))
    await client.start_server()
    return client


async def outcomes(client: TestClient[Any, Any], numbers: range) -> list[str | None]:
    """Each request's failure reason (None: scanned), fail-open, one after the other."""
    reasons = []
    for number in numbers:
        status, result = await post_redact(client, body(number))
        assert status == 200
        reasons.append(result["diagnostics"]["failure_reason"])
    return reasons


# After RATE scanned requests, how the next RATE end, and how many 429s Language sent.
BUDGETS = {
    "rate and adaptive": (
        {"pii_language_rate_per_minute": RATE},
        ["rate-limited"] * RATE,  # refused before any call: nothing is sent to be throttled
        0,
    ),
    "adaptive only": (
        {},
        ["deadline"] + ["rate-limited"] * (RATE - 1),  # one 429, whose Retry-After pauses calls
        1,
    ),
    "no budget": (
        {"pii_language_adaptive": False},
        ["deadline"] * RATE,  # each sent and throttled; Retry-After is past the deadline
        RATE,
    ),
}


@pytest.mark.parametrize("budget", BUDGETS, ids=list(BUDGETS))
async def test_the_budget_keeps_calls_under_the_resource_limit(
    emulator: Emulator, budget: str
) -> None:
    settings, ends, throttled = BUDGETS[budget]
    await emulator.configure(rate_per_minute=RATE)
    client = await served(emulator, **settings)
    try:
        reasons = await outcomes(client, range(2 * RATE))
    finally:
        await client.close()
    assert reasons == [None] * RATE + ends
    statuses = (await emulator.stats())["statuses"]
    assert (statuses["200"], statuses.get("429", 0)) == (RATE, throttled)


@pytest.mark.parametrize("fail_closed", [True, False])
async def test_a_request_without_budget_before_its_deadline_ends_per_fail_closed(
    emulator: Emulator, fail_closed: bool, caplog: pytest.LogCaptureFixture
) -> None:
    client = await served(emulator, pii_language_rate_per_minute=1)
    try:
        await post_redact(client, body(0))
        response = await client.post(
            "/redact", json={"body": body(1), "config": {"fail_closed": fail_closed}}
        )
        raw = await response.text()
        result = await response.json()
    finally:
        await client.close()
    assert (await emulator.stats())["requests"] == 1
    assert "user1@example.com" not in raw or not fail_closed
    if fail_closed:
        assert (response.status, result["status"]) == (503, "error")
        assert result["error"]["reason"] == "rate-limited"
        assert "redacted_body" not in result
    else:
        assert (response.status, result["status"]) == (200, "partial")
        assert result["diagnostics"]["failure_reason"] == "rate-limited"
    refusals = [r for r in caplog.records if r.getMessage() == "pii-budget-refused"]
    assert len(refusals) == 1
    assert (getattr(refusals[0], "pii-batch-index"), getattr(refusals[0], "pii-attempt")) == (0, 1)
    assert "user1" not in caplog.text


async def test_a_retry_after_past_the_deadline_refuses_the_next_requests_at_once(
    emulator: Emulator,
) -> None:
    await emulator.inject({"kind": "status", "status": 429, "headers": {"Retry-After": "30"}})
    client = await served(emulator)
    try:
        reasons = await outcomes(client, range(3))
    finally:
        await client.close()
    assert reasons == ["deadline", "rate-limited", "rate-limited"]
    assert (await emulator.stats())["requests"] == 1


# --- one budget for every instance, through Redis ----------------------------------------------


async def forget_windows(redis_url: str, endpoint: str) -> None:
    """Drops this endpoint's windows left by an earlier run (keys live a minute)."""
    client = redis.Redis.from_url(redis_url)
    try:
        async for key in client.scan_iter(match=f"{KEY_PREFIX}*{endpoint}*"):
            await client.delete(key)
    finally:
        await client.aclose()


@pytest.mark.parametrize("shared", [True, False], ids=["redis", "per instance"])
async def test_instances_share_one_budget_through_redis(
    redis_url: str, emulator: Emulator, shared: bool
) -> None:
    await forget_windows(redis_url, emulator.url)
    settings = {"pii_language_rate_per_minute": RATE, "redis_url": redis_url if shared else None}
    reasons = []
    for numbers in (range(RATE), range(RATE, 2 * RATE)):  # a second instance after the first
        client = await served(emulator, **settings)
        try:
            reasons += await outcomes(client, numbers)
        finally:
            await client.close()
    await forget_windows(redis_url, emulator.url)
    if shared:
        assert reasons == [None] * RATE + ["rate-limited"] * RATE
        assert (await emulator.stats())["requests"] == RATE
    else:
        assert reasons == [None] * 2 * RATE
        assert (await emulator.stats())["requests"] == 2 * RATE


async def test_redis_down_means_each_instance_keeps_its_own_window(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"redis://:secret-password@127.0.0.1:{port}/0"
    rate = MovingWindowRate(RateLimitItemPerSecond(2, 60), "http://language", redis_url=url)
    try:
        taken = [await rate.take() for _ in range(3)]
    finally:
        await rate.close()
    assert taken[:2] == [None, None]
    assert taken[2] is not None
    assert 0 < taken[2] <= 60
    assert not rate.shared  # paused; tried again after a few seconds
    assert "pii-budget-redis-unavailable" in caplog.messages
    assert "secret-password" not in caplog.text
