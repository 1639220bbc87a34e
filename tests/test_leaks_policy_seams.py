"""A tenant's custom patterns read the seams between texts, as the detector does (round 4 of an
outside tester): an HR identifier (``EMP-123456``, the example of docs/policy.md) split across two
content parts of a message, or across two consecutive messages, came back ``ok`` with both halves
readable, on both detectors, because the patterns ran on each text alone. Allow rules see the
whole value read across the seam, never a clipped piece of it. Over real HTTP (the served app on
the embedded detector, and the Azure path through the emulator)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import DETECTORS, EMULATOR_KEY, Emulator, ServiceFactory, post_redact
from tests.test_leaks import is_ok

EMPLOYEE = {"name": "employee", "pattern": "\\bEMP-?\\d{6}\\b", "category": "EmployeeId"}


def parts(*texts: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": [{"type": "text", "text": t} for t in texts]}]}


def messages(*texts: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text} for text in texts]}


def texts_of(body: dict[str, Any]) -> list[str]:
    first = body["messages"][0]["content"]
    if isinstance(first, list):
        return [part["text"] for part in first]
    return [message["content"] for message in body["messages"]]


@pytest.fixture(params=DETECTORS)
async def client(
    request: pytest.FixtureRequest, make_service: ServiceFactory, emulator: Emulator
) -> TestClient[Any, Any]:
    if request.param == "local":
        return await make_service(pii_detector="local")
    return await make_service(language_endpoint=emulator.url, language_api_key=EMULATOR_KEY)


async def redacted(client: TestClient[Any, Any], body: dict[str, Any], **config: Any) -> Any:
    status, result = await post_redact(client, body, **config)
    assert status < 500, result
    return result["redacted_body"] if is_ok(status, result) else None


SPLITS = {
    "two-content-parts": (parts("my id is EMP-123", "456 thanks"), ("EMP-123", "456")),
    "prefix-part": (parts("my id is EMP-", "123456 thanks"), ("EMP-", "123456")),
    "two-messages": (messages("my id is EMP", "-123456"), ("EMP", "123456")),
    "no-dash": (parts("badge EMP12", "3456 ok"), ("EMP12", "3456")),
}


async def test_a_pattern_inside_one_text_is_masked(client: TestClient[Any, Any]) -> None:
    out = await redacted(client, parts("my id is EMP-123456 thanks"), custom_patterns=[EMPLOYEE])
    assert out is not None
    assert "123456" not in texts_of(out)[0]


@pytest.mark.parametrize(("body", "pieces"), SPLITS.values(), ids=SPLITS.keys())
async def test_a_pattern_split_across_two_texts_is_masked_on_both_sides(
    client: TestClient[Any, Any], body: dict[str, Any], pieces: tuple[str, str]
) -> None:
    out = await redacted(client, body, custom_patterns=[EMPLOYEE])
    assert out is not None
    first, second = texts_of(out)
    assert pieces[0] not in first
    assert pieces[1] not in second


async def test_an_allow_pattern_reads_the_whole_value_across_the_seam(
    client: TestClient[Any, Any],
) -> None:
    config = {"custom_patterns": [EMPLOYEE], "allow_patterns": ["EMP-000000"]}
    out = await redacted(client, parts("test id EMP-000", "000 only"), **config)
    assert out is not None
    assert texts_of(out) == ["test id EMP-000", "000 only"]


async def test_an_allowed_piece_never_unmasks_the_rest_of_a_value(
    client: TestClient[Any, Any],
) -> None:
    config = {"custom_patterns": [EMPLOYEE], "allow_list": ["EMP", "123456"]}
    out = await redacted(client, messages("my id is EMP", "-123456"), **config)
    assert out is not None
    first, second = texts_of(out)
    assert "EMP" not in first
    assert "123456" not in second
