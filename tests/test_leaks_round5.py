"""Leak corpus, round 5 (an outside tester's findings, over real HTTP on both detectors: the served
app on the embedded detector, and the Azure path through the emulator).

- ``groups``: an identifier given as its groups in separate JSON strings, keys, one-element
  arrays or sibling ``metadata`` fields (``{"ssn": ["536", "22", "8915"]}``) was read group by
  group and came back ``ok`` with every group readable (round 3 fixed integers only).
- ``benign``: since round 3, ordinary integer arguments (a date, a colour, a time, a screen size,
  ZIP codes) were read as one text, found to be a phone number and turned into ``"####"``
  strings, breaking the tool's schema: they must come back as they were.
- ``exempt``: digits split by ``_`` or ``/`` kept an id, model or enum slot exempt; such a value
  is scanned now, a token's ``_`` read as spaces (``call_536_22_8915`` -> ``call_###_##_####``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.test_leaks import args, calling, chat, is_ok, user
from tests.test_leaks_round3 import Case, assert_masked_in_an_ok_answer


def call(value: Any) -> dict[str, Any]:
    return chat(calling(args(value)))


GROUP_CASES = [
    Case("groups/ssn-strings", call({"ssn": ["536", "22", "8915"]}), ("8915",)),
    Case("groups/card-strings", call({"card": ["4111", "1111", "1111", "1111"]}), ("4111",)),
    Case("groups/phone-strings", call({"phone": ["+1", "425", "555", "0100"]}), ("0100",)),
    Case(
        "groups/ssn-string-object",
        call({"ssn": {"area": "536", "group": "22", "serial": "8915"}}),
        ("8915",),
    ),
    Case("groups/ssn-keys", call({"ssn": {"536": True, "22": True, "8915": True}}), ("8915",)),
    Case("groups/ssn-one-element-arrays", call({"ssn": [[536], [22], [8915]]}), ("8915",)),
    Case(
        "groups/metadata-ssn-fields",
        {
            **chat(user("hi")),
            "metadata": {"ssn_area": "536", "ssn_group": "22", "ssn_serial": "8915"},
        },
        ("8915",),
    ),
    Case("groups/card-unnamed-strings", call({"v": ["4111", "1111", "1111", "1111"]}), ("4111",)),
    Case("exempt/model-slashes", {"model": "gpt/536/22/8915", **chat(user("x"))}, ("8915",)),
    Case(
        "exempt/tool-call-id-underscores",
        {"messages": [{"role": "tool", "tool_call_id": "call_536_22_8915", "content": "x"}]},
        ("8915",),
    ),
    Case(
        "exempt/status-underscores",
        {
            "input": [
                {"type": "message", "role": "user", "status": "ssn_536_22_8915", "content": "x"}
            ]
        },
        ("8915",),
    ),
    Case(
        "exempt/call-id-phone-underscores",
        {
            "input": [
                {"type": "function_call_output", "call_id": "tel_1_425_555_0100", "output": "x"}
            ]
        },
        ("0100",),
    ),
]

BENIGN = [
    {"date": [2024, 5, 17]},
    {"rgb": [255, 128, 64]},
    {"time": {"h": 14, "m": 25, "s": 55, "ms": 100}},
    {"resolution": [1920, 1080, 60]},
    {"zip_codes": [98052, 98101]},
    {"size": ["1920", "1080", "60"]},
]


@pytest.mark.server
@pytest.mark.parametrize("leak", GROUP_CASES, ids=[c.id for c in GROUP_CASES])
async def test_no_group_readable_in_an_ok_answer(
    service: tuple[str, TestClient[Any, Any]], leak: Case, caplog: pytest.LogCaptureFixture
) -> None:
    await assert_masked_in_an_ok_answer(service, leak, caplog)


@pytest.mark.server
@pytest.mark.parametrize("arguments", BENIGN, ids=[next(iter(a)) for a in BENIGN])
async def test_benign_numbers_come_back_as_they_were(
    service: tuple[str, TestClient[Any, Any]], arguments: dict[str, Any]
) -> None:
    _, client = service
    body = call(arguments)
    response = await client.post("/redact", json={"body": body})
    result = json.loads(await response.text())
    assert is_ok(response.status, result)
    sent = result["redacted_body"]["messages"][0]["tool_calls"][0]["function"]["arguments"]
    assert json.loads(sent) == arguments
