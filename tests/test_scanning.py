"""Scanning with the cache and packing: the served app over real HTTP against the emulator, and
the scanner with a fake detector (the real ``Detector`` interface) for what the emulator cannot
produce."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

import function_app
from bench.conversations import CONFIGURATIONS, conversation
from redaction.cache.detection import DetectionCache, MemoryCache
from redaction.deadline import Deadline
from redaction.detectors.detector import BatchResult, DetectionContext, DocumentResult
from redaction.entities import Document, Entity
from redaction.errors import PayloadTooLargeError
from redaction.http.server import build_app
from redaction.planning.documents import SEPARATOR
from redaction.scanning import Limits, Scanner, ScanScope
from redaction.settings import Settings
from tests.conftest import EMULATOR_KEY, TEST_SETTINGS, Emulator, ServiceFactory, post_redact

FILLER = "Nothing personal in this sentence at all. "


def _chat(*contents: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text} for text in contents]}


async def _azure(make_service: ServiceFactory, emulator: Emulator, **overrides: Any) -> Any:
    return await make_service(
        language_endpoint=emulator.url, language_api_key=EMULATOR_KEY, **overrides
    )


async def test_masking_is_identical_with_and_without_cache_and_packing(
    emulator: Emulator,
) -> None:
    outputs: dict[str, list[Any]] = {}
    for name, overrides in CONFIGURATIONS.items():
        settings = Settings(
            **TEST_SETTINGS,
            language_endpoint=emulator.url,
            language_api_key=EMULATOR_KEY,
            **overrides,
        )
        client = TestClient(TestServer(build_app(function_app.app, settings)))
        await client.start_server()
        try:
            outputs[name] = [
                await post_redact(client, {"messages": messages})
                for seed in range(3)
                for messages in conversation(seed)
            ]
        finally:
            await client.close()
    baseline = [result["redacted_body"] for _, result in outputs["baseline"]]
    assert all(status == 200 for status, _ in outputs["baseline"])
    assert any("#" * 10 in str(body) for body in baseline)
    for name, results in outputs.items():
        assert [result["redacted_body"] for _, result in results] == baseline, name


async def test_a_later_turn_sends_only_new_text(
    make_service: ServiceFactory, emulator: Emulator
) -> None:
    service = await _azure(make_service, emulator)
    first = ["Mail me at alice@example.com", "Sure, I will."]
    _, result = await post_redact(service, _chat(*first))
    assert result["diagnostics"]["cached_docs"] == 0
    before = await emulator.stats()
    _, result = await post_redact(service, _chat(*first, "Call +1 206-555-0143"))
    after = await emulator.stats()
    assert after["requests"] - before["requests"] == 1
    # only the new message: the seams between messages are read in process, not sent
    assert after["characters"] - before["characters"] == len("Call +1 206-555-0143")
    assert result["diagnostics"]["cached_docs"] == 2
    assert result["diagnostics"]["total_docs"] == 3  # no seam: each message starts a sentence
    assert result["redacted_body"]["messages"][0]["content"] == "Mail me at " + "#" * 17
    assert result["redacted_body"]["messages"][2]["content"] == "Call " + "#" * 15
    _, again = await post_redact(service, _chat(*first, "Call +1 206-555-0143"))
    assert (await emulator.stats())["requests"] == after["requests"]
    assert again["redacted_body"] == result["redacted_body"]
    assert again["diagnostics"]["batches"] == 0


async def test_excluded_categories_apply_after_the_lookup(
    make_service: ServiceFactory, emulator: Emulator
) -> None:
    service = await _azure(make_service, emulator)
    body = _chat("Mail alice@example.com or call +1 206-555-0143")
    _, kept = await post_redact(service, body, excluded_categories=["Email"])
    _, masked = await post_redact(service, body)
    assert (await emulator.stats())["requests"] == 1
    assert "alice@example.com" in kept["redacted_body"]["messages"][0]["content"]
    assert "alice@example.com" not in masked["redacted_body"]["messages"][0]["content"]
    assert "+1 206-555-0143" not in kept["redacted_body"]["messages"][0]["content"]


async def test_the_cache_is_scoped_by_tenant(
    make_service: ServiceFactory, emulator: Emulator
) -> None:
    service = await _azure(make_service, emulator)
    await post_redact(service, _chat("Mail alice@example.com"), subscription_id="tenant-1")
    await post_redact(service, _chat("Mail alice@example.com"), subscription_id="tenant-2")
    await post_redact(service, _chat("Mail alice@example.com"), subscription_id="tenant-1")
    assert (await emulator.stats())["requests"] == 2


async def test_a_partly_covered_batch_is_never_cached(
    make_service: ServiceFactory, emulator: Emulator
) -> None:
    service = await _azure(make_service, emulator)
    texts = [FILLER * 95 + "one@example.com", FILLER * 95 + "two@example.com"]
    await emulator.inject({"kind": "document_error", "index": 0})
    _, partial = await post_redact(service, _chat(*texts))
    assert partial["status"] == "partial"
    assert partial["diagnostics"]["unscanned_docs"] == 1
    _, complete = await post_redact(service, _chat(*texts))
    assert complete["status"] == "ok"
    assert complete["diagnostics"]["cached_docs"] == 0
    stats = await emulator.stats()
    assert [call["documents"] for call in stats["calls"]] == [2, 2]
    _, cached = await post_redact(service, _chat(*texts))
    assert cached["diagnostics"]["cached_docs"] == 2
    assert (await emulator.stats())["requests"] == 2


async def test_fail_closed_counts_cached_chunks_as_covered(
    make_service: ServiceFactory, emulator: Emulator
) -> None:
    service = await _azure(make_service, emulator, pii_max_attempts=1)
    await post_redact(service, _chat("Mail alice@example.com"))
    await emulator.inject({"kind": "status", "status": 500, "times": None})
    status, cached = await post_redact(service, _chat("Mail alice@example.com"), fail_closed=True)
    assert (status, cached["status"]) == (200, "ok")
    status, refused = await post_redact(
        service, _chat("Mail alice@example.com", "Call +1 206-555-0143"), fail_closed=True
    )
    assert (status, refused["status"]) == (503, "error")
    assert refused["diagnostics"]["unscanned_docs"] == 1
    assert refused["diagnostics"]["total_docs"] == 2  # no seam: the second starts a sentence
    assert "redacted_body" not in refused


async def test_a_request_that_fits_once_packed_is_allowed(
    make_service: ServiceFactory, emulator: Emulator
) -> None:
    service = await _azure(make_service, emulator, pii_max_batches=2)
    status, result = await post_redact(service, _chat(*[f"hi {i}" for i in range(11)]))
    assert (status, result["status"]) == (200, "ok")
    assert (await emulator.stats())["requests"] == 1


@pytest.mark.parametrize("packing", [True, False])
async def test_too_large_even_when_packed_is_413_before_any_call(
    make_service: ServiceFactory, emulator: Emulator, packing: bool
) -> None:
    service = await _azure(make_service, emulator, pii_max_batches=1, pii_packing_enabled=packing)
    status, result = await post_redact(service, _chat(*[FILLER * 95] * 6))
    assert status == 413
    assert result["error"]["code"] == "PayloadTooLarge"
    assert (await emulator.stats())["requests"] == 0


async def test_whether_a_request_fits_never_depends_on_the_cache(
    make_service: ServiceFactory, emulator: Emulator
) -> None:
    service = await _azure(make_service, emulator, pii_max_batches=1)
    texts = [FILLER * 95 + f"{i}" for i in range(6)]
    await post_redact(service, _chat(*texts[:5]))
    status, _ = await post_redact(service, _chat(*texts))
    assert status == 413


async def test_identical_chunks_in_one_request_are_scanned_once(
    make_service: ServiceFactory, emulator: Emulator
) -> None:
    service = await _azure(make_service, emulator, pii_packing_enabled=False)
    _, result = await post_redact(service, _chat(*["Mail alice@example.com"] * 4))
    assert (await emulator.stats())["documents"] == 1
    assert {m["content"] for m in result["redacted_body"]["messages"]} == {"Mail " + "#" * 17}


class SpanningDetector:
    """Finds one entity from ``before`` characters ahead of each separator to ``after`` past it,
    and can drop a document: the real ``Detector`` interface, without the network."""

    name = "fake"
    api_version: str | None = "1"
    categories = frozenset({"Secret"})

    def __init__(self, *, drop: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self._drop = drop

    async def detect(self, documents: Sequence[Document], context: DetectionContext) -> BatchResult:
        self.calls.append([document.text for document in documents])
        results = []
        for document in documents:
            if self._drop is not None and self._drop in document.text:
                continue
            at = document.text.find(SEPARATOR)
            entities = () if at < 0 else (Entity(at - 3, 3 + len(SEPARATOR) + 4, "Secret", 1.0),)
            results.append(DocumentResult(document.id, entities))
        return BatchResult(tuple(results))

    async def close(self) -> None:
        return None


def _scanner(detector: SpanningDetector, limits: Limits | None = None) -> Scanner:
    cache = DetectionCache(b"secret", MemoryCache(100, 100_000, 60))
    gate = asyncio.Semaphore(4)
    return Scanner(detector, limits or Limits(), gate, cache=cache, packing=True)


def _scope() -> ScanScope:
    return ScanScope(Deadline.after(5))


async def test_an_entity_across_a_separator_is_split_and_masked_on_both_sides() -> None:
    scanner = _scanner(SpanningDetector())
    report = await scanner.scan(["key abc", "defg rest"], _scope())
    assert report.entities == [[Entity(4, 3, "Secret", 1.0)], [Entity(0, 4, "Secret", 1.0)]]
    assert report.sent_docs == 1
    cached = await scanner.scan(["key abc", "defg rest"], _scope())
    assert cached.entities == report.entities
    assert cached.cached_docs == 2


async def test_a_dropped_document_leaves_its_whole_batch_uncached() -> None:
    detector = SpanningDetector(drop="second")
    limits = Limits(max_doc_chars=100)
    scanner = _scanner(detector, limits)
    texts = ["first " + "x" * 90, "second " + "y" * 90]
    report = await scanner.scan(texts, _scope())
    assert report.unscanned == {1: "incomplete-coverage"}
    await scanner.scan(texts, _scope())
    assert [len(call) for call in detector.calls] == [2, 2]


async def test_413_comes_before_the_cache_and_the_detector() -> None:
    detector = SpanningDetector()
    scanner = _scanner(detector, Limits(max_doc_chars=100, docs_per_batch=1, max_batches=1))
    with pytest.raises(PayloadTooLargeError):
        await scanner.scan(["a" * 90, "b" * 90], _scope())
    assert detector.calls == []
