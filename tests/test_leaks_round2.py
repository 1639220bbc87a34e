# ruff: noqa: E501  (the corpus keeps one case per line)
"""Leak corpus, round 2: attacks on the default-deny walker, the canonical view and the seams.

Written from outside against commits 7b74ddf, 6966466 and 2cf0701 (issue 12), after the first
round (tests/test_leaks.py, tests/test_leak_properties.py). Every case runs on both detectors:
the embedded one and the Azure path through the emulator, over real HTTP.

Classes:

- ``exempt``: values in exempt slots (``model``, ids, enum tokens) shaped like the slot while
  carrying personal data; and exempt *key names* used outside the request's own structure
  (``metadata``, JSON Schema ``examples``/``default``, bodies of unknown shape), where
  docs/scanning.md promises a scan.
- ``dispatch``: vocabulary keys whose value is routed through the conversation logic wherever
  they appear (``instructions``, ``messages``/``input`` with a ``system`` role, a ``role`` on a
  content part or a Responses output item), so a value under them is never scanned.
- ``url``: URL origins kept verbatim: PII in userinfo (``user@host``) or in the host name.
- ``binary``: base64 in binary slots of tool arguments that decodes to text that is not UTF-8
  (Latin-1) or starts with a control byte: skipped as "binary", yet the model reads base64.
- ``canonical``: disguises the canonical view does not undo (one NBSP in a spelled address,
  encodings deeper than 3 passes, ``\\u{40}``, ``\\U00000040``, base64 without padding or after
  ``=``, base64 of text with a NBSP or mostly punctuation, digit separators ``·``, ``•``,
  ``:``, ``,``, ``'``, scientific notation).
- ``context``: values under common key names (``socialSecurityNumber``, ``phoneNumber``,
  ``phones``, ``{"ssn": {"value": ...}}``) whose key is not read as the context it is.
- ``numbers``: digits of a card in a float beyond 1e19 (harness strictness, see the report).
- ``seams``: an entity longer than the seam window crossing a chunk cut.
- ``structure``: tool-call arguments re-serialised as non-JSON (``Infinity``).
- ``false-positive``: ordinary bodies that must come back unchanged (signed image URLs,
  CDN hosts with digits, tools with schemas, Responses reasoning items, audio).
- ``size``/``performance``: seams that turn a request that fits into a 413, and inputs that
  take far longer than their size suggests.

The reader (``deep_readable``) is the first round's canonical view plus base64 payloads decoded
as UTF-8, Latin-1 or UTF-16 with control characters dropped, and base64 runs right after ``=``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import random
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.test_leaks import (
    CARD,
    EMAIL,
    IBAN,
    NEUTRAL,
    PHONE,
    SSN,
    args,
    canonical,
    chat,
    filler,
    image,
    input_text,
    is_ok,
    needle,
    part,
    readable,
    redact_case,
    responses,
    straddle,
    tool_def,
    user,
    with_call,
)

SAY_EMAIL = f"Please write to {EMAIL} today."
SAY_SSN = f"My SSN is {SSN}."
CARD_DASHED = "4539-1488-0343-6467"
IBAN_DASHED_LOWER = "de89-3704-0044-0532-0130-00"
PHONE_DASHED = "1-425-555-0100"

# --- a reader that also decodes base64 that is not UTF-8 ----------------------------------------

_B64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _decoded_payloads(text: str) -> Iterator[str]:
    """Text a model can get out of each base64 run: as UTF-8, Latin-1 or UTF-16, with control
    characters dropped (a model reading base64 reads them as noise)."""
    for match in _B64_RUN.finditer(text):
        run = match.group().rstrip("=")
        for alphabet in (None, b"-_"):
            try:
                data = base64.b64decode(run + "=" * (-len(run) % 4), altchars=alphabet)
            except (binascii.Error, ValueError):
                continue
            for encoding in ("utf-8", "latin-1", "utf-16"):
                try:
                    decoded = data.decode(encoding)
                except UnicodeDecodeError:
                    continue
                yield _CONTROL.sub("", decoded)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def deep_readable(secrets: Iterable[str], value: Any) -> list[str]:
    """The first round's ``readable``, plus base64 payloads that are not UTF-8 text."""
    secrets = list(secrets)
    found = set(readable(secrets, value))
    extra = "\n".join(p for s in _strings(value) for p in _decoded_payloads(s))
    if extra:
        view = canonical(extra)
        found |= {secret for secret in secrets if needle(secret) in view}
    return [secret for secret in secrets if secret in found]


# --- cases ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    body: dict[str, Any]
    secrets: tuple[str, ...]
    config: dict[str, Any] | None = None


def case(
    id: str, body: dict[str, Any], *secrets: str, config: dict[str, Any] | None = None
) -> Case:
    return Case(id, body, secrets or (EMAIL,), config)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def exempt_cases() -> list[Case]:
    def schema_with(**schema: Any) -> dict[str, Any]:
        return chat(tools=[tool_def(**schema)])

    call_id = "call_536-22-8915"
    tool_calls = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": "f", "arguments": "{}"}}
        ],
    }
    fmt = {
        "type": "json_schema",
        "json_schema": {
            "name": "r",
            "schema": {"type": "object", "examples": [{"format": IBAN_DASHED_LOWER}]},
        },
    }
    return [
        case("exempt/model-phone", {"model": PHONE_DASHED, "messages": [user(NEUTRAL)]}, PHONE),
        case("exempt/model-ssn", {"model": SSN, "messages": [user(NEUTRAL)]}, SSN),
        case("exempt/model-card", {"model": CARD_DASHED, "messages": [user(NEUTRAL)]}, CARD),
        case("exempt/tool-call-id-card", chat(user(NEUTRAL), {"role": "tool", "tool_call_id": f"call_{CARD_DASHED}", "content": "done"}), CARD),
        case("exempt/tool-calls-id-ssn", chat(user(NEUTRAL), tool_calls, {"role": "tool", "tool_call_id": call_id, "content": "done"}), SSN),
        case("exempt/responses-call-id-ssn", responses({"type": "function_call", "call_id": call_id, "name": "f", "arguments": "{}"}, {"type": "function_call_output", "call_id": call_id, "output": "done"}), SSN),
        case("exempt/previous-response-id-card", responses(NEUTRAL, previous_response_id=f"resp_{CARD_DASHED}"), CARD),
        case("exempt/file-id-ssn", chat(user([{"type": "file", "file": {"file_id": f"file-{SSN}"}}])), SSN),
        case("exempt/metadata-id-ssn", chat(metadata={"id": SSN}), SSN),
        case("exempt/metadata-status-iban", chat(metadata={"status": IBAN_DASHED_LOWER}), IBAN),
        case("exempt/metadata-model-phone", chat(metadata={"model": PHONE_DASHED}), PHONE),
        case("exempt/schema-examples-object-id-card", schema_with(examples=[{"id": CARD_DASHED}]), CARD),
        case("exempt/schema-default-object-type-ssn", schema_with(default={"type": f"ssn-{SSN}"}), SSN),
        case("exempt/response-format-examples-format-iban", chat(response_format=fmt), IBAN),
        case("exempt/unknown-body-voice-phone", {"customer": {"voice": f"tel-{PHONE_DASHED}"}}, PHONE),
    ]  # fmt: skip


def dispatch_cases() -> list[Case]:
    system = {"role": "system", "content": SAY_EMAIL}
    return [
        case("dispatch/metadata-instructions", chat(metadata={"instructions": SAY_EMAIL})),
        case("dispatch/prompt-variables-instructions", {"model": "gpt-4o", "prompt": {"id": "pmpt_abc123", "variables": {"instructions": SAY_EMAIL}}}),
        case("dispatch/unknown-body-instructions", {"job": {"instructions": SAY_EMAIL}}),
        case("dispatch/args-instructions", with_call(args({"instructions": SAY_EMAIL}))),
        case("dispatch/args-messages-system", with_call(args({"messages": [system]}))),
        case("dispatch/args-input-system", with_call(args({"input": [system]}))),
        case("dispatch/schema-default-messages-system", chat(tools=[tool_def(default={"messages": [system]})])),
        case("dispatch/content-part-role-system", chat(user([{"type": "text", "text": SAY_EMAIL, "role": "system"}]))),
        case("dispatch/content-part-role-developer", chat(user([{"type": "text", "text": SAY_SSN, "role": "developer"}])), SSN),
        case("dispatch/responses-output-item-role-system", responses({"type": "function_call_output", "call_id": "c1", "role": "system", "output": SAY_SSN}), SSN),
    ]  # fmt: skip


def url_cases() -> list[Case]:
    return [
        case("url/userinfo-email", chat(user([part(NEUTRAL), image(f"https://{EMAIL}/a.png")]))),
        case("url/userinfo-encoded-email-password", chat(user([image(f"https://{EMAIL.replace('@', '%40')}:hunter2@img.example.net/a.png")]))),
        case("url/responses-input-image-userinfo", responses(user([{"type": "input_image", "image_url": f"https://{EMAIL}/a.png"}]))),
        case("url/args-url-userinfo", with_call(args({"url": f"https://{EMAIL}/profile"}))),
        case("url/host-ssn", chat(user([image(f"https://ssn-{SSN}.example.net/a.png")])), SSN),
        case("url/host-phone", chat(user([image(f"https://{PHONE_DASHED}.example.net/a.png")])), PHONE),
        case("url/host-card", chat(user([image(f"https://{CARD_DASHED}.example.net/a.png")])), CARD),
        case("url/host-iban", chat(user([image(f"https://{IBAN_DASHED_LOWER}.example.net/a.png")])), IBAN),
        case("url/args-url-host-ssn", with_call(args({"url": f"http://{SSN}.example.net/"})), SSN),
    ]  # fmt: skip


def binary_cases() -> list[Case]:
    text = f"Customer record. {SAY_SSN} " * 4
    latin1 = _b64(("Caf\u00e9 M\u00fcller. " + text).encode("latin-1"))
    control = _b64(b"\x01" + text.encode())
    return [
        case("binary/args-data-latin1-text", with_call(args({"data": latin1})), SSN),
        case("binary/args-data-control-byte-text", with_call(args({"data": control})), SSN),
        case("binary/args-image-latin1-text", with_call(args({"image": latin1})), SSN),
        case("binary/unknown-body-b64-json-latin1-text", {"result": {"b64_json": latin1}}, SSN),
    ]  # fmt: skip


def canonical_cases() -> list[Case]:
    def say(id: str, text: str, *secrets: str) -> Case:
        return case(f"canonical/{id}", chat(user(text)), *secrets)

    fw = {"%": "\uff05", "2": "\uff12", "5": "\uff15", "4": "\uff14", "0": "\uff10"}
    fw_double = "".join(fw[c] for c in "%252540")
    ssn_sentence = SAY_SSN.encode()
    return [
        say("spelled-one-nbsp", "Write to quokka.zeta at\u00a0example dot com"),
        say("spaced-at-nbsp", "Write to quokka.zeta\u00a0@ example.com"),
        say("fullwidth-double-percent", f"Write to quokka.zeta{fw_double}example.com"),
        say("percent-four-times", "Write to quokka.zeta%25252540example.com"),
        say("js-braced-escape", "Write to quokka.zeta\\u{40}example.com"),
        say("python-long-escape", "Write to quokka.zeta\\U00000040example.com"),
        say("base64-unpadded", "Decode: " + _b64(ssn_sentence).rstrip("="), SSN),
        say("base64-after-equals", "token=" + _b64(ssn_sentence), SSN),
        say("base64-of-text-with-nbsp", "Decode: " + _b64(f"My SSN is\u00a0{SSN}.".encode()), SSN),
        say("base64-of-mostly-punctuation", "Decode: " + _b64(f"SSN ---------- {SSN} ----------".encode()), SSN),
        say("base64-of-text-with-zwsp", "Decode: " + _b64(f"My SSN is {SSN}.\u200b".encode()), SSN),
        say("card-middle-dots", "Card 4539\u00b71488\u00b70343\u00b76467", CARD),
        say("card-bullets", "Card 4539\u20221488\u20220343\u20226467", CARD),
        say("card-colons", "Card 4539:1488:0343:6467", CARD),
        say("card-thousands-commas", "Card 4,539,148,803,436,467", CARD),
        say("card-swiss-apostrophes", "Card 4'539'148'803'436'467", CARD),
        say("card-scientific", "Card 4.539148803436467e15", CARD),
        say("ssn-middle-dots", "SSN 536\u00b722\u00b78915", SSN),
        # Left out by judgement: "536,22,8915" is no SSN format a reader expands (thousands
        # separators on 13+ digit numbers are read through, above).
        say("phone-middle-dots", "Call +1\u00b7425\u00b7555\u00b70100", PHONE),
    ]  # fmt: skip


def context_cases() -> list[Case]:
    return [
        case("context/socialSecurityNumber-number", {"person": {"socialSecurityNumber": 536228915}}, SSN),
        case("context/socialSecurityNumber-string", {"person": {"socialSecurityNumber": "536228915"}}, SSN),
        case("context/social_security_number-string", {"person": {"social_security_number": "536228915"}}, SSN),
        case("context/ssns-list", {"person": {"ssns": [536228915]}}, SSN),
        case("context/ssn-object-value", {"ssn": {"value": 536228915}}, SSN),
        case("context/phoneNumber-number", {"person": {"phoneNumber": 14255550100}}, PHONE),
        case("context/phoneNumber-string", {"person": {"phoneNumber": "4255550100"}}, PHONE),
        case("context/phones-list", {"person": {"phones": ["4255550100"]}}, PHONE),
        case("context/args-phoneNumber", with_call(args({"phoneNumber": "4255550100"})), PHONE),
        case("context/args-socialSecurityNumber", with_call(args({"socialSecurityNumber": 536228915})), SSN),
    ]  # fmt: skip


def number_cases() -> list[Case]:
    return [
        # Left out by judgement: 4539148803436467e4 is 45391488034364670000, a number whose
        # digits hold a card only if the reader drops the zeros; cards as numbers are covered in
        # tests/test_leaks.py.
    ]


def seam_cases() -> list[Case]:
    long_email = "quokka.zeta.numbat.iota.wombat.kappa.bilby.sigma.dingo.theta@example.com"
    return [
        Case("seams/long-email-across-chunk-cut", chat(user(straddle(long_email, at=60, separator=";"))), ("quokka.zeta.numbat",)),
        Case("seams/long-email-across-chunk-cut-short-head", chat(user(straddle(long_email, at=10, separator=";"))), ("quokka.zet",)),
    ]  # fmt: skip


CASES = [
    *exempt_cases(),
    *dispatch_cases(),
    *url_cases(),
    *binary_cases(),
    *canonical_cases(),
    *context_cases(),
    *number_cases(),
    *seam_cases(),
]
assert len({c.id for c in CASES}) == len(CASES), "duplicate case ids"


@pytest.mark.server
@pytest.mark.parametrize("leak", CASES, ids=[c.id for c in CASES])
async def test_no_canary_survives_ok(
    service: tuple[str, TestClient[Any, Any]], leak: Case, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert deep_readable(leak.secrets, leak.body) == list(leak.secrets), (
        "the case must carry its canaries"
    )
    detector, client = service

    status, result = await redact_case(
        detector, client, leak.body, leak.secrets, leak.config, caplog
    )

    if not is_ok(status, result):
        return
    survivors = deep_readable(leak.secrets, result["redacted_body"])
    assert not survivors, f"{len(survivors)} canary(ies) readable in an ok answer"


# --- structure: tool-call arguments stay strict JSON -------------------------------------------


def _strict_json(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.server
@pytest.mark.parametrize("number", ["1e999", "-1e999"])
async def test_arguments_stay_strict_json(
    service: tuple[str, TestClient[Any, Any]], number: str, caplog: pytest.LogCaptureFixture
) -> None:
    """``1e999`` is valid JSON that Python reads as infinity; re-serialised after the SSN next to
    it is masked, it becomes ``Infinity``, which is not JSON: the provider rejects the call."""
    detector, client = service
    arguments = f'{{"amount": {number}, "note": "{SAY_SSN}"}}'
    body = with_call(arguments)
    status, result = await redact_case(detector, client, body, (SSN,), None, caplog)
    if not is_ok(status, result):
        return
    redacted = result["redacted_body"]["messages"][-1]["tool_calls"][0]["function"]["arguments"]
    assert not deep_readable([SSN], redacted)
    _strict_json(redacted)


QUOKKA = "quokka.zeta@example.com"
# A lone surrogate spelled in the JSON of tool-call arguments (in a key, a value, arguments
# nested in arguments): refused with a 400, as one in the body itself is.
LONE_SURROGATE_ARGUMENTS = {
    "key": '{"\\udc00' + QUOKKA + '": 1}',
    "value": '{"a": "\\udc00' + QUOKKA + '"}',
    "nested": args({"arguments": '{"a": "\\ud800' + QUOKKA + '"}'}),
}


def _call_arguments(result: dict[str, Any]) -> str:
    arguments: str = result["redacted_body"]["messages"][-1]["tool_calls"][0]["function"][
        "arguments"
    ]
    return arguments


@pytest.mark.server
@pytest.mark.parametrize("place", list(LONE_SURROGATE_ARGUMENTS))
async def test_a_lone_surrogate_in_arguments_is_refused_as_in_the_body(
    service: tuple[str, TestClient[Any, Any]], place: str, caplog: pytest.LogCaptureFixture
) -> None:
    detector, client = service
    body = with_call(LONE_SURROGATE_ARGUMENTS[place])
    status, result = await redact_case(detector, client, body, (QUOKKA,), None, caplog)
    assert (status, result["error"]["code"]) == (400, "InvalidRequest")
    assert "arguments" in result["error"]["message"]


async def test_a_lone_surrogate_in_arguments_is_refused_however_the_body_spells_it(
    local_service: TestClient[Any, Any],
) -> None:
    """``\\u005c`` is the backslash: the body holds no surrogate escape of its own."""
    raw = json.dumps({"body": with_call(LONE_SURROGATE_ARGUMENTS["value"])})
    raw = raw.replace("\\\\udc00", "\\u005cudc00")
    assert "\\u005cudc00" in raw
    headers = {"Content-Type": "application/json"}
    response = await local_service.post("/redact", data=raw, headers=headers)
    assert response.status == 400
    assert QUOKKA not in await response.text()


DEPTH = 3000  # deeper than Python's JSON parser goes: the arguments are scanned as written
# Arguments scanned as written: a mask that starts inside an escape kept as written (``\\n``, a
# lone surrogate) covers the whole escape; JSON stays JSON, and no half escape is left.
KEPT_ESCAPE_ARGUMENTS = {
    "newline-too-deep": "[" * DEPTH + '"\\n' + QUOKKA + '"' + "]" * DEPTH,
    "tab-too-deep": "[" * DEPTH + '{"\\t' + QUOKKA + '": 1}' + "]" * DEPTH,
    "surrogate-not-json": '{"a": "\\udc00' + QUOKKA + '"',
}


@pytest.mark.server
@pytest.mark.parametrize("name", list(KEPT_ESCAPE_ARGUMENTS))
async def test_a_mask_never_leaves_half_an_escape_in_arguments(
    service: tuple[str, TestClient[Any, Any]], name: str
) -> None:
    """Posted directly: ``redact_case``'s key reader cannot parse JSON this deep."""
    _, client = service
    response = await client.post("/redact", json={"body": with_call(KEPT_ESCAPE_ARGUMENTS[name])})
    result = await response.json()
    assert is_ok(response.status, result)
    redacted = _call_arguments(result)
    assert "uokka" not in redacted
    assert "example" not in redacted
    assert "\\" not in redacted  # the escape went with the mask that started inside it
    if name.endswith("too-deep"):
        _strict_json(redacted[DEPTH:-DEPTH])


# --- false positives: ordinary bodies come back unchanged --------------------------------------

_RNG = random.Random(12)
_HEX = "0123456789abcdef"
_B62 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _token(alphabet: str, size: int) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(size))


def _ordinary_bodies() -> list[tuple[str, dict[str, Any]]]:
    question = "What is in this image?"
    sas = (
        "https://acct.blob.core.windows.net/images/cat.png?sv=2022-11-02&ss=b&srt=o&sp=r"
        "&se=2025-12-31T23:59:59Z&st=2025-01-01T00:00:00Z&spr=https&sig=Xx8hq2bT%2B4Jx5k8Zl2m1yXqD6Zf8mHkP3Kq9n0vW7aQ%3D"
    )
    cloudfront = "https://d111111abcdef8.cloudfront.net/image.jpg"
    s3 = (
        "https://bucket.s3.amazonaws.com/photos/cat.png?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20250101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20250101T000000Z"
        "&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
    )
    schema = {
        "type": "object",
        "properties": {
            "amount": {"type": "integer", "minimum": 1000000000, "maximum": 9999999999},
            "iban": {"type": "string", "pattern": "^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$"},
            "email": {"type": "string", "format": "email"},
            "when": {"type": "string", "format": "date-time"},
            "zip": {"type": "string", "pattern": "^\\d{5}(-\\d{4})?$"},
        },
        "required": ["amount"],
        "additionalProperties": False,
    }
    tools = [
        {
            "type": "function",
            "function": {
                "name": "pay_invoice",
                "description": "Pay an invoice by id.",
                "parameters": schema,
                "strict": True,
            },
        }
    ]
    calls: list[dict[str, Any]] = []
    for _ in range(40):
        call_id = "call_" + _token(_B62, 24)
        calls.append(
            {
                "type": "function_call",
                "id": "fc_" + _token(_HEX, 48),
                "call_id": call_id,
                "name": "get_weather",
                "arguments": '{"city":"Paris"}',
            }
        )
        calls.append({"type": "function_call_output", "call_id": call_id, "output": '{"temp": 21}'})
    reasoning = [
        {
            "type": "reasoning",
            "id": "rs_" + _token(_HEX, 48),
            "summary": [],
            "encrypted_content": "gAAAAAB" + base64.urlsafe_b64encode(_RNG.randbytes(600)).decode(),
        }
        for _ in range(10)
    ]
    wav = _b64(
        b"RIFF$\x08\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00D\xac\x00\x00\x88X\x01\x00\x02\x00\x10\x00data\x00\x08\x00\x00"
        + _RNG.randbytes(1024)
    )
    return [
        ("image-azure-blob-sas-url", chat(user([part(question), image(sas)]))),
        ("image-cloudfront-host-with-digits", chat(user([part(question), image(cloudfront)]))),
        # Not here: a GCS signed URL carries the service account's e-mail in X-Goog-Credential,
        # and an e-mail in a URL's query is masked (docs/scanning.md, "known false positives").
        ("image-s3-presigned-url", chat(user([part(question), image(s3)]))),
        ("image-plain-url", chat(user([part(question), image("https://upload.wikimedia.org/wikipedia/commons/a/a7/Ant.jpg")]))),
        ("tools-with-schema", chat(user("Pay the invoice"), tools=tools, tool_choice="auto", parallel_tool_calls=False)),
        ("responses-function-calls", {"model": "o4-mini", "input": [user("Weather in Paris?"), *calls], "tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]}),
        ("responses-reasoning-items", {"model": "o4-mini", "input": [user("hi"), *reasoning], "previous_response_id": "resp_" + _token(_HEX, 48), "reasoning": {"effort": "high", "summary": "auto"}, "include": ["reasoning.encrypted_content"], "store": False}),
        ("audio-input", chat(user([part("Transcribe this"), {"type": "input_audio", "input_audio": {"data": wav, "format": "wav"}}]), modalities=["text", "audio"], audio={"voice": "alloy", "format": "wav"})),
        ("responses-input-text", responses(user([input_text("Summarise the attached notes in three bullet points.")]), instructions="Be brief.", temperature=0.2, max_output_tokens=400)),
    ]  # fmt: skip


ORDINARY = _ordinary_bodies()


@pytest.mark.server
@pytest.mark.parametrize(
    "body", [b for _, b in ORDINARY], ids=[f"false-positive/{n}" for n, _ in ORDINARY]
)
async def test_ordinary_bodies_come_back_unchanged(
    service: tuple[str, TestClient[Any, Any]],
    body: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    detector, client = service
    status, result = await redact_case(detector, client, body, (), None, caplog)
    assert is_ok(status, result), (status, result.get("status"))
    assert result["redacted_body"] == body, f"changed: {result['diagnostics'].get('categories')}"


# --- size: seams must not turn a request that fits into a 413 ----------------------------------


@pytest.mark.server
@pytest.mark.parametrize(
    "body",
    [
        # 2,048 inputs (the embeddings API's maximum) of 100 characters: ~205,000 characters of
        # text, well inside 15 batches x 5 documents x 5,000; the seams between the inputs
        # (81 characters each) push it over.
        {"model": "text-embedding-3-small", "input": [filler(100) for _ in range(2048)]},
        # 430 messages of 800 characters: 344,000 characters fit without seams, not with them.
        chat(*[user(filler(800)) for _ in range(430)]),
    ],
    ids=["size/embeddings-batch-2048x100", "size/chat-430-messages-x800"],
)
async def test_seams_do_not_turn_a_fitting_request_into_413(
    service: tuple[str, TestClient[Any, Any]],
    body: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    detector, client = service
    status, result = await redact_case(detector, client, body, (), None, caplog)
    assert status != 413, "a request whose texts fit is refused because of its seams"
    assert is_ok(status, result)


# --- performance: time in proportion to size ---------------------------------------------------


async def _timed(client: TestClient[Any, Any], body: dict[str, Any]) -> tuple[int, float]:
    started = time.perf_counter()
    response = await client.post("/redact", json={"body": body})
    await response.read()
    return response.status, time.perf_counter() - started


@pytest.mark.server
async def test_many_tiny_strings_are_not_quadratic(
    service: tuple[str, TestClient[Any, Any]],
) -> None:
    """2,000 one-character inputs (a 10 KB body): every seam walks every text of the flow
    (``documents._window``), so the cost grows with the square of the count (2,000 strings
    ~3 s, 4,000 ~8 s, 8,000 ~34 s then a 413), on the event loop."""
    _, client = service
    status, elapsed = await _timed(client, {"model": "m", "input": ["a"] * 2000})
    assert status != 500
    assert elapsed < 1.0, f"a 10 KB body took {elapsed:.1f} s"


@pytest.mark.server
async def test_a_long_base64_alphabet_run_is_not_slow(
    service: tuple[str, TestClient[Any, Any]],
) -> None:
    """A 360 KB run of base64 letters with no padding (a hex dump or a long token does the same)
    against 360 KB of prose: the canonical view, on the event loop and outside the deadline, takes
    several times longer (1 MB: ~18 s, 2 MB: ~110 s, before the 413)."""
    _, client = service
    prose = ((filler(2000) + ". ") * 181)[:360_000]
    _, baseline = await _timed(client, chat(user(prose)))
    status, elapsed = await _timed(client, chat(user("A" * 360_001)))
    assert status != 500
    assert elapsed < 3 * baseline + 0.5, f"{elapsed:.1f} s against {baseline:.1f} s for prose"
