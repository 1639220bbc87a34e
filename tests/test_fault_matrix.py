"""Every Language fault, transient and permanent, fail-open and fail-closed, over real HTTP.

One row per fault: what the emulator plays, the failure reason it must end in, how many Language
calls a permanent fault costs, and whether a one-off (transient) fault is recovered by a retry.
Each row runs four ways (transient/permanent x fail_closed false/true) and checks the HTTP status,
``status``, ``full_coverage``, the reason, the calls the emulator saw, the time against the
deadline, and that no planted PII of an unscanned document comes back as if it had been scanned.
"""

# ruff: noqa: E501  (the matrix keeps one row per line)
from __future__ import annotations

import asyncio
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import EMULATOR_KEY, Emulator, ServiceFactory

# Short timings so the permanent rows finish fast; deadline rows shorten the deadline further.
MATRIX_SETTINGS: dict[str, Any] = {
    # A healthy attempt must finish well inside the attempt timeout even on a loaded 2-core box.
    "pii_deadline_s": 5.0,
    "pii_attempt_timeout_s": 1.0,
    "pii_max_attempts": 3,
    "pii_backoff_base_s": 0.01,
    "pii_backoff_max_s": 0.02,
    "pii_cache_enabled": False,  # every attempt reaches Language
    "pii_packing_enabled": False,  # one message, one document
}
ATTEMPTS = MATRIX_SETTINGS["pii_max_attempts"]
DEADLINE_MARGIN_S = 5.0
# Distinctive PII, one per document; none of it may come back unmasked from a scanned document.
PLANTED = ("quokka.first@example.com", "536-22-8915")
BODY = {
    "model": "gpt-4o",
    "messages": [
        {"role": "user", "content": f"First note: write to {PLANTED[0]} today."},
        {"role": "user", "content": f"Second note: my SSN is {PLANTED[1]}."},
    ],
}
REFUSED = "refused"  # not an emulator fault: the endpoint is a port nobody listens on


@dataclass(frozen=True)
class Row:
    name: str
    fault: dict[str, Any] | str
    reason: str
    calls: int  # Language calls a permanent fault costs
    recovers: bool = True  # a transient fault is retried into an `ok`
    settings: dict[str, Any] = field(default_factory=dict)
    unscanned: int = 2  # documents a permanent fault leaves unscanned


RETRY_AFTER = {"Retry-After": "0.05"}
RETRY_AFTER_MS = {"retry-after-ms": "30"}
SHORT_DEADLINE = {"pii_deadline_s": 1.0, "pii_attempt_timeout_s": 5.0}
# fmt: off
ROWS = [
    Row("429-retry-after", {"kind": "status", "status": 429, "headers": RETRY_AFTER}, "http-429", ATTEMPTS),
    Row("429-retry-after-ms", {"kind": "status", "status": 429, "headers": RETRY_AFTER_MS}, "http-429", ATTEMPTS),
    Row("429-no-retry-after", {"kind": "status", "status": 429}, "http-429", ATTEMPTS),
    Row("429-beyond-deadline", {"kind": "status", "status": 429, "headers": {"Retry-After": "60"}}, "deadline", 1, recovers=False),
    Row("500", {"kind": "status", "status": 500}, "http-500", ATTEMPTS),
    Row("502", {"kind": "status", "status": 502}, "http-502", ATTEMPTS),
    Row("503", {"kind": "status", "status": 503}, "http-503", ATTEMPTS),
    Row("504", {"kind": "status", "status": 504}, "http-504", ATTEMPTS),
    Row("401-credential", {"kind": "status", "status": 401}, "http-401", 1, recovers=False),
    Row("403-credential", {"kind": "status", "status": 403}, "http-403", 1, recovers=False),
    Row("hang-past-attempt-timeout", {"kind": "hang", "seconds": 2.0}, "timeout", ATTEMPTS),
    Row("hang-past-deadline", {"kind": "hang", "seconds": 30.0}, "deadline", 1, recovers=False, settings=SHORT_DEADLINE),
    Row("connection-refused", REFUSED, "connection-error", 0, recovers=False),
    Row("reset-mid-body", {"kind": "reset"}, "connection-reset", ATTEMPTS),
    Row("malformed-json", {"kind": "malformed"}, "invalid-response", ATTEMPTS),
    Row("missing-document", {"kind": "drop_document"}, "incomplete-coverage", ATTEMPTS, unscanned=1),
    Row("duplicated-id", {"kind": "duplicate_document"}, "invalid-response", ATTEMPTS, unscanned=1),
    Row("unknown-id", {"kind": "unknown_document"}, "invalid-response", ATTEMPTS),
    Row("document-error", {"kind": "document_error"}, "document-error", 1, recovers=False, unscanned=1),
    Row("offsets-outside-text", {"kind": "bad_offsets"}, "invalid-response", ATTEMPTS, unscanned=1),
    Row("trickle-past-attempt-timeout", {"kind": "trickle", "seconds": 3.0, "interval": 0.05}, "timeout", ATTEMPTS),
    Row("trickle-past-deadline", {"kind": "trickle", "seconds": 30.0, "interval": 0.05}, "deadline", 1, recovers=False, settings=SHORT_DEADLINE),
]
# fmt: on


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def settled_stats(emulator: Emulator) -> dict[str, Any]:
    """Stats once every call has ended (a hung call is recorded when its handler notices)."""
    for _ in range(100):
        stats = await emulator.stats()
        if stats["in_flight"] == 0:
            return stats
        await asyncio.sleep(0.05)
    raise AssertionError("emulator calls still in flight")


def expected(row: Row, permanent: bool) -> tuple[str, int]:
    """(status, Language calls) for the row played once (transient) or forever (permanent)."""
    if not permanent and row.recovers:
        return "ok", 2
    return "failed", row.calls


def assert_nothing_unscanned_passes_as_scanned(result: dict[str, Any], raw: str) -> None:
    if result["status"] != "partial":
        assert not any(secret in raw for secret in PLANTED), "planted PII in a non-partial answer"
        return
    messages = result["redacted_body"]["messages"]
    unscanned = set(result["diagnostics"]["unscanned_paths"])
    for index, (message, secret) in enumerate(zip(messages, PLANTED, strict=True)):
        if secret in message["content"]:
            assert f"/messages/{index}/content" in unscanned, f"message {index} shown as scanned"


@pytest.mark.parametrize("fail_closed", [False, True], ids=["fail-open", "fail-closed"])
@pytest.mark.parametrize("permanent", [False, True], ids=["transient", "permanent"])
@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
async def test_language_fault(
    make_service: ServiceFactory,
    emulator: Emulator,
    row: Row,
    permanent: bool,
    fail_closed: bool,
) -> None:
    settings = {**MATRIX_SETTINGS, **row.settings}
    endpoint = emulator.url
    if row.fault == REFUSED:
        endpoint = f"http://127.0.0.1:{closed_port()}"
    else:
        assert isinstance(row.fault, dict)
        await emulator.inject({**row.fault, "times": None if permanent else 1})
    service: TestClient[Any, Any] = await make_service(
        language_endpoint=endpoint, language_api_key=EMULATOR_KEY, **settings
    )

    started = time.monotonic()
    payload = {"body": BODY, "config": {"fail_closed": fail_closed}}
    response = await service.post("/redact", json=payload)
    raw = await response.text()
    elapsed = time.monotonic() - started
    result = json.loads(raw)
    outcome, calls = expected(row, permanent)

    assert elapsed < settings["pii_deadline_s"] + DEADLINE_MARGIN_S
    assert (await settled_stats(emulator))["requests"] == calls
    assert_nothing_unscanned_passes_as_scanned(result, raw)
    if outcome == "ok":
        assert (response.status, result["status"], result["full_coverage"]) == (200, "ok", True)
        assert result["diagnostics"]["attempts"] == calls
        assert result["diagnostics"]["failure_reason"] is None
        assert result["redacted_body"]["model"] == BODY["model"]
        return
    diagnostics = result["diagnostics"]
    assert result["full_coverage"] is False
    assert diagnostics["unscanned_docs"] == row.unscanned
    if fail_closed:
        assert (response.status, result["status"]) == (503, "error")
        assert result["error"]["code"] == "PiiRedactionFailed"
        assert result["error"]["reason"] == row.reason
        assert "redacted_body" not in result
    else:
        assert (response.status, result["status"]) == (200, "partial")
        assert diagnostics["failure_reason"] == row.reason
        assert len(diagnostics["unscanned_paths"]) == row.unscanned
