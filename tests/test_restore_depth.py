"""``/restore`` of model answers that nest deeply: tool-call arguments nesting ~900 levels and more
are restored (and stay JSON); a body too deep to walk is a bounded 400. Never a 500."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from redaction.placeholders.restore import (
    MAX_ANSWER_DEPTH,
    MAX_JSON_DEPTH,
    Placeholders,
    restore_body,
)
from tests.conftest import ServiceFactory, post_redact
from tests.test_restore import KEY_B64, post_restore

Client = TestClient[Any, Any]
EMAIL = "alice@example.com"
ORIGINAL = 'Alice "A" \\ O'


def nested(depth: int, inner: str) -> str:
    return "[" * depth + inner + "]" * depth


def tool_call_answer(arguments: str) -> dict[str, Any]:
    call = {"id": "c1", "type": "function", "function": {"name": "send", "arguments": arguments}}
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    return {"object": "chat.completion", "choices": [{"index": 0, "message": message}]}


def innermost(encoded: str, depth: int) -> Any:
    """Decodes JSON deeper than the default recursion limit allows, and unwraps ``depth`` lists."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, depth * 4 + 1000))
    try:
        value = json.loads(encoded)
    finally:
        sys.setrecursionlimit(limit)
    for _ in range(depth):
        value = value[0]
    return value


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1, 900, 990, 5000])
def test_deep_arguments_are_restored_and_stay_json(depth: int) -> None:
    placeholders = Placeholders({"<Person_1>": ORIGINAL})
    arguments = nested(depth, '"to <Person_1>"')
    restored, count = restore_body(tool_call_answer(arguments), placeholders)
    encoded = restored["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
    assert count == 1
    assert innermost(encoded, depth) == f"to {ORIGINAL}"


@pytest.mark.parametrize("depth", [900, 5000])
def test_deep_json_content_is_restored_and_stays_json(depth: int) -> None:
    placeholders = Placeholders({"<Person_1>": ORIGINAL})
    answer = tool_call_answer("{}")
    answer["choices"][0]["message"]["content"] = nested(depth, '"<Person_1>"')
    restored, count = restore_body(answer, placeholders)
    assert count == 1
    assert innermost(restored["choices"][0]["message"]["content"], depth) == ORIGINAL


# --- over HTTP ----------------------------------------------------------------------------------


async def placeholder_and_token(client: Client) -> tuple[str, str]:
    body = {"messages": [{"role": "user", "content": f"Mail {EMAIL} today."}]}
    status, result = await post_redact(client, body, mask_style="placeholder", correlation_id="r1")
    assert status == 200, result
    placeholder = result["redacted_body"]["messages"][0]["content"].split()[1]
    assert placeholder.startswith("<Email_")
    return placeholder, result["restore_token"]


@pytest.mark.parametrize("depth", [900, 5000])
async def test_restore_of_deeply_nested_arguments_over_http(
    make_service: ServiceFactory, depth: int
) -> None:
    client = await make_service(pii_detector="local", pii_restore_key=KEY_B64)
    placeholder, token = await placeholder_and_token(client)
    answer = tool_call_answer(nested(depth, json.dumps(f"to {placeholder}")))
    status, result = await post_restore(client, answer, token, correlation_id="r1")
    assert status == 200, result
    encoded = result["restored_body"]["choices"][0]["message"]["tool_calls"][0]["function"]
    assert innermost(encoded["arguments"], depth) == f"to {EMAIL}"
    assert result["restored"] == 1


@pytest.mark.parametrize("depth", [60, MAX_ANSWER_DEPTH - 2, MAX_ANSWER_DEPTH + 60, 900])
async def test_an_answer_too_deep_to_walk_is_a_bounded_400(
    make_service: ServiceFactory, depth: int
) -> None:
    """PII_MAX_DEPTH allows up to 1,000 levels: the answer itself may be too deep to restore."""
    client = await make_service(pii_detector="local", pii_restore_key=KEY_B64, pii_max_depth=1000)
    placeholder, token = await placeholder_and_token(client)
    answer: Any = placeholder
    for _ in range(depth):
        answer = {"content": answer}
    status, result = await post_restore(client, answer, token, correlation_id="r1")
    if depth < MAX_ANSWER_DEPTH:
        assert status == 200, result
        assert EMAIL in json.dumps(result["restored_body"])
        return
    assert status == 400, result
    assert result["error"]["code"] == "InvalidRequest"
    assert placeholder not in json.dumps(result)
