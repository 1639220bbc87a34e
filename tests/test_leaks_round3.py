"""Leak corpus, round 3: six classes an outside tester found answering ``ok`` with full coverage
and the value readable, on both detectors, over real HTTP (the served app on the embedded
detector, and the Azure path through the emulator).

Classes (each generated over several values and shapes):

- ``datauri``: a base64 ``data:`` URL inside a longer text (a markdown image, a word before or
  after it) was not decoded; only a whole-string data URL was.
- ``marks``: combining marks drawn over the spaces between digit groups (underlined text).
- ``separators``: ``+``, ``,``, TAB, U+2044 FRACTION SLASH and U+2800 BRAILLE PATTERN BLANK
  between the groups of a card, phone or SSN.
- ``seams``: a long e-mail address (up to 254 characters) across the cut between two chunks of
  a text with no whitespace near the cut.
- ``numbers``: an identifier given as short JSON numbers in one array or object of tool-call
  arguments (``{"ssn": [536, 22, 8915]}``).
- ``roles``: the fields of a message ``scan_roles`` leaves out, other than its own text
  (``tool_calls``, ``name``, ``refusal``, unknown fields).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.test_leaks import args, calling, chat, is_ok, redact_case, responses, user

RESTORE_KEY = base64.b64encode(b"k" * 32).decode()
SSN = "536-22-8915"
CARD = "4111111111111111"
CARD_GROUPS = ("4111", "1111", "1111", "1111")
PHONE_GROUPS = ("425", "555", "0100")


@dataclass(frozen=True)
class Case:
    id: str
    body: dict[str, Any]
    fragments: tuple[str, ...]  # none of these may be readable in an ``ok`` answer
    config: dict[str, Any] | None = None


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def said(id: str, text: str, *fragments: str) -> Case:
    return Case(id, chat(user(text)), fragments)


def datauri_cases() -> list[Case]:
    values = {"card": CARD, "card-spaced": " ".join(CARD_GROUPS), "ssn": SSN}
    shapes = {
        "markdown-image": "![note](data:text/plain;base64,{})",
        "between-words": "see data:text/plain;base64,{} ok",
        "word-after": "data:text/plain;base64,{} ok",
        "charset": "file: data:text/plain;charset=utf-8;base64,{}, thanks",
        "upper-case": "see DATA:TEXT/PLAIN;BASE64,{} ok",
        "other-media-type": "see data:application/octet-stream;base64,{} ok",
        "no-padding": "see data:text/plain;base64,{}) ok",
    }
    cases = []
    for value_id, value in values.items():
        for shape_id, shape in shapes.items():
            encoded = b64("value " + value) if shape_id == "no-padding" else b64(value)
            if shape_id == "no-padding":
                encoded = encoded.rstrip("=")
            cases.append(said(f"datauri/{shape_id}/{value_id}", shape.format(encoded), encoded))
    return cases


def mark_cases() -> list[Case]:
    cases = []
    for mark in ("\u0332", "\u0301", "\u0336", "\u20e3"):
        name = f"U+{ord(mark):04X}"
        card = f" {mark}".join(CARD_GROUPS)
        phone = f" {mark}".join(PHONE_GROUPS)
        every = "".join(char + mark for char in " ".join(CARD_GROUPS))
        cases += [
            said(f"marks/{name}/card-spaces", f"card {card}", "4111", "1111"),
            said(f"marks/{name}/phone-spaces", f"call +1 {mark}{phone}", "0100"),
            said(f"marks/{name}/every-char", f"card {every}", every[:8]),
        ]
    return cases


def separator_cases() -> list[Case]:
    cases = []
    for name, sep in {"plus": "+", "comma": ",", "braille-blank": "\u2800"}.items():
        card = sep.join(CARD_GROUPS)
        cases.append(said(f"separators/{name}/card", f"card {card}", card[:9]))
    for name, sep in {"plus": "+", "tab": "\t", "tabs": "\t\t"}.items():
        phone = sep.join(PHONE_GROUPS)
        cases += [
            said(f"separators/{name}/phone-plus1", f"call +1{sep}{phone}", "555" + sep + "0100"),
            said(f"separators/{name}/phone", f"call {phone}", "555" + sep + "0100"),
        ]
    for name, sep in {"fraction-slash": "\u2044", "division-slash": "\u2215"}.items():
        ssn = sep.join(SSN.split("-"))
        cases.append(said(f"separators/{name}/ssn", f"ssn {ssn}", "8915"))
    return cases


def seam_cases() -> list[Case]:
    """A long address across the first chunk cut (``PII_MAX_DOC_CHARS`` 5,000) of a text with
    no whitespace near it, at several offsets; 155 and 254 characters."""
    fill = "lorem,ipsum," * 600
    cases = []
    for labels in (45, 78):
        address = "jane.doe@" + "a1." * labels + "example.com"
        for offset in (-len(address) + 20, -145, -85, -30):
            start = 5000 + offset
            text = fill[: start - 1] + "," + address + "," + fill[:200]
            cases.append(said(f"seams/{len(address)}-chars/at{offset}", text, "jane.doe"))
    return cases


def number_cases() -> list[Case]:
    """Identifiers given as short JSON numbers in one array or object: in tool-call arguments
    and in ``metadata``, under a key that names them or not."""
    ssn = [536, 22, 8915]
    card = [4111, 1111, 1111, 1111]
    shapes: dict[str, Any] = {
        "ssn-array": {"ssn": ssn},
        "card-array": {"card": card},
        "card-array-unnamed": {"values": card},
        "ssn-object": {"ssn": {"area": 536, "group": 22, "serial": 8915}},
        "ssn-object-with-text": {"ssn": {"note": "x", "area": 536, "group": 22, "serial": 8915}},
        "nested": {"customer": {"name": "x", "ssn": ssn}},
        "array-in-array": {"rows": [[4111, 1111, 1111, 1111], [1, 2]]},
    }
    cases = []
    for name, value in shapes.items():
        cases.append(Case(f"numbers/arguments/{name}", chat(calling(args(value))), ("8915",)))
        if "card" in name or "array-in" in name:
            cases[-1] = Case(cases[-1].id, cases[-1].body, ("4111",))
    cases.append(
        Case(
            "numbers/metadata/ssn-array", {**chat(user("hi")), "metadata": {"ssn": ssn}}, ("8915",)
        )
    )
    return cases


def role_cases() -> list[Case]:
    """Fields of a message whose role ``scan_roles`` leaves out, other than its own text."""
    secret = "ssn " + SSN
    call = calling(args({"s": secret}))["tool_calls"]
    system = {"role": "system", "content": "You are helpful."}
    return [
        Case("roles/system-tool-calls", chat({**system, "tool_calls": call}), (SSN,)),
        Case("roles/system-unknown-field", chat({**system, "note": secret}), (SSN,)),
        Case("roles/system-name", chat({**system, "name": secret}), (SSN,)),
        Case(
            "roles/developer-refusal",
            chat({**system, "role": "developer", "refusal": secret}),
            (SSN,),
        ),
        Case("roles/responses-system-item", responses({**system, "note": secret}), (SSN,)),
        Case(
            "roles/messages-and-input",
            {"messages": [{**system, "tool_calls": call}], "input": [{**system, "x": secret}]},
            (SSN,),
        ),
        Case(
            "roles/assistant-not-scanned/tool-calls",
            chat(user("hi"), calling(args({"s": secret}))),
            (SSN,),
            {"scan_roles": ["user"]},
        ),
        Case(
            "roles/assistant-not-scanned/function-call-item",
            responses(
                {
                    "type": "function_call",
                    "call_id": "c",
                    "name": "f",
                    "arguments": args({"s": secret}),
                }
            ),
            (SSN,),
            {"scan_roles": ["user"]},
        ),
    ]


CASES = [
    *datauri_cases(),
    *mark_cases(),
    *separator_cases(),
    *seam_cases(),
    *number_cases(),
    *role_cases(),
]
assert len({c.id for c in CASES}) == len(CASES), "duplicate case ids"


def readable(fragments: tuple[str, ...], body: Any) -> list[str]:
    """The fragments still in ``body``'s strings (JSON texts inside it included)."""
    texts = json.dumps(body, ensure_ascii=False)
    strings: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            strings.append(value)
            with contextlib.suppress(ValueError):
                walk(json.loads(value))
        elif isinstance(value, dict):
            for key, item in value.items():
                strings.append(key)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, int | float):
            strings.append(json.dumps(value))

    walk(body)
    return [f for f in fragments if f in texts or any(f in s for s in strings)]


@pytest.mark.server
@pytest.mark.parametrize("leak", CASES, ids=[c.id for c in CASES])
async def test_no_value_readable_in_an_ok_answer(
    service: tuple[str, TestClient[Any, Any]], leak: Case, caplog: pytest.LogCaptureFixture
) -> None:
    assert readable(leak.fragments, leak.body) == list(leak.fragments), "a case carries its value"
    await assert_masked_in_an_ok_answer(service, leak, caplog)


async def assert_masked_in_an_ok_answer(
    service: tuple[str, TestClient[Any, Any]], leak: Case, caplog: pytest.LogCaptureFixture
) -> None:
    """The case's body comes back ``ok`` with no fragment readable, and no echo of it in
    diagnostics, errors or logs."""
    caplog.set_level(logging.DEBUG)
    detector, client = service
    status, result = await redact_case(
        detector, client, leak.body, leak.fragments, leak.config, caplog
    )
    assert is_ok(status, result), "these classes are scanned, not refused"
    survivors = readable(leak.fragments, result["redacted_body"])
    assert not survivors, f"{len(survivors)} fragment(s) readable in an ok answer"


@pytest.mark.server
@pytest.mark.parametrize(
    "message",
    [
        {"role": "system", "content": "Support line: 425-555-0100, ssn " + SSN},
        {"role": "developer", "content": [{"type": "text", "text": "ssn " + SSN}]},
    ],
)
async def test_the_own_text_of_an_exempt_role_stays_as_written(
    service: tuple[str, TestClient[Any, Any]], message: dict[str, Any]
) -> None:
    """Control: the application's instructions are not scanned (``scan_roles``)."""
    _, client = service
    response = await client.post("/redact", json={"body": chat(message)})
    result = await response.json()
    assert is_ok(response.status, result)
    assert result["redacted_body"]["messages"][0] == message


@pytest.mark.server
async def test_a_number_run_under_placeholders_is_one_placeholder(
    make_service: Any,
) -> None:
    client = await make_service(pii_detector="local", pii_restore_key=RESTORE_KEY)
    body = chat(calling(args({"ssn": [536, 22, 8915], "n": 1})))
    response = await client.post(
        "/redact", json={"body": body, "config": {"mask_style": "placeholder"}}
    )
    result = await response.json()
    assert is_ok(response.status, result)
    arguments = json.loads(
        result["redacted_body"]["messages"][0]["tool_calls"][0]["function"]["arguments"]
    )
    assert arguments["n"] == 1
    first, *rest = arguments["ssn"]
    assert isinstance(first, str)
    assert "8915" not in first
    assert first.strip()
    assert rest == ["", ""]


# --- ids that are logged: a safe shape, refused by name -----------------------------------------


REFUSED_IDS = [
    *(
        (field, value)
        for field in ("correlation_id", "subscription_id")
        for value in ("req\n536-22-8915", "req\x00", " ", "req\x85jane.doe")
    ),
    ("correlation_id", "jane.doe@example.com"),
    ("subscription_id", "jane.doe:536-22-8915"),  # APIM refuses ``*#&+:<>?`` in the name
]


@pytest.mark.server
@pytest.mark.parametrize(("field", "value"), REFUSED_IDS)
async def test_an_id_of_another_shape_is_refused_by_name_never_echoed(
    local_service: TestClient[Any, Any], field: str, value: str
) -> None:
    for path in ("/redact", "/restore"):
        payload: dict[str, Any] = {"body": chat(user("hi")), "config": {field: value}}
        if path == "/restore":
            payload["restore_token"] = "t"
        response = await local_service.post(path, json=payload)
        text = await response.text()
        assert response.status == 400, text
        assert f"config.{field}" in json.loads(text)["error"]["message"]
        assert "jane.doe" not in text
        assert "536-22-8915" not in text


@pytest.mark.server
@pytest.mark.parametrize(
    ("correlation_id", "subscription_id"),
    [
        ("6f1c1a5e-4a44-4f57-9d1e-0c8e3c2b9a10", "sub-tenant_a.1"),
        ("{6F1C1A5E-4A44-4F57-9D1E-0C8E3C2B9A10}", "finance team"),
        ("req-1", "münchen-team"),
        ("req-1", "acme(prod)"),
        ("req-1", "acme@prod"),
        ("req-1", "team's"),
    ],
)
async def test_apim_shaped_ids_are_accepted(
    local_service: TestClient[Any, Any], correlation_id: str, subscription_id: str
) -> None:
    """What APIM allows in a subscription id (1-256 characters, none of ``*#&+:<>?``), and its
    request GUID bare or in braces, on both routes (/restore then fails on the token alone)."""
    config = {"correlation_id": correlation_id, "subscription_id": subscription_id}
    response = await local_service.post(
        "/redact", json={"body": chat(user("hi")), "config": config}
    )
    assert response.status == 200
    payload = {"body": chat(user("hi")), "restore_token": "t", "config": config}
    response = await local_service.post("/restore", json=payload)
    assert "config." not in (await response.text())
