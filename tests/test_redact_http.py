"""``/redact`` and ``/health`` over real HTTP, on the embedded detector and on the emulator."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import REFERENCE_BODY, REFERENCE_MASKED, Emulator, ServiceFactory, post_redact

Client = TestClient[Any, Any]
SECRET_SSN = "123-45-6789"


def _chat(*contents: str, role: str = "user") -> dict[str, Any]:
    return {"messages": [{"role": role, "content": text} for text in contents]}


async def test_reference_example_on_the_embedded_detector(local_service: Client) -> None:
    status, result = await post_redact(local_service, REFERENCE_BODY)
    assert status == 200
    assert result["status"] == "ok"
    assert result["full_coverage"] is True
    assert result["redacted_body"]["messages"][0]["content"] == REFERENCE_MASKED
    diagnostics = result["diagnostics"]
    assert diagnostics["detector"] == "local"
    assert diagnostics["categories"] == {"Email": 1, "USSocialSecurityNumber": 1}
    assert diagnostics["entity_count"] == 2
    assert diagnostics["total_docs"] == 1


async def test_reference_example_on_the_azure_detector(
    azure_service: Client, emulator: Emulator
) -> None:
    status, result = await post_redact(azure_service, REFERENCE_BODY, correlation_id="req-1")
    assert status == 200
    assert result["status"] == "ok"
    assert result["redacted_body"]["messages"][0]["content"] == REFERENCE_MASKED
    assert result["diagnostics"]["detector"] == "azure"
    assert result["diagnostics"]["api_version"] == "2025-11-01"
    assert result["diagnostics"]["correlation_id"] == "req-1"
    stats = await emulator.stats()
    assert stats["requests"] == 1
    assert stats["calls"][0]["api_version"] == "2025-11-01"


async def test_everything_not_scanned_comes_back_equal(local_service: Client) -> None:
    body = {
        "model": "gpt-4o",
        "temperature": 0.2,
        "messages": [
            {"role": "system", "content": "Escalate to ops@example.com"},
            {"role": "user", "content": "Mail me at bob@example.com", "name": "bob"},
        ],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
        "metadata": {"a": [1, 2.5, None, True]},
    }
    _, result = await post_redact(local_service, body)
    redacted = result["redacted_body"]
    assert list(redacted) == list(body)
    assert redacted["messages"][0] == body["messages"][0]
    assert redacted["messages"][1]["content"] == "Mail me at ###############"
    assert {k: v for k, v in redacted.items() if k != "messages"} == {
        k: v for k, v in body.items() if k != "messages"
    }


@pytest.mark.parametrize(
    ("roles", "scanned"),
    [
        (None, {"user", "assistant", "tool", "function"}),
        (["user"], {"user"}),
        (["system", "developer"], {"system", "developer"}),
        (["tool"], {"tool", "function"}),
    ],
)
async def test_scan_roles(
    local_service: Client, roles: list[str] | None, scanned: set[str]
) -> None:
    all_roles = ["system", "developer", "user", "assistant", "tool", "function"]
    body = {"messages": [{"role": r, "content": f"{r} x@example.com"} for r in all_roles]}
    config = {} if roles is None else {"scan_roles": roles}
    _, result = await post_redact(local_service, body, **config)
    for message in result["redacted_body"]["messages"]:
        masked = "x@example.com" not in message["content"]
        assert masked == (message["role"] in scanned), message["role"]


async def test_content_parts_and_media(local_service: Client) -> None:
    image = {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"},
    }
    audio = {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
    body = {
        "messages": [
            {
                "role": "user",
                "content": [{"type": "text", "text": "SSN 123-45-6789"}, image, audio],
            }
        ]
    }
    _, result = await post_redact(local_service, body)
    parts = result["redacted_body"]["messages"][0]["content"]
    assert parts[0] == {"type": "text", "text": "SSN ###########"}
    assert parts[1:] == [image, audio]


async def test_tool_call_arguments_stay_valid_json(local_service: Client) -> None:
    arguments = json.dumps({"to": "carol@example.com", "count": 3, "cc": ["dan@example.com"]})
    body = {
        "messages": [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "send", "arguments": arguments},
                    },
                    {
                        "id": "c2",
                        "type": "function",
                        "function": {"name": "raw", "arguments": "call 123-45-6789"},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "sent to carol@example.com"},
        ]
    }
    _, result = await post_redact(local_service, body)
    message = result["redacted_body"]["messages"][0]
    assert message["content"] is None
    decoded = json.loads(message["tool_calls"][0]["function"]["arguments"])
    assert decoded == {"to": "#################", "count": 3, "cc": ["###############"]}
    assert message["tool_calls"][1]["function"]["arguments"] == "call ###########"
    assert message["tool_calls"][0]["function"]["name"] == "send"
    assert result["redacted_body"]["messages"][1]["content"] == "sent to #################"


async def test_unchanged_tool_arguments_keep_their_exact_bytes(local_service: Client) -> None:
    arguments = '{ "city" :"Paris" }'
    body = {
        "messages": [
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "c",
                        "type": "function",
                        "function": {"name": "w", "arguments": arguments},
                    }
                ],
            }
        ]
    }
    _, result = await post_redact(local_service, body)
    assert result["redacted_body"] == body


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"model": "m", "input": "mail x@example.com"}, ["input"]),
        (
            {
                "input": [
                    {"role": "user", "content": [{"type": "input_text", "text": "x@example.com"}]}
                ]
            },
            ["input", 0, "content", 0, "text"],
        ),
        (
            {
                "input": [
                    {
                        "role": "assistant",
                        "content": [{"type": "output_text", "text": "x@example.com"}],
                    }
                ]
            },
            ["input", 0, "content", 0, "text"],
        ),
        (
            {
                "input": [
                    {"type": "function_call_output", "call_id": "c", "output": "x@example.com"}
                ]
            },
            ["input", 0, "output"],
        ),
        ({"model": "m", "prompt": "x@example.com"}, ["prompt"]),
        ({"prompt": ["a", "x@example.com"]}, ["prompt", 1]),
        ({"model": "text-embedding-3-small", "input": ["x@example.com"]}, ["input", 0]),
        (
            {"query": {"free_text": "x@example.com", "type": "x@example.com"}},
            ["query", "free_text"],
        ),
    ],
)
async def test_other_body_shapes(
    local_service: Client, body: dict[str, Any], path: list[Any]
) -> None:
    status, result = await post_redact(local_service, body)
    assert status == 200
    value: Any = result["redacted_body"]
    for key in path:
        value = value[key]
    assert "x@example.com" not in value
    assert value.count("#") == len("x@example.com")


async def test_unknown_body_keeps_structural_values_of_their_shape_only(
    local_service: Client,
) -> None:
    body = {
        "query": {"text": "x@example.com", "type": "search", "id": "call_1"},
        "other": {"type": "x@example.com", "id": "x@example.com"},
    }
    _, result = await post_redact(local_service, body)
    assert result["redacted_body"]["query"] == {"text": "#" * 13, "type": "search", "id": "call_1"}
    assert result["redacted_body"]["other"] == {"type": "#" * 13, "id": "#" * 13}


async def test_unicode_is_masked_at_exactly_the_right_characters(local_service: Client) -> None:
    emails = ["山田@example.com", "yamada@example.jp", "zoë@exämple.de"]
    text = f"👩‍👩‍👧 Zoë (e\u0301) 日本語 mail: {emails[0]}? no: {emails[1]} 👍🏽 or {emails[2]} ✓"
    _, result = await post_redact(local_service, _chat(text))
    masked = result["redacted_body"]["messages"][0]["content"]
    expected = text
    for email in emails:
        expected = expected.replace(email, "#" * len(email))
    assert masked == expected


async def test_long_text_is_chunked_and_reassembled(local_service: Client) -> None:
    paragraph = "Nothing personal in this sentence at all. " * 30
    text = "\n\n".join([paragraph] * 12) + " Reach me at zed@example.com."
    status, result = await post_redact(local_service, _chat(text))
    assert status == 200
    masked = result["redacted_body"]["messages"][0]["content"]
    assert masked == text.replace("zed@example.com", "#" * 15)
    assert result["diagnostics"]["total_docs"] >= -(-len(text) // 5000)


async def test_batches_hold_at_most_five_documents(
    make_service: ServiceFactory, emulator: Emulator
) -> None:
    service = await make_service(
        language_endpoint=emulator.url,
        language_api_key="emulator-key",
        pii_packing_enabled=False,
        pii_cache_enabled=False,
    )
    body = _chat(*[f"message {i} from u{i}@example.com" for i in range(12)])
    _, result = await post_redact(service, body)
    assert result["status"] == "ok"
    # 12 messages; the seams between them are read in process, not sent
    assert result["diagnostics"]["batches"] == 3
    calls = (await emulator.stats())["calls"]
    assert sorted(call["documents"] for call in calls) == [2, 5, 5]
    for message in result["redacted_body"]["messages"]:
        assert "@example.com" not in message["content"]


async def test_too_many_documents_is_413_before_any_call(
    make_service: ServiceFactory, emulator: Emulator
) -> None:
    service = await make_service(
        language_endpoint=emulator.url, language_api_key="emulator-key", pii_max_batches=2
    )
    status, result = await post_redact(service, _chat(*["word " * 800] * 11))
    assert status == 413
    assert result["status"] == "error"
    assert result["error"]["code"] == "PayloadTooLarge"
    assert (await emulator.stats())["requests"] == 0


async def test_429_with_retry_after_then_success(azure_service: Client, emulator: Emulator) -> None:
    await emulator.inject({"kind": "status", "status": 429, "headers": {"Retry-After": "0.2"}})
    status, result = await post_redact(azure_service, REFERENCE_BODY)
    assert status == 200
    assert result["status"] == "ok"
    assert result["diagnostics"]["attempts"] == 2
    assert result["diagnostics"]["retries"] == 1
    assert result["diagnostics"]["duration_ms"] >= 200


@pytest.mark.parametrize("code", [500, 502, 503, 504])
async def test_5xx_backoff_then_success(
    azure_service: Client, emulator: Emulator, code: int
) -> None:
    await emulator.inject({"kind": "status", "status": code, "times": 2})
    status, result = await post_redact(azure_service, REFERENCE_BODY)
    assert (status, result["status"]) == (200, "ok")
    assert result["diagnostics"]["attempts"] == 3
    assert (await emulator.stats())["requests"] == 3


async def test_4xx_is_not_retried(azure_service: Client, emulator: Emulator) -> None:
    await emulator.inject({"kind": "status", "status": 403})
    status, result = await post_redact(azure_service, REFERENCE_BODY, fail_closed=True)
    assert status == 503
    assert result["error"]["reason"] == "http-403"
    assert (await emulator.stats())["requests"] == 1


async def test_hang_hits_the_attempt_timeout_then_succeeds(
    azure_service: Client, emulator: Emulator
) -> None:
    await emulator.inject({"kind": "hang", "seconds": 3})
    status, result = await post_redact(azure_service, REFERENCE_BODY)
    assert (status, result["status"]) == (200, "ok")
    assert result["diagnostics"]["attempts"] == 2
    assert result["redacted_body"]["messages"][0]["content"] == REFERENCE_MASKED


async def test_the_deadline_ends_the_request(
    make_service: ServiceFactory, emulator: Emulator
) -> None:
    service = await make_service(
        language_endpoint=emulator.url,
        language_api_key="emulator-key",
        pii_deadline_s=1.5,
        pii_attempt_timeout_s=1.0,
        pii_max_attempts=10,
    )
    await emulator.inject({"kind": "hang", "seconds": 60, "times": None})
    status, result = await post_redact(service, REFERENCE_BODY, fail_closed=True)
    assert status == 503
    assert result["error"]["reason"] == "deadline"
    assert "redacted_body" not in result
    # Attempts fit in the deadline: at most one full attempt and one cut short, never ten.
    assert result["diagnostics"]["attempts"] <= 2
    # Ended by the deadline, not by the hang (60 s) or ten attempt timeouts (10 s).
    assert result["diagnostics"]["duration_ms"] < 8_000


async def test_retry_after_beyond_the_deadline_gives_up_at_once(
    make_service: ServiceFactory, emulator: Emulator
) -> None:
    service = await make_service(
        language_endpoint=emulator.url, language_api_key="emulator-key", pii_deadline_s=20
    )
    await emulator.inject({"kind": "status", "status": 429, "headers": {"Retry-After": "30"}})
    status, result = await post_redact(service, REFERENCE_BODY)
    assert status == 200
    assert result["status"] == "partial"
    assert result["diagnostics"]["failure_reason"] == "deadline"
    assert result["diagnostics"]["attempts"] == 1
    # At once: waiting for the deadline (20 s) or the Retry-After (30 s) would take far longer.
    assert result["diagnostics"]["duration_ms"] < 10_000
    assert (await emulator.stats())["requests"] == 1


FAULTS = [
    pytest.param({"kind": "drop_document", "times": None}, "incomplete-coverage", id="missing"),
    pytest.param({"kind": "document_error", "times": None}, "document-error", id="doc-error"),
    pytest.param({"kind": "malformed", "times": None}, "invalid-response", id="malformed"),
]


@pytest.mark.parametrize(("fault", "reason"), FAULTS)
async def test_unscanned_document_fail_open_is_partial(
    azure_service: Client, emulator: Emulator, fault: dict[str, Any], reason: str
) -> None:
    await emulator.inject(fault)
    body = _chat("first: a@example.com", f"second: {SECRET_SSN}")
    status, result = await post_redact(azure_service, body)
    assert status == 200
    assert result["status"] == "partial"
    assert result["full_coverage"] is False
    assert result["diagnostics"]["failure_reason"] == reason
    assert result["diagnostics"]["unscanned_docs"] >= 1
    assert result["diagnostics"]["unscanned_paths"]


@pytest.mark.parametrize(("fault", "reason"), FAULTS)
async def test_unscanned_document_fail_closed_is_503_without_body(
    azure_service: Client, emulator: Emulator, fault: dict[str, Any], reason: str
) -> None:
    await emulator.inject(fault)
    body = _chat("first: a@example.com", f"second: {SECRET_SSN}")
    response = await azure_service.post(
        "/redact", json={"body": body, "config": {"fail_closed": True}}
    )
    raw = await response.text()
    assert response.status == 503
    result = json.loads(raw)
    assert result["status"] == "error"
    assert result["full_coverage"] is False
    assert result["error"]["code"] == "PiiRedactionFailed"
    assert result["error"]["reason"] == reason
    assert "redacted_body" not in result
    assert SECRET_SSN not in raw
    assert "a@example.com" not in raw


async def test_transient_missing_document_is_retried(
    azure_service: Client, emulator: Emulator
) -> None:
    await emulator.inject({"kind": "drop_document"})
    status, result = await post_redact(azure_service, _chat("a@example.com", SECRET_SSN))
    assert (status, result["status"]) == (200, "ok")
    assert result["diagnostics"]["attempts"] == 2


async def test_excluded_categories_are_left_alone(local_service: Client) -> None:
    _, result = await post_redact(local_service, REFERENCE_BODY, excluded_categories=["Email"])
    assert result["redacted_body"]["messages"][0]["content"] == (
        "My email is alice@example.com and my SSN is ###########"
    )
    assert result["diagnostics"]["categories"] == {"USSocialSecurityNumber": 1}


async def test_redaction_character(local_service: Client) -> None:
    _, result = await post_redact(local_service, REFERENCE_BODY, redaction_character="*")
    assert result["redacted_body"]["messages"][0]["content"] == REFERENCE_MASKED.replace("#", "*")


async def test_whitespace_only_texts_need_no_document(
    azure_service: Client, emulator: Emulator
) -> None:
    status, result = await post_redact(azure_service, _chat("   ", "\n\t"))
    assert (status, result["status"], result["full_coverage"]) == (200, "ok", True)
    assert result["diagnostics"]["total_docs"] == 0
    assert (await emulator.stats())["requests"] == 0


@pytest.mark.parametrize(
    ("raw", "headers", "status", "code"),
    [
        (b"not json", {"Content-Type": "application/json"}, 400, "InvalidRequest"),
        (b"[1, 2]", {"Content-Type": "application/json"}, 400, "InvalidRequest"),
        (b'{"body": "text"}', {"Content-Type": "application/json"}, 400, "InvalidRequest"),
        (
            b'{"body": {}, "config": {"fail_closed": 1}}',
            {"Content-Type": "application/json"},
            400,
            "InvalidRequest",
        ),
        (
            b'{"body": {}, "config": {"excluded_categories": ["Nope"]}}',
            {"Content-Type": "application/json"},
            400,
            "InvalidRequest",
        ),
        (
            b'{"body": {}, "config": {"redaction_character": "##"}}',
            {"Content-Type": "application/json"},
            400,
            "InvalidRequest",
        ),
        (
            b'{"body": {}, "config": {"surprise": true}}',
            {"Content-Type": "application/json"},
            400,
            "InvalidRequest",
        ),
        (b'{"body": {}, "body": {}}', {"Content-Type": "application/json"}, 400, "InvalidRequest"),
        (b'{"body": {"x": NaN}}', {"Content-Type": "application/json"}, 400, "InvalidRequest"),
        (
            b'{"body": {"x": "\\ud800"}}',
            {"Content-Type": "application/json"},
            400,
            "InvalidRequest",
        ),
        (b"\xff\xfe", {"Content-Type": "application/json"}, 400, "InvalidRequest"),
        (b'{"body": {}}', {"Content-Type": "text/plain"}, 415, "UnsupportedMediaType"),
        (
            b'{"body": {}}',
            {"Content-Type": "application/json", "Content-Encoding": "gzip"},
            415,
            "UnsupportedMediaType",
        ),
    ],
)
async def test_bad_requests(
    local_service: Client, raw: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    response = await local_service.post("/redact", data=raw, headers=headers)
    assert response.status == status
    result = await response.json()
    assert result["status"] == "error"
    assert result["error"]["code"] == code
    assert result["error"]["message"]


async def test_bad_request_names_the_field_and_never_echoes_its_value(
    local_service: Client,
) -> None:
    payload = {"body": {}, "config": {"detection_language": "alice@example.com 123-45-6789"}}
    response = await local_service.post("/redact", json=payload)
    raw = await response.text()
    assert response.status == 400
    assert "config.detection_language" in raw
    assert "alice" not in raw
    assert "123-45" not in raw


@pytest.mark.parametrize(
    ("config", "suggested"),
    [
        ({"fial_closed": True}, "config.fail_closed"),
        ({"excluded_category": ["Email"]}, "config.excluded_categories"),
        ({"redaction_charater": "*"}, "config.redaction_character"),
        (
            {"custom_patterns": [{"name": "t", "pattern": "x", "category": "T", "scroe": 0.9}]},
            "config.custom_patterns.0.score",
        ),
    ],
)
async def test_a_misspelt_field_is_refused_with_the_known_name_it_resembles(
    local_service: Client, config: dict[str, Any], suggested: str
) -> None:
    response = await local_service.post("/redact", json={"body": {}, "config": config})
    raw = await response.text()
    assert response.status == 400
    result = json.loads(raw)
    assert f"did you mean {suggested}?" in result["error"]["message"]
    assert [d["did_you_mean"] for d in result["error"]["details"]] == [suggested]
    misspelt = next(iter(config)) if "custom_patterns" not in config else "scroe"
    assert misspelt not in raw  # the caller's key may be data: never repeated


async def test_an_unknown_field_like_no_known_name_gets_no_suggestion(
    local_service: Client,
) -> None:
    config = {"alice@example.com": True, "fail_closed_for_bob_smith": True}
    response = await local_service.post("/redact", json={"body": {}, "config": config})
    raw = await response.text()
    assert response.status == 400
    assert "did_you_mean" not in raw
    assert "did you mean" not in raw
    assert "alice" not in raw
    assert "bob_smith" not in raw


async def test_unknown_category_lists_the_valid_names(local_service: Client) -> None:
    status, result = await post_redact(local_service, {}, excluded_categories=["Email", "Nope"])
    assert status == 400
    detail = result["error"]["details"][0]
    assert detail["positions"] == [1]
    assert "Email" in detail["valid"]
    assert "Nope" not in json.dumps(result)


async def test_oversized_body_is_413(make_service: ServiceFactory) -> None:
    service = await make_service(pii_detector="local", pii_max_body_bytes=2048)
    status, result = await post_redact(service, _chat("x" * 4096))
    assert status == 413
    assert result["error"]["code"] == "PayloadTooLarge"


async def test_health(local_service: Client) -> None:
    response = await local_service.get("/health")
    assert response.status == 200
    result = await response.json()
    assert result["status"] == "healthy"
    assert result["detector"] == "local"
    assert result["api_version"] is None
    assert "Email" in result["categories"]


async def test_deep_health_round_trips_through_language(
    azure_service: Client, emulator: Emulator
) -> None:
    response = await azure_service.get("/health", params={"deep": "true"})
    result = await response.json()
    assert response.status == 200
    assert result["detector"] == "azure"
    assert result["round_trip_ms"] >= 0
    assert (await emulator.stats())["requests"] == 1


async def test_deep_health_reports_an_unreachable_language(make_service: ServiceFactory) -> None:
    service = await make_service(
        language_endpoint="http://127.0.0.1:9", language_api_key="k", pii_max_attempts=1
    )
    response = await service.get("/health", params={"deep": "true"})
    assert response.status == 503
    result = await response.json()
    assert result["status"] == "unhealthy"
    assert "connection-error" in result["reason"]


async def test_wrong_language_key_is_a_credential_failure(
    make_service: ServiceFactory, emulator: Emulator
) -> None:
    service = await make_service(language_endpoint=emulator.url, language_api_key="wrong")
    status, result = await post_redact(service, REFERENCE_BODY, fail_closed=True)
    assert status == 503
    assert result["error"]["reason"] == "http-401"


async def test_function_key_is_required_when_set(make_service: ServiceFactory) -> None:
    service = await make_service(pii_detector="local", redaction_api_key="s3cret")
    assert (await service.post("/redact", json={"body": {}})).status == 401
    wrong = await service.post("/redact", json={"body": {}}, headers={"x-functions-key": "nope"})
    assert wrong.status == 401
    right = await service.post("/redact", json={"body": {}}, headers={"x-functions-key": "s3cret"})
    assert right.status == 200
    assert (await service.get("/health")).status == 200


async def test_the_service_survives_bad_input(local_service: Client) -> None:
    await local_service.post("/redact", data=b"{", headers={"Content-Type": "application/json"})
    status, result = await post_redact(local_service, REFERENCE_BODY)
    assert (status, result["status"]) == (200, "ok")


@pytest.mark.parametrize("detector", ["local", "azure"])
@pytest.mark.parametrize(
    ("fail_closed", "status", "outcome"), [(False, 200, "partial"), (True, 503, "error")]
)
async def test_a_prompt_of_token_ids_is_never_called_covered(
    make_service: ServiceFactory,
    emulator: Emulator,
    detector: str,
    fail_closed: bool,
    status: int,
    outcome: str,
) -> None:
    """Token ids stand for text the model reads and no detector here can: never `ok`."""
    settings = (
        {"pii_detector": "local"}
        if detector == "local"
        else {"language_endpoint": emulator.url, "language_api_key": "emulator-key"}
    )
    service = await make_service(**settings)
    body = {"model": "text-embedding-3-small", "input": [[9906, 11, 856, 2613, 374]]}
    answer_status, result = await post_redact(service, body, fail_closed=fail_closed)
    assert (answer_status, result["status"], result["full_coverage"]) == (status, outcome, False)
    assert result["diagnostics"]["failure_reason"] == "token-ids"
    assert result["diagnostics"]["unscanned_paths"] == ["/input/0"]
