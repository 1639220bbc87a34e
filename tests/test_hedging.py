"""Hedging: the latency window and budget (pure), the race with a fake detector, and one hedged
request over real HTTP against the emulator with a hanging first call."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from redaction.deadline import Deadline
from redaction.detectors.detector import AttemptStats, BatchResult, DetectionContext, DocumentResult
from redaction.detectors.hedging import HedgeBudget, HedgedDetector, LatencyTracker
from redaction.entities import Document
from redaction.errors import DetectorError, HttpStatusError
from tests.conftest import (
    EMULATOR_KEY,
    REFERENCE_BODY,
    REFERENCE_MASKED,
    Emulator,
    ServiceFactory,
    post_redact,
)

DOCUMENTS = [Document("0", "Mail alice@example.com")]

# --- LatencyTracker and HedgeBudget (pure) ---------------------------------------------------


def test_no_threshold_until_enough_samples() -> None:
    tracker = LatencyTracker(quantile=0.95, min_samples=20)
    for _ in range(19):
        tracker.record(0.05)
    assert tracker.threshold() is None
    tracker.record(0.05)
    assert tracker.threshold() == 0.05


def test_threshold_is_the_nearest_rank_quantile() -> None:
    tracker = LatencyTracker(quantile=0.95, min_samples=10)
    for ms in range(1, 101):  # 1..100 ms, shuffled order must not matter
        tracker.record(((ms * 37) % 100 + 1) / 1000)
    assert tracker.threshold() == pytest.approx(0.095)
    median = LatencyTracker(quantile=0.5, min_samples=1)
    for value in (0.3, 0.1, 0.2):
        median.record(value)
    assert median.threshold() == 0.2


def test_the_window_keeps_only_the_latest_samples() -> None:
    tracker = LatencyTracker(quantile=0.95, min_samples=5, window=10)
    for _ in range(100):
        tracker.record(5.0)  # an old slow period ...
    for _ in range(10):
        tracker.record(0.05)  # ... forgotten once the window has moved on
    assert len(tracker) == 10
    assert tracker.threshold() == 0.05


@pytest.mark.parametrize(
    "arguments", [{"quantile": 1.0}, {"quantile": 0.0}, {"min_samples": 0}, {"window": 5}]
)
def test_tracker_refuses_bad_bounds(arguments: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        LatencyTracker(**{"min_samples": 10, **arguments})


def test_budget_allows_at_most_the_ratio_plus_the_burst() -> None:
    budget = HedgeBudget(ratio=0.1, burst=3)
    spent = 0
    for _ in range(1000):
        budget.earn()
        spent += budget.spend()  # a hedge wanted for every batch
    assert spent == 100
    idle = HedgeBudget(ratio=0.1, burst=3)
    for _ in range(1000):
        idle.earn()  # a long quiet period ...
    assert sum(idle.spend() for _ in range(10)) == 3  # ... saves up the burst only


def test_budget_starts_empty() -> None:
    budget = HedgeBudget(ratio=0.5)
    assert not budget.spend()
    budget.earn()
    budget.earn()
    assert budget.spend()


# --- HedgedDetector with a fake inner detector -------------------------------------------------


@dataclass
class Call:
    delay: float = 0.0
    error: DetectorError | None = None


@dataclass
class ScriptedDetector:
    """Implements ``Detector``: call n sleeps and answers (or fails) as ``script[n]`` says."""

    script: list[Call]
    name: str = "fake"
    api_version: str | None = "2024-11-01"
    categories: frozenset[str] = frozenset({"Email"})
    started: list[bool] = field(default_factory=list)  # the context's hedge flag, per call
    cancelled: list[int] = field(default_factory=list)
    finished: list[int] = field(default_factory=list)

    async def detect(self, documents: Sequence[Document], context: DetectionContext) -> BatchResult:
        number = len(self.started)
        self.started.append(context.hedge)
        call = self.script[number] if number < len(self.script) else Call()
        context.stats.attempts += 1
        try:
            await asyncio.sleep(call.delay)
        except asyncio.CancelledError:
            self.cancelled.append(number)
            raise
        self.finished.append(number)
        if call.error is not None:
            raise call.error
        return BatchResult(tuple(DocumentResult(d.id, ()) for d in documents))

    async def close(self) -> None:
        return None


def warmed(latency: float = 0.01, samples: int = 20) -> LatencyTracker:
    tracker = LatencyTracker(quantile=0.95, min_samples=samples)
    for _ in range(samples):
        tracker.record(latency)
    return tracker


def rich_budget() -> HedgeBudget:
    budget = HedgeBudget(ratio=1.0, burst=100)
    for _ in range(100):
        budget.earn()
    return budget


def context(seconds: float = 30.0) -> DetectionContext:
    return DetectionContext(deadline=Deadline.after(seconds), language="en", stats=AttemptStats())


async def test_a_slow_call_is_hedged_and_the_hedge_wins() -> None:
    inner = ScriptedDetector([Call(delay=30.0), Call(delay=0.0)])
    detector = HedgedDetector(inner, warmed(), rich_budget())
    ctx = context()
    started = time.monotonic()
    result = await detector.detect(DOCUMENTS, ctx)
    assert time.monotonic() - started < 5.0  # generous: the slow call would take 30 s
    assert [d.id for d in result.documents] == ["0"]
    assert inner.started == [False, True]
    assert inner.cancelled == [0]  # the loser is cancelled, and awaited before detect returns
    assert ctx.stats.hedges == 1
    assert ctx.stats.attempts == 2


async def test_a_fast_call_is_not_hedged() -> None:
    inner = ScriptedDetector([Call(delay=0.0)])
    detector = HedgedDetector(inner, warmed(latency=10.0), rich_budget())
    ctx = context()
    await detector.detect(DOCUMENTS, ctx)
    assert inner.started == [False]
    assert ctx.stats.hedges == 0


async def test_the_first_call_still_wins_when_it_answers_first() -> None:
    inner = ScriptedDetector([Call(delay=0.05), Call(delay=30.0)])
    detector = HedgedDetector(inner, warmed(latency=0.001), rich_budget())
    await detector.detect(DOCUMENTS, context())
    assert inner.finished == [0]
    assert inner.cancelled == [1]


async def test_no_hedging_without_enough_samples() -> None:
    inner = ScriptedDetector([Call(delay=0.05)])
    tracker = LatencyTracker(quantile=0.95, min_samples=5)
    detector = HedgedDetector(inner, tracker, rich_budget())
    await detector.detect(DOCUMENTS, context())
    assert inner.started == [False]
    assert len(tracker) == 1  # successes are recorded


async def test_the_budget_is_respected() -> None:
    inner = ScriptedDetector([Call(delay=0.05)] * 40)
    tracker = LatencyTracker(quantile=0.95, min_samples=20)
    for _ in range(1000):  # so that the slow batches below do not move the threshold
        tracker.record(0.001)
    detector = HedgedDetector(inner, tracker, HedgeBudget(ratio=0.1, burst=1))
    stats = AttemptStats()
    for _ in range(20):
        await detector.detect(DOCUMENTS, DetectionContext(Deadline.after(30), "en", stats=stats))
    assert stats.hedges == 2  # 20 slow batches earn two hedges
    assert len(inner.started) == 22


async def test_no_hedge_when_the_deadline_leaves_no_room() -> None:
    inner = ScriptedDetector([Call(delay=0.3)])
    detector = HedgedDetector(inner, warmed(latency=0.2), rich_budget())
    ctx = context(seconds=0.3)  # after 0.2 s waiting, 0.1 s would be left: less than 0.2 s
    await detector.detect(DOCUMENTS, ctx)
    assert ctx.stats.hedges == 0


async def test_no_hedge_once_the_request_was_throttled() -> None:
    inner = ScriptedDetector([Call(delay=0.05)])
    detector = HedgedDetector(inner, warmed(latency=0.001), rich_budget())
    ctx = context()
    ctx.stats.throttled = 1
    await detector.detect(DOCUMENTS, ctx)
    assert ctx.stats.hedges == 0


async def test_a_hedge_takes_a_free_gate_slot_or_is_not_sent() -> None:
    gate = asyncio.Semaphore(1)
    inner = ScriptedDetector([Call(delay=0.05)] * 4)
    detector = HedgedDetector(inner, warmed(latency=0.001), rich_budget(), gate)
    async with gate:  # the batch holds the only slot, as the scanner does
        busy = context()
        await detector.detect(DOCUMENTS, busy)
    assert busy.stats.hedges == 0
    free = context()
    await detector.detect(DOCUMENTS, free)  # the batch outside the gate: one slot is free
    assert free.stats.hedges == 1
    assert not gate.locked()  # the hedge gave its slot back


async def test_when_one_call_fails_the_other_is_awaited() -> None:
    inner = ScriptedDetector([Call(delay=0.1), Call(delay=0.0, error=HttpStatusError(500))])
    detector = HedgedDetector(inner, warmed(latency=0.001), rich_budget())
    result = await detector.detect(DOCUMENTS, context())
    assert [d.id for d in result.documents] == ["0"]
    assert inner.finished == [1, 0]
    failing_first = ScriptedDetector(
        [Call(delay=0.05, error=HttpStatusError(503)), Call(delay=0.2)]
    )
    detector = HedgedDetector(failing_first, warmed(latency=0.001), rich_budget())
    result = await detector.detect(DOCUMENTS, context())
    assert failing_first.finished == [0, 1]


async def test_when_both_fail_the_first_error_is_raised() -> None:
    inner = ScriptedDetector(
        [Call(delay=0.1, error=HttpStatusError(503)), Call(delay=0.0, error=HttpStatusError(400))]
    )
    tracker = warmed(latency=0.001)
    detector = HedgedDetector(inner, tracker, rich_budget())
    with pytest.raises(HttpStatusError) as raised:
        await detector.detect(DOCUMENTS, context())
    assert raised.value.status == 400  # the hedge failed first
    assert len(tracker) == 20  # failures are not recorded as latencies


async def test_a_cancelled_batch_cancels_both_calls() -> None:
    inner = ScriptedDetector([Call(delay=30.0), Call(delay=30.0)])
    detector = HedgedDetector(inner, warmed(latency=0.001), rich_budget())
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):  # the scanner's deadline
            await detector.detect(DOCUMENTS, context())
    assert sorted(inner.cancelled) == [0, 1]


async def test_the_wrapper_is_the_inner_detector_to_the_cache() -> None:
    inner = ScriptedDetector([])
    detector = HedgedDetector(inner, warmed(), rich_budget())
    assert (detector.name, detector.api_version, detector.categories) == (
        "fake",
        "2024-11-01",
        frozenset({"Email"}),
    )


# --- over real HTTP: the served app, the emulator, a hanging first call ----------------------


async def test_a_hanging_call_is_hedged_before_the_attempt_timeout(
    make_service: ServiceFactory, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    client = await make_service(
        language_endpoint=emulator.url,
        language_api_key=EMULATOR_KEY,
        pii_cache_enabled=False,  # every request calls Language
        pii_hedge_enabled=True,
        pii_hedge_min_samples=10,
        pii_hedge_max_ratio=0.1,
        pii_attempt_timeout_s=30.0,  # far beyond the bound below: only a hedge ends it sooner
        pii_deadline_s=60.0,
    )
    body = {"messages": [{"role": "user", "content": "My email is alice@example.com"}]}
    for _ in range(10):  # ten batches: enough samples, and one hedge earned
        status, answer = await post_redact(client, body)
        assert status == 200
        assert answer["diagnostics"]["hedges"] == 0
    await emulator.inject({"kind": "hang", "seconds": 60.0})
    caplog.set_level(logging.INFO, logger="pii_redaction")
    started = time.monotonic()
    status, answer = await post_redact(client, REFERENCE_BODY)
    elapsed = time.monotonic() - started
    assert status == 200, answer
    assert answer["redacted_body"]["messages"][0]["content"] == REFERENCE_MASKED
    assert answer["diagnostics"]["hedges"] == 1
    assert answer["diagnostics"]["attempts"] == 2
    assert elapsed < 15.0  # well before the hanging attempt's timeout (30 s)
    inbound = [dimensions(r) for r in caplog.records if r.getMessage() == "pii-inbound"]
    assert {(d.get("pii-hedge"), d["pii-outcome"]) for d in inbound} == {
        (True, "ok"),
        (None, "cancelled"),
    }


def dimensions(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k.startswith("pii-")}
