"""Tenant policy over real HTTP: every field on the embedded detector and on the emulator-backed
Azure detector, conflicts, hostile patterns, named policies, and a pattern scan that runs out of
time (in process, on a stepping clock)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from redaction.deadline import Deadline
from redaction.detectors.local_detector import EmbeddedDetector
from redaction.embedded import EmbeddedRecognizer
from redaction.errors import SettingsError
from redaction.models import RedactRequest
from redaction.policy.tenant import PolicyBook, ScanLimits
from redaction.scanning import Limits, Scanner
from redaction.service import RedactionService
from redaction.settings import load_settings
from tests.conftest import EMULATOR_KEY, REFERENCE_BODY, Emulator, ServiceFactory, post_redact

Client = TestClient[Any, Any]
EMAIL = "alice@example.com"
SSN = "123-45-6789"
TEXT = f"My email is {EMAIL} and my SSN is {SSN}; employee EMP-123456 signed."
EMPLOYEE = {"name": "employee", "pattern": r"\bEMP-\d{6}\b", "category": "EmployeeId"}


@pytest.fixture(params=["local", "azure"])
async def service(
    request: pytest.FixtureRequest, make_service: ServiceFactory, emulator: Emulator
) -> Client:
    if request.param == "local":
        return await make_service(pii_detector="local")
    return await make_service(language_endpoint=emulator.url, language_api_key=EMULATOR_KEY)


def _chat(*contents: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text} for text in contents]}


async def _redact(client: Client, text: str = TEXT, **config: Any) -> tuple[str, dict[str, Any]]:
    status, result = await post_redact(client, _chat(text), **config)
    assert status == 200, result
    return result["redacted_body"]["messages"][0]["content"], result


def _masked(text: str, *values: str) -> str:
    for value in values:
        text = text.replace(value, "#" * len(value))
    return text


# ---- each field, on both detectors ---------------------------------------------------------


async def test_no_policy_masks_what_the_detector_finds(service: Client) -> None:
    content, result = await _redact(service)
    assert content == _masked(TEXT, EMAIL, SSN)
    assert result["status"] == "ok"


async def test_custom_patterns_add_the_tenants_identifiers(service: Client) -> None:
    content, result = await _redact(service, custom_patterns=[EMPLOYEE])
    assert content == _masked(TEXT, EMAIL, SSN, "EMP-123456")
    assert result["diagnostics"]["categories"]["EmployeeId"] == 1
    assert result["full_coverage"] is True


async def test_allow_list_beats_detection(service: Client) -> None:
    content, _ = await _redact(service, allow_list=[EMAIL])
    assert content == _masked(TEXT, SSN)


async def test_allow_list_case_insensitive(service: Client) -> None:
    content, _ = await _redact(service, allow_list=["ALICE@example.COM"])
    assert content == _masked(TEXT, EMAIL, SSN)
    content, _ = await _redact(
        service, allow_list=["ALICE@example.COM"], allow_list_case_sensitive=False
    )
    assert content == _masked(TEXT, SSN)


async def test_allow_patterns(service: Client) -> None:
    content, _ = await _redact(service, allow_patterns=[r"[a-z]+@example\.com"])
    assert content == _masked(TEXT, SSN)


async def test_min_confidence_and_category_thresholds(service: Client) -> None:
    content, _ = await _redact(service, min_confidence=0.95)
    assert content == _masked(TEXT, SSN)  # Email scores 0.9, the SSN 1.0
    content, _ = await _redact(service, min_confidence=0.95, category_thresholds={"Email": 0.5})
    assert content == _masked(TEXT, EMAIL, SSN)
    content, _ = await _redact(service, category_thresholds={"USSocialSecurityNumber": 1.0})
    assert content == _masked(TEXT, EMAIL, SSN)


async def test_categories_select_detector_categories_and_keep_custom_ones(service: Client) -> None:
    content, result = await _redact(service, categories=["Email"], custom_patterns=[EMPLOYEE])
    assert content == _masked(TEXT, EMAIL, "EMP-123456")
    assert result["diagnostics"]["categories"] == {"Email": 1, "EmployeeId": 1}


async def test_excluded_categories_apply_to_custom_categories(service: Client) -> None:
    content, _ = await _redact(
        service, excluded_categories=["EmployeeId", "Email"], custom_patterns=[EMPLOYEE]
    )
    assert content == _masked(TEXT, SSN)


async def test_custom_pattern_overlapping_a_detected_entity_masks_both(service: Client) -> None:
    rule = {"name": "mailbox", "pattern": r"email is \S+", "category": "Mailbox"}
    content, result = await _redact(service, custom_patterns=[rule])
    assert content == _masked(TEXT, f"email is {EMAIL}", SSN)
    assert result["diagnostics"]["categories"]["Email"] == 1
    assert result["diagnostics"]["categories"]["Mailbox"] == 1


async def test_allow_list_drops_the_detected_entity_not_an_overlapping_custom_one(
    service: Client,
) -> None:
    rule = {"name": "mailbox", "pattern": r"alice@\w+", "category": "Mailbox"}
    content, _ = await _redact(service, allow_list=[EMAIL], custom_patterns=[rule])
    assert content == _masked(TEXT, "alice@example", SSN)


async def test_validator_and_context(service: Client) -> None:
    rules = [
        {
            "name": "card",
            "pattern": r"\b\d{4}(?: \d{4}){3}\b",
            "category": "Card",
            "validator": "luhn",
        },
        {
            "name": "cust",
            "pattern": r"\b\d{7}\b",
            "category": "CustomerId",
            "context": ["customer"],
        },
    ]
    text = "order 1234567; cards 4111 1111 1111 1111 and 4111 1111 1111 1112; customer 7654321"
    content, _ = await _redact(service, text, custom_patterns=rules, categories=["Email"])
    assert content == _masked(text, "4111 1111 1111 1111", "7654321")


async def test_the_policy_covers_every_scanned_text(service: Client) -> None:
    status, result = await post_redact(
        service, _chat("EMP-000001", "nothing", "EMP-000002"), custom_patterns=[EMPLOYEE]
    )
    assert status == 200
    contents = [m["content"] for m in result["redacted_body"]["messages"]]
    assert contents == ["#" * 10, "nothing", "#" * 10]


# ---- conflicts and bad input ---------------------------------------------------------------


async def test_categories_and_excluded_categories_together_are_a_400(service: Client) -> None:
    status, result = await post_redact(
        service, REFERENCE_BODY, categories=["Email"], excluded_categories=["URL"]
    )
    assert status == 400
    assert result["error"]["code"] == "InvalidRequest"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("allow_patterns", [r"ok", r"(alice)\1"]),
        ("custom_patterns", [EMPLOYEE, {**EMPLOYEE, "pattern": r"alice(?=@)"}]),
        ("custom_patterns", [EMPLOYEE, {**EMPLOYEE, "pattern": r"alice@(?:.*Z)?"}]),
        ("custom_patterns", [EMPLOYEE, {**EMPLOYEE, "pattern": r"(alice@example)?"}]),
    ],
)
async def test_errors_name_the_field_never_the_pattern_or_values(
    service: Client, field: str, value: list[Any]
) -> None:
    response = await service.post("/redact", json={"body": _chat(TEXT), "config": {field: value}})
    raw = await response.text()
    assert response.status == 400
    assert f"config.{field}.1" in raw
    assert "alice" not in raw
    assert "123-45" not in raw


async def test_a_value_in_a_bad_allow_list_is_not_echoed(service: Client) -> None:
    response = await service.post(
        "/redact", json={"body": {}, "config": {"allow_list": ["alice@example.com", 7]}}
    )
    raw = await response.text()
    assert response.status == 400
    assert "config.allow_list.1" in raw
    assert "alice" not in raw


# ---- hostile patterns ----------------------------------------------------------------------


async def test_catastrophic_patterns_are_refused_and_the_service_stays_responsive(
    service: Client,
) -> None:
    hostile = [
        r"(a|aa)+\1",  # backtracking needed: RE2 refuses it
        r"(?:(a+)+)(?=b)",  # lookahead after nested quantifiers
        r"a(?:.*Z)?",  # linear per search, quadratic over all matches: refused (scans ahead)
    ]
    for index, pattern in enumerate(hostile):
        rule = {"name": f"h{index}", "pattern": pattern, "category": "Hostile"}
        status, result = await post_redact(service, _chat("a" * 50_000), custom_patterns=[rule])
        assert status == 400, pattern
        assert result["error"]["details"][0]["field"] == "config.custom_patterns.0.pattern"
    content, result = await _redact(service)
    assert content == _masked(TEXT, EMAIL, SSN)


async def test_nested_quantifiers_run_in_linear_time_on_re2(service: Client) -> None:
    rule = {"name": "runs", "pattern": r"(a+)+b", "category": "Run"}
    text = "a" * 100_000 + "!"
    status, result = await post_redact(service, _chat(text, "aab"), custom_patterns=[rule])
    assert status == 200
    assert result["full_coverage"] is True
    assert [m["content"] for m in result["redacted_body"]["messages"]] == [text, "###"]


# ---- named policies ------------------------------------------------------------------------

POLICIES = {
    "hr": {"custom_patterns": [EMPLOYEE], "allow_list": [EMAIL], "fail_closed": True},
    "finance-strict": {"categories": ["USSocialSecurityNumber"], "min_confidence": 0.5},
}


async def test_a_named_policy_applies_and_the_request_overrides_it(
    make_service: ServiceFactory,
) -> None:
    client = await make_service(pii_detector="local", pii_policies=json.dumps(POLICIES))
    content, _ = await _redact(client, policy="hr")
    assert content == _masked(TEXT, SSN, "EMP-123456")
    content, _ = await _redact(client, policy="hr", allow_list=[])
    assert content == _masked(TEXT, EMAIL, SSN, "EMP-123456")
    content, _ = await _redact(client, policy="finance-strict")
    assert content == _masked(TEXT, SSN)
    content, _ = await _redact(client, policy="finance-strict", excluded_categories=["Email"])
    assert content == _masked(TEXT, SSN)
    content, _ = await _redact(client, policy="finance-strict", categories=["Email"])
    assert content == _masked(TEXT, EMAIL)


async def test_named_policies_from_a_file_on_the_emulator(
    make_service: ServiceFactory, emulator: Emulator, tmp_path: Path
) -> None:
    path = tmp_path / "policies.json"
    path.write_text(json.dumps(POLICIES), encoding="utf-8")
    client = await make_service(
        language_endpoint=emulator.url, language_api_key=EMULATOR_KEY, pii_policies_file=str(path)
    )
    content, result = await _redact(client, policy="hr", excluded_categories=["EmployeeId"])
    assert content == _masked(TEXT, SSN)
    assert result["diagnostics"]["detector"] == "azure"


async def test_categories_of_a_named_policys_patterns_are_valid_in_the_request(
    make_service: ServiceFactory,
) -> None:
    client = await make_service(pii_detector="local", pii_policies=json.dumps(POLICIES))
    content, _ = await _redact(client, policy="hr", category_thresholds={"EmployeeId": 0.9})
    assert content == _masked(TEXT, SSN)
    status, _ = await post_redact(client, _chat(TEXT), category_thresholds={"EmployeeId": 0.9})
    assert status == 400


async def test_an_unknown_policy_is_a_400(make_service: ServiceFactory) -> None:
    client = await make_service(pii_detector="local", pii_policies=json.dumps(POLICIES))
    status, result = await post_redact(client, REFERENCE_BODY, policy="nope")
    assert status == 400
    assert result["error"]["details"] == [{"field": "config.policy"}]


def test_a_bad_named_policy_stops_start_up_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    bad = {"ok": {}, "broken": {"custom_patterns": [{**EMPLOYEE, "pattern": r"alice(\d)\1"}]}}
    monkeypatch.setenv("PII_POLICIES", json.dumps(bad))
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "'broken'" in message
    assert "custom_patterns.0.pattern" in message
    assert "alice" not in message


# ---- a pattern scan that runs out of time fails safe ---------------------------------------


class SteppingClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def _service() -> RedactionService:
    scanner = Scanner(EmbeddedDetector(EmbeddedRecognizer()), Limits(), asyncio.Semaphore(4))
    return RedactionService(scanner, policies=PolicyBook(limits=ScanLimits(0.5, 60.0)))


@pytest.mark.parametrize("fail_closed", [False, True])
async def test_a_pattern_scan_timeout_never_claims_coverage(fail_closed: bool) -> None:
    request = RedactRequest.model_validate(
        {
            "body": _chat(TEXT, "EMP-000001"),
            "config": {"custom_patterns": [EMPLOYEE], "fail_closed": fail_closed},
        }
    )
    deadline = Deadline(1e12, SteppingClock())
    response = await _service().redact(request, deadline)
    assert response.full_coverage is False
    assert response.diagnostics is not None
    assert response.diagnostics.failure_reason == "policy-timeout"
    assert response.diagnostics.unscanned_paths == ["/messages/0/content", "/messages/1/content"]
    if fail_closed:
        assert response.status == "error"
        assert response.redacted_body is None
        return
    assert response.status == "partial"
    assert response.redacted_body is not None
    first = response.redacted_body["messages"][0]["content"]
    assert first == _masked(TEXT, EMAIL, SSN)  # the detector's findings are still masked
