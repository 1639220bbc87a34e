"""The function key and secrets: who may call ``/redact``, and what never leaves the process.

Personal data in logs and spans is the telemetry canary's job (tests/test_canary.py); this module
covers the secrets: LANGUAGE_API_KEY, REDACTION_API_KEY and the cache secret never appear in a
log record, an error answer or ``/health``, whatever goes wrong.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, make_mocked_request

from redaction.errors import SettingsError
from redaction.http import server
from redaction.settings import Settings, load_settings
from tests.conftest import REFERENCE_BODY, Emulator, ServiceFactory, post_redact

Client = TestClient[Any, Any]
FUNCTION_KEY = "fk-7f3c9a1e5b2d4c6e8a0b"
LANGUAGE_KEY = "lk-2b4d6f8a0c1e3a5c7e9d"
CACHE_SECRET = "cs-9e8d7c6b5a4f3e2d1c0b"
SECRETS = (FUNCTION_KEY, LANGUAGE_KEY, CACHE_SECRET)


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
        assert secret[3:] not in text  # nor a recognisable part of it


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-functions-key": ""},
        {"x-functions-key": "wrong"},
        {"x-functions-key": FUNCTION_KEY[:-1]},
        {"x-functions-key": FUNCTION_KEY + "x"},
        {"x-functions-key": FUNCTION_KEY.upper()},
        {"authorization": f"Bearer {FUNCTION_KEY}"},
    ],
    ids=["none", "empty", "wrong", "prefix", "longer", "case", "other-header"],
)
async def test_redact_refuses_anything_but_the_exact_key(
    make_service: ServiceFactory, headers: dict[str, str]
) -> None:
    service = await make_service(pii_detector="local", redaction_api_key=FUNCTION_KEY)
    response = await service.post("/redact", json={"body": REFERENCE_BODY}, headers=headers)
    raw = await response.text()
    assert response.status == 401
    assert "redacted_body" not in raw
    assert_no_secret(raw)


async def test_the_key_is_accepted_in_the_header_or_the_code_parameter(
    make_service: ServiceFactory,
) -> None:
    service = await make_service(pii_detector="local", redaction_api_key=FUNCTION_KEY)
    by_header = await service.post(
        "/redact", json={"body": REFERENCE_BODY}, headers={"x-functions-key": FUNCTION_KEY}
    )
    by_query = await service.post(
        "/redact", json={"body": REFERENCE_BODY}, params={"code": FUNCTION_KEY}
    )
    assert (by_header.status, by_query.status) == (200, 200)
    assert_no_secret(await by_header.text())


async def test_anonymous_routes_stay_anonymous(make_service: ServiceFactory) -> None:
    service = await make_service(pii_detector="local", redaction_api_key=FUNCTION_KEY)
    for route in ("/health", "/openapi.yaml"):
        response = await service.get(route)
        assert response.status == 200, route
        assert_no_secret(await response.text())


def test_the_key_is_compared_in_constant_time() -> None:
    source = inspect.getsource(server._key_matches)
    assert "hmac.compare_digest" in source
    assert "==" not in source


def test_key_comparison_accepts_only_equal_bytes() -> None:
    def matches(key: str | None, sent: str = "", path: str = "/redact") -> bool:
        request = make_mocked_request("POST", path, headers={"x-functions-key": sent})
        return server._key_matches(request, key)

    assert matches(FUNCTION_KEY, FUNCTION_KEY)
    assert matches(FUNCTION_KEY, path=f"/redact?code={FUNCTION_KEY}")
    assert not matches(FUNCTION_KEY, FUNCTION_KEY[:-1])
    # Non-ASCII keys compare as UTF-8 bytes (compare_digest refuses non-ASCII str).
    assert matches("ключ", "ключ")
    assert not matches(FUNCTION_KEY, "ключ")


async def test_secrets_never_reach_logs_errors_or_health(
    make_service: ServiceFactory, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await emulator.inject({"kind": "status", "status": 401, "times": None})
    service = await make_service(
        language_endpoint=emulator.url,
        language_api_key=LANGUAGE_KEY,
        redaction_api_key=FUNCTION_KEY,
        pii_cache_secret=CACHE_SECRET,
    )
    key = {"x-functions-key": FUNCTION_KEY}
    failed = await service.post(
        "/redact", json={"body": REFERENCE_BODY, "config": {"fail_closed": True}}, headers=key
    )
    refused = await service.post("/redact", data=b"{", headers={**key, "Content-Type": "x/y"})
    health = await service.get("/health", params={"deep": "true"})
    answers = [await r.text() for r in (failed, refused, health)]
    assert (failed.status, refused.status, health.status) == (503, 415, 503)
    for text in answers:
        assert_no_secret(text)
    for record in caplog.records:
        assert_no_secret(record.getMessage())
        assert_no_secret(repr(record.__dict__))


async def test_a_language_answer_echoing_the_key_is_not_passed_on(
    make_service: ServiceFactory, emulator: Emulator
) -> None:
    await emulator.inject(
        {"kind": "status", "status": 400, "headers": {"x-echo": LANGUAGE_KEY}, "times": None}
    )
    service = await make_service(language_endpoint=emulator.url, language_api_key=LANGUAGE_KEY)
    status, result = await post_redact(service, REFERENCE_BODY, fail_closed=True)
    assert status == 503
    assert_no_secret(repr(result))


def test_settings_errors_and_reprs_hide_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(language_api_key=LANGUAGE_KEY, redaction_api_key=FUNCTION_KEY)
    assert_no_secret(repr(settings))
    assert_no_secret(str(settings.model_dump()))
    monkeypatch.setenv("LANGUAGE_API_KEY", LANGUAGE_KEY)
    monkeypatch.setenv("PII_DEADLINE_S", f"bad-{CACHE_SECRET}")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert "PII_DEADLINE_S" in str(raised.value)
    assert_no_secret(str(raised.value))
