"""The worker pool: deadlines between units, fairness across requests; then over real HTTP, the
event loop answering ``/health`` while a large digit-heavy ``/redact`` is scanned, and a deadline
that expires during embedded scanning ending the request per ``fail_closed``."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from redaction import runtime
from redaction.deadline import Deadline
from redaction.errors import DeadlineError
from redaction.workers import WorkerPool, run_cpu
from tests.conftest import ServiceFactory, post_redact

Client = TestClient[Any, Any]
BLOCK_S = 30.0  # how long a blocked unit waits for the test to release it (a hung test's bound)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def pool() -> AsyncIterator[WorkerPool]:
    workers = WorkerPool(1)
    yield workers
    workers.shutdown()


def blocker(gate: threading.Event, running: threading.Event) -> Callable[[], str]:
    def unit() -> str:
        running.set()
        gate.wait(BLOCK_S)
        return "blocker"

    return unit


async def occupy(pool: WorkerPool, gate: threading.Event) -> asyncio.Task[str]:
    """The pool's one worker, busy until ``gate`` is set."""
    running = threading.Event()
    task = asyncio.create_task(pool.run(Deadline.after(BLOCK_S), blocker(gate, running)))
    await asyncio.to_thread(running.wait, BLOCK_S)
    return task


# --- the pool ----------------------------------------------------------------------------------


async def test_a_unit_runs_on_a_worker_thread_and_returns_or_raises(pool: WorkerPool) -> None:
    deadline = Deadline.after(BLOCK_S)
    name = await run_cpu(pool, deadline, lambda: threading.current_thread().name)
    assert name.startswith("pii-cpu")
    assert await run_cpu(pool, deadline, int, "ff", base=16) == 255
    with pytest.raises(ZeroDivisionError):
        await run_cpu(pool, deadline, divmod, 1, 0)
    assert (pool.started, pool.finished) == (3, 3)


async def test_no_unit_starts_after_the_deadline(pool: WorkerPool) -> None:
    clock = Clock()
    called: list[str] = []
    expired = Deadline(clock.now, clock)
    with pytest.raises(DeadlineError):
        await run_cpu(pool, expired, called.append, "expired")
    with pytest.raises(DeadlineError):
        await run_cpu(None, expired, called.append, "inline")

    # Queued behind a busy worker; the deadline passes before the worker is free.
    gate = threading.Event()
    busy = await occupy(pool, gate)
    queued = asyncio.create_task(run_cpu(pool, Deadline(clock.now + 10, clock), called.append, "q"))
    await asyncio.sleep(0.01)
    clock.now += 11
    gate.set()
    assert await busy == "blocker"
    with pytest.raises(DeadlineError):
        await queued
    assert called == []
    assert pool.started == 1


async def test_the_caller_never_waits_past_the_deadline(pool: WorkerPool) -> None:
    gate = threading.Event()
    busy = await occupy(pool, gate)
    with pytest.raises(DeadlineError):
        await run_cpu(pool, Deadline.after(0.05), str, "never runs")
    assert not busy.done()  # the answer came while the worker was still busy
    gate.set()
    await busy
    assert await run_cpu(pool, Deadline.after(BLOCK_S), str, 1) == "1"  # the slot came back


async def test_a_cancelled_caller_drops_its_queued_unit(pool: WorkerPool) -> None:
    gate = threading.Event()
    busy = await occupy(pool, gate)
    called: list[str] = []
    queued = asyncio.create_task(run_cpu(pool, Deadline.after(BLOCK_S), called.append, "q"))
    await asyncio.sleep(0.01)
    queued.cancel()
    gate.set()
    await busy
    with pytest.raises(asyncio.CancelledError):
        await queued
    assert await run_cpu(pool, Deadline.after(BLOCK_S), str, 2) == "2"
    assert called == []


async def test_requests_take_turns(pool: WorkerPool) -> None:
    """One queue per request (deadline): a small request waits for one unit of a large one."""
    gate = threading.Event()
    large, small = Deadline.after(BLOCK_S), Deadline.after(BLOCK_S)
    busy = await occupy(pool, gate)
    order: list[str] = []
    tasks = []
    for name, deadline in [("large-1", large), ("large-2", large), ("small", small)]:
        tasks.append(asyncio.create_task(run_cpu(pool, deadline, order.append, name)))
        await asyncio.sleep(0.01)
    gate.set()
    await asyncio.gather(busy, *tasks)
    assert order == ["large-1", "small", "large-2"]


# --- over HTTP ---------------------------------------------------------------------------------

LARGE_MESSAGES = 14
LARGE_MESSAGE_CHARS = 24_900  # 5 documents each: 70 documents (~350 KB)
# A seam around each of the 4 cuts in each message and between consecutive messages; they fill
# 2 more documents, so the request takes 72 documents of the 75 allowed.
LARGE_SEAMS = LARGE_MESSAGES * 4 + LARGE_MESSAGES - 1


def digit_heavy_body(seed: int = 7) -> dict[str, Any]:
    """Phone numbers back to back: the embedded detector's most expensive input."""
    rng = random.Random(seed)
    messages = []
    for _ in range(LARGE_MESSAGES):
        numbers = " ".join(
            f"+1 {rng.randint(201, 989)} {rng.randint(200, 999)} {rng.randint(0, 9999):04d}"
            for _ in range(LARGE_MESSAGE_CHARS // 15)
        )
        messages.append({"role": "user", "content": numbers[:LARGE_MESSAGE_CHARS]})
    return {"messages": messages}


async def eventually(condition: Callable[[], bool]) -> None:
    """Polls a condition other threads make true (bounded: a broken test fails, never hangs)."""
    for _ in range(int(BLOCK_S / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the condition never became true")


@pytest.mark.slow
async def test_health_answers_while_a_large_request_is_scanned(
    make_service: ServiceFactory,
) -> None:
    client = await make_service(pii_detector="local", pii_deadline_s=120.0)
    pool = runtime.get_runtime().pool
    assert pool is not None
    large = asyncio.create_task(post_redact(client, digit_heavy_body()))
    await eventually(lambda: pool.started > 0 or large.done())
    health = await client.get("/health")
    assert health.status == 200
    assert not large.done()  # /health answered while the large request was being scanned
    assert pool.finished < LARGE_MESSAGES * 5
    status, result = await large
    assert status == 200
    assert result["status"] == "ok"
    assert result["diagnostics"]["total_docs"] == LARGE_MESSAGES * 5 + LARGE_SEAMS


@pytest.mark.parametrize(
    ("fail_closed", "http_status", "outcome"), [(True, 503, "error"), (False, 200, "partial")]
)
async def test_a_deadline_during_embedded_scanning_ends_the_request_per_fail_closed(
    make_service: ServiceFactory, fail_closed: bool, http_status: int, outcome: str
) -> None:
    client = await make_service(pii_detector="local", pii_deadline_s=1.0)
    pool = runtime.get_runtime().pool
    assert pool is not None
    status, result = await post_redact(client, digit_heavy_body(), fail_closed=fail_closed)
    started = pool.started
    assert status == http_status, result
    assert result["status"] == outcome
    assert result["diagnostics"]["failure_reason"] == "deadline"
    assert 0 < result["diagnostics"]["unscanned_docs"] <= LARGE_MESSAGES * 5 + LARGE_SEAMS
    assert 0 < started < LARGE_MESSAGES * 5  # the deadline passed during scanning
    await eventually(lambda: pool.finished == pool.started)  # units running at the deadline end
    await asyncio.sleep(0.1)  # time for a unit that should not start to start
    assert pool.started == started
    if fail_closed:
        assert "redacted_body" not in result
        assert result["error"]["reason"] == "deadline"
    else:
        assert "redacted_body" in result  # unscanned texts pass unmasked: fail_closed's choice
