"""Restore tokens and restoring answers: pure tests first, then ``/redact`` in placeholder mode and
``/restore`` over real HTTP on the embedded and the emulator-backed detector."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from redaction.placeholders.restore import Placeholders, restore_body, restore_text
from redaction.placeholders.sealing import (
    TOKEN_PROBLEM,
    InvalidRestoreTokenError,
    Sealer,
    decode_key,
    key_id,
)
from redaction.settings import Settings
from tests.conftest import REFERENCE_BODY, Emulator, ServiceFactory, post_redact

Client = TestClient[Any, Any]
KEY = bytes(range(32))
OLD_KEY = bytes(range(1, 33))
KEY_B64 = base64.b64encode(KEY).decode()
OLD_KEY_B64 = base64.b64encode(OLD_KEY).decode()
MAPPING = {"<Person_123456>": 'Alice O\'Brien "AO"', "<Email_654321>": "alice@example.com"}


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# --- sealing -----------------------------------------------------------------------------------


def test_a_token_opens_for_its_tenant_and_request_only() -> None:
    sealer = Sealer(KEY)
    token = sealer.seal(MAPPING, "tenant-a", "req-1")
    assert token.startswith(f"pr1.{key_id(KEY)}.")
    assert "alice" not in token.lower()
    assert sealer.open(token, "tenant-a", "req-1") == MAPPING
    for tenant, correlation in [("tenant-b", "req-1"), ("tenant-a", "req-2"), (None, None)]:
        with pytest.raises(InvalidRestoreTokenError):
            sealer.open(token, tenant, correlation)


def test_expired_tokens_are_refused() -> None:
    clock = Clock()
    sealer = Sealer(KEY, ttl_s=60, clock=clock)
    token = sealer.seal(MAPPING, "t", "r")
    clock.now += 59
    assert sealer.open(token, "t", "r") == MAPPING
    clock.now += 1
    with pytest.raises(InvalidRestoreTokenError):
        sealer.open(token, "t", "r")


def tampered(token: str) -> list[str]:
    version, kid, blob = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4)))
    variants = []
    for index in (0, 12, len(raw) // 2, len(raw) - 1):
        flipped = bytearray(raw)
        flipped[index] ^= 1
        variants.append(f"{version}.{kid}.{base64.urlsafe_b64encode(flipped).decode()}")
    short = base64.urlsafe_b64encode(raw[:20]).decode()
    return [
        *variants,
        f"pr2.{kid}.{blob}",
        f"{version}.{key_id(OLD_KEY)}.{blob}",
        f"{version}.{kid}.{short}",
        f"{version}.{kid}.!!!",
        f"{version}.{kid}",
        "",
        "x" * 100,
    ]


def test_tampered_and_malformed_tokens_are_refused_alike() -> None:
    sealer = Sealer(KEY)
    token = sealer.seal(MAPPING, "t", "r")
    for bad in tampered(token):
        with pytest.raises(InvalidRestoreTokenError) as caught:
            sealer.open(bad, "t", "r")
        assert caught.value.message == TOKEN_PROBLEM


def test_rotation_previous_keys_open_and_only_the_current_one_seals() -> None:
    old = Sealer(OLD_KEY)
    rotated = Sealer(KEY, previous=[OLD_KEY])
    in_flight = old.seal(MAPPING, "t", "r")
    assert rotated.open(in_flight, "t", "r") == MAPPING
    assert rotated.seal(MAPPING, "t", "r").split(".")[1] == key_id(KEY)
    with pytest.raises(InvalidRestoreTokenError):
        Sealer(KEY).open(in_flight, "t", "r")


def test_keys_are_base64_of_32_bytes_and_bad_ones_turn_placeholder_mode_off() -> None:
    assert decode_key(KEY_B64) == KEY
    assert decode_key(base64.urlsafe_b64encode(KEY).decode().rstrip("=")) == KEY
    for bad in ["", "abc", base64.b64encode(b"x" * 16).decode(), KEY_B64 + "!"]:
        with pytest.raises(ValueError, match="must"):
            decode_key(bad)
    settings = Settings(pii_restore_key=KEY_B64, pii_restore_keys_previous=OLD_KEY_B64)
    assert settings.restore_keys == (KEY, OLD_KEY)
    # not a start-up failure: placeholder mode and /restore are off (tests/test_degraded.py)
    bad = Settings(pii_restore_key="not-a-key")
    assert bad.restore_keys == ()
    assert bad.placeholder_problem is not None
    assert bad.placeholder_problem.startswith("PII_RESTORE_KEY is not a usable key")


@pytest.mark.parametrize("length", [0, 16, 24, 31, 33, 64])
def test_a_sealer_refuses_a_key_that_is_not_32_bytes(length: int) -> None:
    # AESGCM itself would take 16 or 24 bytes and seal with a weaker cipher without a word.
    wrong = bytes(range(length))
    for make in (lambda: Sealer(wrong), lambda: Sealer(KEY, previous=[wrong])):
        with pytest.raises(ValueError, match="must be 32 bytes"):
            make()


def test_a_sealer_refuses_the_base64_text_of_a_key() -> None:
    """The mistake the streaming example invites: the setting's text instead of its bytes."""
    with pytest.raises(ValueError, match="decode_key"):
        Sealer(KEY_B64.encode())
    assert Sealer(decode_key(KEY_B64)).open(Sealer(KEY).seal(MAPPING, "t", "r"), "t", "r")


# --- restoring bodies ---------------------------------------------------------------------------

PLACEHOLDERS = Placeholders(MAPPING)
NAME = MAPPING["<Person_123456>"]


@pytest.mark.parametrize(
    "altered",
    [
        "<Person_123456>",
        "<person_123456>",
        "Person_123456",
        "<Person 123456>",
        "< Person_123456 >",
        "<PERSON-123456>",
        "[Person_123456]",
        "Person123456",
    ],
)
def test_placeholders_the_model_altered_are_restored(altered: str) -> None:
    assert restore_text(f"Hi {altered}, bye", PLACEHOLDERS) == (f"Hi {NAME}, bye", 1)


@pytest.mark.parametrize(
    "text",
    ["<Person_999999>", "<Organization_123456>", "Person_1234567", "xPerson_123456", "<Person_>"],
)
def test_unknown_placeholders_and_lookalikes_are_left_alone(text: str) -> None:
    assert restore_text(text, PLACEHOLDERS) == (text, 0)


def test_chat_completion_answer_is_restored_with_arguments_kept_valid_json() -> None:
    arguments = json.dumps({"to": "<Email_654321>", "greeting": "Dear <Person_123456>"})
    answer = {
        "id": "chatcmpl-<Person_123456>",
        "object": "chat.completion",
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Writing to <person_123456> now.",
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "send_mail", "arguments": arguments},
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"total_tokens": 5},
    }
    restored, count = restore_body(answer, PLACEHOLDERS)
    assert count == 3
    message = restored["choices"][0]["message"]
    assert message["content"] == f"Writing to {NAME} now."
    assert json.loads(message["tool_calls"][0]["function"]["arguments"]) == {
        "to": "alice@example.com",
        "greeting": f"Dear {NAME}",
    }
    assert restored["id"] == answer["id"]
    assert answer["choices"][0]["message"]["content"] == "Writing to <person_123456> now."  # type: ignore[index]


def test_responses_api_output_items_are_restored() -> None:
    answer = {
        "object": "response",
        "output": [
            {
                "type": "message",
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": "Hello Person_123456", "annotations": []}
                ],
            },
            {
                "type": "function_call",
                "call_id": "c1",
                "name": "lookup",
                "arguments": '{"email":"<Email_654321>"}',
            },
        ],
    }
    restored, count = restore_body(answer, PLACEHOLDERS)
    assert count == 2
    assert restored["output"][0]["content"][0]["text"] == f"Hello {NAME}"
    assert json.loads(restored["output"][1]["arguments"]) == {"email": "alice@example.com"}


def test_json_content_stays_json_when_an_original_needs_escaping() -> None:
    content = '{"name": "<Person_123456>", "lines": ["<Email_654321>"]}'
    restored, _ = restore_text(content, PLACEHOLDERS)
    assert json.loads(restored) == {"name": NAME, "lines": ["alice@example.com"]}


# --- over HTTP ----------------------------------------------------------------------------------

SECRETS = ["alice@example.com", "123-45-6789", "bob@example.org"]


async def placeholder_service(make_service: ServiceFactory, **overrides: Any) -> Client:
    return await make_service(pii_restore_key=KEY_B64, **overrides)


async def post_restore(
    client: Client, body: dict[str, Any], token: str, **config: Any
) -> tuple[int, dict[str, Any]]:
    payload: dict[str, Any] = {"body": body, "restore_token": token}
    if config:
        payload["config"] = config
    response = await client.post("/restore", json=payload)
    result: dict[str, Any] = await response.json()
    return response.status, result


def conversation(*turns: str) -> dict[str, Any]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": "You help with mail."}]
    for index, text in enumerate(turns):
        role = "user" if index % 2 == 0 else "assistant"
        messages.append({"role": role, "content": text})
    return {"model": "gpt-4o", "messages": messages}


def answer_echoing(text: str) -> dict[str, Any]:
    return {
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}}],
    }


@pytest.fixture(params=["local", "azure"])
async def placeholder_client(
    request: pytest.FixtureRequest, make_service: ServiceFactory, emulator: Emulator
) -> Client:
    if request.param == "local":
        return await placeholder_service(make_service, pii_detector="local")
    return await placeholder_service(
        make_service, language_endpoint=emulator.url, language_api_key="emulator-key"
    )


async def test_placeholder_round_trip_over_http(
    placeholder_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = {
        "messages": [
            {"role": "user", "content": "Mail alice@example.com, SSN 123-45-6789."},
            {"role": "user", "content": [{"type": "text", "text": "Again: alice@example.com"}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {
                            "name": "send",
                            "arguments": json.dumps({"to": "alice@example.com", "cc": 'a"b'}),
                        },
                    }
                ],
            },
        ]
    }
    status, result = await post_redact(
        placeholder_client, body, mask_style="placeholder", correlation_id="req-1"
    )
    assert status == 200, result
    assert result["status"] == "ok"
    token = result["restore_token"]
    redacted = result["redacted_body"]
    first = redacted["messages"][0]["content"]
    email = first.split()[1].rstrip(",")
    assert email.startswith("<Email_")
    assert "<USSocialSecurityNumber_" in first
    assert redacted["messages"][1]["content"][0]["text"] == f"Again: {email}"
    arguments = json.loads(redacted["messages"][2]["tool_calls"][0]["function"]["arguments"])
    assert arguments == {"to": email, "cc": 'a"b'}
    visible = json.dumps({k: v for k, v in result.items() if k != "restore_token"})
    for secret in SECRETS:
        assert secret not in visible

    echoed = answer_echoing(f"I wrote to {email.lower()} about {first}")
    status, restored = await post_restore(placeholder_client, echoed, token, correlation_id="req-1")
    assert status == 200, restored
    content = restored["restored_body"]["choices"][0]["message"]["content"]
    assert content == "I wrote to alice@example.com about Mail alice@example.com, SSN 123-45-6789."
    assert restored["restored"] == 3
    for record in caplog.records:
        text = record.getMessage() + json.dumps(record.__dict__, default=str)
        for secret in SECRETS:
            assert secret not in text


async def test_same_value_same_placeholder_across_turns(make_service: ServiceFactory) -> None:
    client = await placeholder_service(make_service, pii_detector="local")
    turn_one = conversation("Contact alice@example.com please")
    turn_two = conversation(
        "Contact alice@example.com please",
        "Done, I contacted alice@example.com.",
        "Now bob@example.org, and alice@example.com again",
    )
    _, one = await post_redact(client, turn_one, mask_style="placeholder")
    _, two = await post_redact(client, turn_two, mask_style="placeholder")
    alice = one["redacted_body"]["messages"][1]["content"].split()[1]
    messages = two["redacted_body"]["messages"]
    assert messages[1]["content"] == f"Contact {alice} please"
    assert messages[2]["content"] == f"Done, I contacted {alice}."
    last = messages[3]["content"]
    bob = last.split()[1].rstrip(",")
    assert last == f"Now {bob}, and {alice} again"
    assert bob != alice
    _, named = await post_redact(
        client, turn_one, mask_style="placeholder", conversation_id="conv-1"
    )
    _, named_again = await post_redact(
        client,
        conversation("other opening", "x", "alice@example.com"),
        **{"mask_style": "placeholder", "conversation_id": "conv-1"},
    )
    named_alice = named["redacted_body"]["messages"][1]["content"].split()[1]
    assert named_again["redacted_body"]["messages"][3]["content"] == named_alice


async def test_bad_tokens_are_a_400_that_reveals_nothing(make_service: ServiceFactory) -> None:
    client = await placeholder_service(make_service, pii_detector="local")
    _, result = await post_redact(
        client,
        REFERENCE_BODY,
        mask_style="placeholder",
        correlation_id="req-1",
        subscription_id="tenant-a",
    )
    token = result["restore_token"]
    answer = answer_echoing("ok")
    cases: list[tuple[str, dict[str, Any]]] = [
        (token, {"correlation_id": "req-2", "subscription_id": "tenant-a"}),
        (token, {"correlation_id": "req-1", "subscription_id": "tenant-b"}),
        (token, {"correlation_id": "req-1"}),
        *[
            (bad, {"correlation_id": "req-1", "subscription_id": "tenant-a"})
            for bad in tampered(token)[:6]
        ],
    ]
    answers = []
    for bad, config in cases:
        status, body = await post_restore(client, answer, bad, **config)
        assert status == 400, (bad, config)
        assert body["error"]["code"] == "InvalidRestoreToken"
        answers.append(json.dumps(body["error"]))
    assert len(set(answers)) == 1
    for secret in SECRETS:
        assert secret not in answers[0]
    status, _ = await post_restore(
        client, answer, token, correlation_id="req-1", subscription_id="tenant-a"
    )
    assert status == 200


async def test_expired_tokens_are_a_400_over_http(make_service: ServiceFactory) -> None:
    client = await placeholder_service(make_service, pii_detector="local")
    expired = Sealer(KEY, ttl_s=60, clock=Clock(0.0)).seal(MAPPING, None, "req-1")
    status, result = await post_restore(
        client, answer_echoing("<Email_654321>"), expired, correlation_id="req-1"
    )
    assert status == 400
    assert result["error"]["message"] == TOKEN_PROBLEM
    fresh = Sealer(KEY).seal(MAPPING, None, "req-1")
    status, result = await post_restore(
        client, answer_echoing("<Email_654321>"), fresh, correlation_id="req-1"
    )
    assert result["restored_body"]["choices"][0]["message"]["content"] == "alice@example.com"


async def test_rotated_key_still_restores_tokens_in_flight(make_service: ServiceFactory) -> None:
    old = await make_service(pii_detector="local", pii_restore_key=OLD_KEY_B64)
    _, result = await post_redact(old, REFERENCE_BODY, mask_style="placeholder")
    email = result["redacted_body"]["messages"][0]["content"].split()[3]
    rotated = await make_service(
        pii_detector="local", pii_restore_key=KEY_B64, pii_restore_keys_previous=OLD_KEY_B64
    )
    status, restored = await post_restore(rotated, answer_echoing(email), result["restore_token"])
    assert status == 200
    assert restored["restored_body"]["choices"][0]["message"]["content"] == "alice@example.com"


async def test_placeholder_mode_without_a_key_is_a_503(local_service: Client) -> None:
    status, result = await post_redact(local_service, REFERENCE_BODY, mask_style="placeholder")
    assert status == 503
    assert result["error"]["code"] == "ServiceMisconfigured"
    assert "PII_RESTORE_KEY" in result["error"]["message"]
    status, result = await post_restore(local_service, answer_echoing("x"), "pr1.a.b")
    assert status == 503


async def test_character_mode_is_unchanged_and_issues_no_token(
    make_service: ServiceFactory,
) -> None:
    client = await placeholder_service(make_service, pii_detector="local")
    _, result = await post_redact(client, REFERENCE_BODY)
    assert "restore_token" not in result
    assert "#" in result["redacted_body"]["messages"][0]["content"]
    _, nothing = await post_redact(
        client, {"messages": [{"role": "user", "content": "no data"}]}, mask_style="placeholder"
    )
    assert "restore_token" not in nothing


async def test_malformed_restore_requests_are_400_naming_fields(
    make_service: ServiceFactory,
) -> None:
    client = await placeholder_service(make_service, pii_detector="local")
    for payload in [
        {"body": {}, "restore_token": ""},
        {"body": "alice@example.com", "restore_token": "x"},
        {"body": {}},
        {"body": {}, "restore_token": "x", "config": {"alice@example.com": 1}},
    ]:
        response = await client.post("/restore", json=payload)
        assert response.status == 400
        assert "alice" not in await response.text()


async def test_a_misspelt_restore_field_suggests_the_known_name(
    make_service: ServiceFactory,
) -> None:
    client = await placeholder_service(make_service, pii_detector="local")
    response = await client.post("/restore", json={"body": {}, "restore_tokn": "x"})
    raw = await response.text()
    assert response.status == 400
    assert "did you mean restore_token?" in json.loads(raw)["error"]["message"]
    assert "restore_tokn" not in raw
