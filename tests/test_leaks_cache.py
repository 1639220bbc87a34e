"""Leaks through packing and the detection cache, found by an outside tester (round 4): answers
``ok`` with full coverage and the value readable, on both detectors, over real HTTP (the served
app on the embedded detector, and the Azure path through the emulator).

- ``packing``: the embedded detector masks a bare checked number (a Canadian SIN) when it is the
  whole message, but short texts are packed into shared documents, so in a conversation ("send
  me your social insurance number" / "130692544") it was not masked; and the per-chunk cache
  entry made from the packed document was then served to a request holding the message alone.
  Now the embedded detector reads each packed segment on its own, and on the Azure path it also
  reads alone, in process, every short text that may be one value.
- ``scope``: the cache key left out the detector's settings (``PII_MIN_SCORE``...) and its build,
  so instances sharing one Redis tier (other settings, or the previous release during a rolling
  deploy) served each other's verdicts. Every key now holds the detector's fingerprint.
- ``size``: an 8 MiB single-string body got its 413 only after its text was chunked (seconds of
  CPU); it is now refused from its character count first.
"""

from __future__ import annotations

import io
import json
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from redaction.cache.detection import CacheScope, DetectionCache, MemoryCache
from redaction.cache.fingerprint import PACKAGE, build_id
from redaction.cache.redis_tier import RedisTier
from redaction.deadline import Deadline
from redaction.detectors.detector import DetectionContext
from redaction.detectors.local_detector import EmbeddedDetector
from redaction.embedded import EmbeddedRecognizer
from redaction.entities import Document
from redaction.runtime import detector_fingerprint
from redaction.settings import Settings
from tests.conftest import DETECTORS, EMULATOR_KEY, Emulator, ServiceFactory, post_redact
from tests.test_leaks import is_ok


def _luhn_valid(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char) * (2 if position % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


# Luhn-valid nine-digit numbers (a Canadian SIN's shape), a new one for each use.
_SINS: Iterator[str] = (
    number
    for number in (f"{n:09d}" for n in range(130_692_540, 130_699_999))
    if _luhn_valid(number)
)


def fresh_sin() -> str:
    return next(_SINS)


def chat(*texts: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text} for text in texts]}


async def _service(
    detector: str, make_service: ServiceFactory, emulator: Emulator, **settings: Any
) -> TestClient[Any, Any]:
    if detector == "local":
        return await make_service(pii_detector="local", **settings)
    return await make_service(
        language_endpoint=emulator.url, language_api_key=EMULATOR_KEY, **settings
    )


async def _redacted(client: TestClient[Any, Any], body: dict[str, Any]) -> dict[str, Any] | None:
    """The redacted body of an ``ok`` answer, or None (nothing would be forwarded)."""
    status, result = await post_redact(client, body)
    assert status < 500 or status == 503, result
    return result["redacted_body"] if is_ok(status, result) else None


# --- packing --------------------------------------------------------------------------------


@pytest.mark.parametrize("detector", DETECTORS)
async def test_a_number_that_is_the_whole_answer_is_masked_in_a_conversation(
    detector: str, make_service: ServiceFactory, emulator: Emulator
) -> None:
    client = await _service(detector, make_service, emulator)
    sin = fresh_sin()
    alone = await _redacted(client, chat(sin))
    assert alone is not None  # control: alone, it is masked
    assert sin not in str(alone)
    sin = fresh_sin()
    body = {
        "messages": [
            {"role": "system", "content": "You are a helpful bank assistant."},
            {"role": "user", "content": "I want to open an account"},
            {"role": "assistant", "content": "Sure. Please send me your social insurance number."},
            {"role": "user", "content": sin},
        ]
    }
    out = await _redacted(client, body)
    assert out is None or sin not in out["messages"][3]["content"], out


@pytest.mark.parametrize("detector", DETECTORS)
async def test_the_cache_never_carries_a_packed_verdict_to_a_lone_message(
    detector: str, make_service: ServiceFactory, emulator: Emulator
) -> None:
    client = await _service(detector, make_service, emulator)
    sin = fresh_sin()
    await _redacted(client, chat("hello, how are you today?", sin))  # packed beside a greeting
    out = await _redacted(client, chat(sin))
    assert out is None or sin not in out["messages"][0]["content"], out
    again = await _redacted(client, chat("hello, how are you today?", sin))
    assert again is None or sin not in again["messages"][1]["content"], again


async def test_the_embedded_detector_reads_each_packed_segment_alone() -> None:
    detector = EmbeddedDetector(EmbeddedRecognizer())
    sin = fresh_sin()
    alone = Document("0", sin)
    text = f"hello, how are you today?\n\n{sin}"
    packed = Document("1", text, ((0, 25), (27, len(text))))
    context = DetectionContext(deadline=Deadline.after(30), language="en")
    result = await detector.detect([alone, packed], context)
    found = {
        doc.id: [(e.offset, e.length, e.category) for e in doc.entities] for doc in result.documents
    }
    assert found["0"] == [(0, 9, "CASocialInsuranceNumber")]
    assert found["1"] == [(27, 9, "CASocialInsuranceNumber")]


# --- the cache's scope ----------------------------------------------------------------------


@pytest.mark.parametrize("detector", DETECTORS)
async def test_an_instance_with_other_settings_never_serves_its_entries(
    detector: str, make_service: ServiceFactory, emulator: Emulator, redis_url: str
) -> None:
    """Two instances on one Redis tier, one after the other (each with its own memory tier):
    the one with ``PII_MIN_SCORE=0.9`` writes an empty verdict, the default one must not read it.
    On the Azure path the SSN is split across two messages: only the seam reads it whole."""
    shared = {"redis_url": redis_url, "pii_cache_secret": secrets.token_hex(16)}
    shared["pii_redis_timeout_s"] = 5.0  # a busy machine must not lose the write
    tag = secrets.token_hex(4)
    texts = (
        (f"see 536-22-8915 noted {tag}",) if detector == "local" else ("see 536-22", f"-8915 {tag}")
    )
    weak = await _service(detector, make_service, emulator, pii_min_score=0.9, **shared)
    await _redacted(weak, chat(*texts))
    await weak.close()
    strong = await _service(detector, make_service, emulator, **shared)
    out = await _redacted(strong, chat(*texts))
    assert out is None or "8915" not in str(out), out
    again = await _redacted(strong, chat(*texts))
    assert again == out


async def test_entries_of_another_fingerprint_are_misses(redis_url: str) -> None:
    secret, scope, text = secrets.token_bytes(32), CacheScope("t", "local", "", "en", ""), "x"

    def cache(fingerprint: bytes) -> DetectionCache:
        tier = RedisTier.from_url(redis_url, timeout_s=5.0, ttl_s=60)
        return DetectionCache(secret, MemoryCache(100, 1 << 20, 60), tier, fingerprint)

    writer = cache(b"previous release")
    writer.store({writer.key(scope, text): ()})
    await writer.close()
    for fingerprint, hit in ((b"this release", False), (b"previous release", True)):
        reader = cache(fingerprint)
        try:
            assert bool(await reader.lookup({reader.key(scope, text): len(text)})) is hit
        finally:
            await reader.close()


def test_the_build_id_follows_every_file_of_the_package(tmp_path: Path) -> None:
    copy = tmp_path / "redaction"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = build_id(copy)
    target = copy / "embedded" / "network.py"
    target.write_text(target.read_text() + "\n# a fix\n")
    build_id.cache_clear()
    assert build_id(copy) != before
    (copy / "embedded" / "network.cpython-311.pyc").write_bytes(b"compiled")
    build_id.cache_clear()
    target.write_text(target.read_text().removesuffix("\n# a fix\n"))
    assert build_id(copy) == before  # compiled files are not the build


@pytest.mark.parametrize(
    "change",
    [
        {"pii_min_score": 0.9},
        {"pii_phone_regions": "US"},
        {"language_api_version": "2024-11-01"},
        {"pii_packing_enabled": False},
        {"pii_detector": "local"},
    ],
    ids=lambda change: next(iter(change)),
)
def test_the_fingerprint_follows_the_settings_that_change_findings(change: dict[str, Any]) -> None:
    default = Settings(language_endpoint="http://127.0.0.1:1", language_api_key="k")
    assert detector_fingerprint(default) == detector_fingerprint(default.model_copy())
    changed = Settings(language_endpoint="http://127.0.0.1:1", language_api_key="k", **change)
    assert detector_fingerprint(changed) != detector_fingerprint(default)


def test_the_fingerprint_ignores_settings_that_change_no_finding() -> None:
    default = Settings(pii_detector="local")
    other = Settings(pii_detector="local", pii_cache_ttl_s=60, pii_deadline_s=30)
    assert detector_fingerprint(other) == detector_fingerprint(default)


# --- size -----------------------------------------------------------------------------------


@pytest.mark.parametrize("detector", DETECTORS)
async def test_one_huge_string_is_refused_from_its_size_before_it_is_chunked(
    detector: str, make_service: ServiceFactory, emulator: Emulator
) -> None:
    client = await _service(detector, make_service, emulator)
    text = "a " * (4 * 1024 * 1024 - 200) + "536-22-8915"
    data = io.BytesIO(json.dumps({"body": chat(text)}).encode())  # aiohttp: large bodies stream
    response = await client.post("/redact", data=data, headers={"Content-Type": "application/json"})
    status, result = response.status, await response.json()
    assert (status, result["error"]["code"]) == (413, "PayloadTooLarge")
    assert "at least" in result["error"]["message"]  # the count of characters, not the chunks
    assert (await emulator.stats())["requests"] == 0
