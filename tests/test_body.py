"""Finding the text in OpenAI bodies and putting redacted text back (pure)."""

from __future__ import annotations

import json
from typing import Any

from redaction.body import find_texts, replace_texts

ROLES = ["user", "assistant", "tool"]


def _pointers(body: dict[str, Any], roles: list[str] = ROLES) -> list[str]:
    return [field.pointer for field in find_texts(body, roles)]


def test_chat_messages_by_role() -> None:
    body = {
        "messages": [
            {"role": "system", "content": "s"},
            {"role": "developer", "content": "d"},
            {"role": "user", "content": "u"},
            {"role": "assistant", "content": "a", "refusal": "r"},
            {"role": "function", "name": "f", "content": "f"},
            {"role": "tool", "tool_call_id": "t", "content": "t"},
        ]
    }
    assert _pointers(body) == [
        "/messages/2/content",
        "/messages/3/content",
        "/messages/3/refusal",
        "/messages/4/content",
        "/messages/5/content",
    ]
    assert _pointers(body, ["System"]) == ["/messages/0/content"]


def test_message_without_a_role_is_scanned() -> None:
    assert _pointers({"messages": [{"content": "x"}, {"role": 7, "content": "y"}]}, []) == [
        "/messages/0/content",
        "/messages/1/content",
    ]


def test_tool_call_arguments_are_scanned_inside() -> None:
    arguments = json.dumps({"q": "a", "nested": {"list": ["b", 1, None]}})
    body = {
        "messages": [
            {
                "role": "assistant",
                "tool_calls": [{"id": "1", "function": {"name": "n", "arguments": arguments}}],
                "function_call": {"name": "old", "arguments": "not json"},
            }
        ]
    }
    fields = find_texts(body, ROLES)
    assert [(f.pointer, f.text) for f in fields] == [
        ("/messages/0/tool_calls/0/function/arguments#/q", "a"),
        ("/messages/0/tool_calls/0/function/arguments#/nested/list/0", "b"),
        ("/messages/0/function_call/arguments", "not json"),
    ]
    rebuilt = replace_texts(body, fields, ["A", "b", "NOT JSON"])
    calls = rebuilt["messages"][0]["tool_calls"]
    assert json.loads(calls[0]["function"]["arguments"]) == {
        "q": "A",
        "nested": {"list": ["b", 1, None]},
    }
    assert rebuilt["messages"][0]["function_call"]["arguments"] == "NOT JSON"


def test_deeply_nested_arguments_are_scanned_as_text() -> None:
    arguments = "[" * 5000 + "]" * 5000
    body = {
        "messages": [{"role": "assistant", "tool_calls": [{"function": {"arguments": arguments}}]}]
    }
    assert [f.inner for f in find_texts(body, ROLES)] == [None]


def test_replace_texts_leaves_the_input_untouched() -> None:
    body = {"messages": [{"role": "user", "content": "abc"}], "n": 1}
    fields = find_texts(body, ROLES)
    rebuilt = replace_texts(body, fields, ["###"])
    assert body["messages"][0]["content"] == "abc"
    assert rebuilt == {"messages": [{"role": "user", "content": "###"}], "n": 1}


def test_data_uris_are_not_text() -> None:
    body = {"payload": {"image": "data:image/png;base64,QUJD", "note": "hi"}}
    assert _pointers(body) == ["/payload/note"]


def test_binary_and_structural_keys_in_unknown_bodies() -> None:
    body = {
        "id": "x",
        "type": "y",
        "data": "QUJD",
        "text": "t",
        "items": [{"model": "m", "v": "w"}],
    }
    assert _pointers(body) == ["/text", "/items/0/v"]


def test_responses_items() -> None:
    body = {
        "instructions": "be brief",
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "u"}]},
            {"type": "function_call", "call_id": "c", "name": "f", "arguments": '{"a": "b"}'},
            {"type": "function_call_output", "call_id": "c", "output": "o"},
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "r"}]},
        ],
    }
    assert _pointers(body) == [
        "/input/0/content/0/text",
        "/input/1/arguments#/a",
        "/input/2/output",
        "/input/3/summary/0/text",
    ]
    assert _pointers(body, ["system", "user"])[0] == "/instructions"


def test_token_arrays_are_not_text() -> None:
    assert _pointers({"prompt": [[1, 2, 3]], "input": [4, 5]}) == []


def test_pointer_escapes() -> None:
    body = {"a/b": {"c~d": "x"}}
    assert _pointers(body) == ["/a~1b/c~0d"]


def test_arguments_json_is_read_with_the_request_decoders_rules() -> None:
    for arguments in ('{"a": "x", "a": "y"}', '{"a": NaN}', '{"a": "\\ud800"}'):
        body = {
            "messages": [
                {"role": "assistant", "tool_calls": [{"function": {"arguments": arguments}}]}
            ]
        }
        assert [(f.inner, f.text) for f in find_texts(body, ROLES)] == [(None, arguments)]


def test_rebuilding_copies_only_the_changed_branches() -> None:
    untouched = {"big": list(range(10))}
    body = {"messages": [{"role": "user", "content": "abc"}], "other": untouched}
    rebuilt = replace_texts(body, find_texts(body, ROLES), ["###"])
    assert rebuilt["other"] is untouched
    assert rebuilt["messages"] is not body["messages"]
    assert body["messages"][0]["content"] == "abc"
