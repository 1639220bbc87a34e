"""Fail-soft (issue 15): in a fail-open request, what Azure Language could not scan is read by the
embedded detector, so its structured data is masked; the answer stays ``partial`` and
``diagnostics.fallback_docs`` counts those units. A fail-closed request is refused as before.

Against the emulator, over real HTTP: a wrong key (401) and injected server errors (5xx)."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import EMULATOR_KEY, Emulator, ServiceFactory, post_redact

EMAIL = "alice@example.com"
PHONE = "(206) 555-0100"
TEXT = f"Write to {EMAIL} or call {PHONE} before noon."
BODY = {"messages": [{"role": "user", "content": TEXT}]}
WRONG_KEY = "not-the-emulator-key-5f3a"


def _content(result: dict[str, Any], index: int = 0) -> str:
    content: str = result["redacted_body"]["messages"][index]["content"]
    return content


async def test_a_wrong_key_in_a_fail_open_request_still_masks_the_email(
    make_service: ServiceFactory, emulator: Emulator
) -> None:
    service = await make_service(language_endpoint=emulator.url, language_api_key=WRONG_KEY)
    status, result = await post_redact(service, BODY)
    assert status == 200
    assert (result["status"], result["full_coverage"]) == ("partial", False)
    assert _content(result) == TEXT.replace(EMAIL, "#" * len(EMAIL)).replace(PHONE, "#" * 14)
    diagnostics = result["diagnostics"]
    assert diagnostics["failure_reason"] == "http-401"
    assert diagnostics["unscanned_paths"] == ["/messages/0/content"]
    assert diagnostics["unscanned_docs"] == diagnostics["fallback_docs"] == 1
    assert WRONG_KEY not in json.dumps(result)


async def test_a_wrong_key_in_a_fail_closed_request_is_still_refused(
    make_service: ServiceFactory, emulator: Emulator
) -> None:
    service = await make_service(language_endpoint=emulator.url, language_api_key=WRONG_KEY)
    status, result = await post_redact(service, BODY, fail_closed=True)
    assert status == 503
    assert result["error"]["reason"] == "http-401"
    assert "redacted_body" not in result
    assert result["diagnostics"]["fallback_docs"] == 0
    assert EMAIL not in json.dumps(result)


async def test_server_errors_on_every_attempt_fall_back_after_the_retries(
    azure_service: Any, emulator: Emulator
) -> None:
    await emulator.inject({"kind": "status", "status": 503, "times": None})
    status, result = await post_redact(azure_service, BODY)
    assert status == 200
    assert result["status"] == "partial"
    assert EMAIL not in _content(result)
    assert PHONE not in _content(result)
    diagnostics = result["diagnostics"]
    assert diagnostics["failure_reason"] == "http-503"
    assert diagnostics["retries"] >= 1
    assert diagnostics["fallback_docs"] == 1
    assert (await emulator.stats())["statuses"] == {"503": diagnostics["attempts"]}


async def test_only_the_batch_language_missed_is_read_by_the_fallback(
    make_service: ServiceFactory, emulator: Emulator
) -> None:
    """Six messages, one document each (no packing): two batches; the second one fails."""
    service = await make_service(
        language_endpoint=emulator.url, language_api_key=EMULATOR_KEY, pii_packing_enabled=False
    )
    texts = [f"Note {n}: mail {n}.{EMAIL}" for n in range(5)] + [f"Last: {TEXT}"]
    body = {"messages": [{"role": "user", "content": text} for text in texts]}
    await emulator.inject(
        {"kind": "status", "status": 500, "times": None, "batch_contains": "Last:"}
    )
    status, result = await post_redact(service, body)
    assert status == 200
    assert result["status"] == "partial"
    for index, text in enumerate(texts):
        assert EMAIL not in _content(result, index), text
    diagnostics = result["diagnostics"]
    assert diagnostics["unscanned_paths"] == ["/messages/5/content"]
    assert diagnostics["fallback_docs"] == diagnostics["unscanned_docs"]
    assert diagnostics["scanned_docs"] == diagnostics["total_docs"] - diagnostics["unscanned_docs"]


async def test_a_fully_scanned_request_has_no_fallback(
    azure_service: Any, emulator: Emulator
) -> None:
    status, result = await post_redact(azure_service, BODY)
    assert (status, result["status"]) == (200, "ok")
    assert result["diagnostics"]["fallback_docs"] == 0


TWO = {
    "messages": [{"role": "user", "content": TEXT}, {"role": "user", "content": f"second {TEXT}"}]
}


async def test_a_value_read_by_the_seam_and_the_fallback_counts_once(
    make_service: ServiceFactory, emulator: Emulator
) -> None:
    """The seam around the message boundary and the fallback both read both messages: each
    masked value counts once in the diagnostics (and the telemetry built from them)."""
    service = await make_service(
        language_endpoint=emulator.url, language_api_key=EMULATOR_KEY, pii_cache_enabled=False
    )
    status, ok = await post_redact(service, TWO)
    assert (status, ok["status"]) == (200, "ok")
    await emulator.inject({"kind": "status", "status": 500, "times": None})
    status, soft = await post_redact(service, TWO)
    assert (status, soft["status"]) == (200, "partial")
    assert soft["redacted_body"] == ok["redacted_body"]
    for result in (ok, soft):
        assert result["diagnostics"]["categories"] == {"Email": 2, "PhoneNumber": 2}
        assert result["diagnostics"]["entity_count"] == 4
    assert soft["diagnostics"]["fallback_docs"] == soft["diagnostics"]["unscanned_docs"] == 2


async def test_a_value_read_by_the_seam_and_the_embedded_detector_counts_once(
    make_service: ServiceFactory,
) -> None:
    service = await make_service(pii_detector="local")
    status, result = await post_redact(service, TWO)
    assert (status, result["status"]) == (200, "ok")
    assert result["diagnostics"]["categories"] == {"Email": 2, "PhoneNumber": 2}
    assert result["diagnostics"]["entity_count"] == 4
