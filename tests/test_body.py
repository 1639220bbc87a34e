"""Finding the text in OpenAI bodies and putting redacted text back (pure)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from redaction.planning.body import find_texts, replace_texts

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
        "/messages/4/name",
        "/messages/4/content",
        "/messages/5/content",
    ]
    # a message whose role is not scanned: only its own text (content) is left alone
    assert _pointers(body, ["System"]) == [
        "/messages/0/content",
        "/messages/3/refusal",
        "/messages/4/name",
    ]


def test_a_role_spelled_otherwise_is_scanned_with_its_message() -> None:
    for role in ("User", "user ", "SYSTEM", "customer"):
        body = {"messages": [{"role": role, "content": "x"}]}
        assert _pointers(body, ["assistant"]) == ["/messages/0/role", "/messages/0/content"]


def test_message_without_a_role_is_scanned() -> None:
    assert _pointers({"messages": [{"content": "x"}, {"role": 7, "content": "y"}]}, []) == [
        "/messages/0/content",
        "/messages/1/content",
    ]


def test_tool_call_arguments_are_scanned_inside() -> None:
    arguments = json.dumps({"q": "a", "nested": {"items": ["b", 1, None]}})
    body = {
        "messages": [
            {
                "role": "assistant",
                "tool_calls": [{"id": "1", "function": {"name": "n", "arguments": arguments}}],
                "function_call": {"name": "old", "arguments": "not json"},
            }
        ]
    }
    fields = [f for f in find_texts(body, ROLES) if f.kind == "text"]
    assert [(f.pointer, f.text) for f in fields] == [
        ("/messages/0/tool_calls/0/function/name", "n"),
        ("/messages/0/tool_calls/0/function/arguments#/*0", "a"),
        ("/messages/0/tool_calls/0/function/arguments#/*1/items/0", "b"),
        ("/messages/0/function_call/name", "old"),
        ("/messages/0/function_call/arguments", "not json"),
    ]
    rebuilt = replace_texts(body, fields, ["n", "A", "b", "old", "NOT JSON"])
    calls = rebuilt["messages"][0]["tool_calls"]
    assert json.loads(calls[0]["function"]["arguments"]) == {
        "q": "A",
        "nested": {"items": ["b", 1, None]},
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


def test_binary_only_in_binary_slots() -> None:
    png = (
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5E"
        "rkJggg=="
    )
    text = base64.b64encode(b"mail me at alice@example.com").decode()
    body = {
        "file": {
            "file_data": f"data:image/png;base64,{png}",
            "text": "data:;base64, is how it starts",
            "url": f"data:text/plain;base64,{text}",
            "data": "short",
        }
    }
    fields = find_texts(body, ROLES)
    assert [(f.pointer, f.text) for f in fields] == [
        ("/file/text", "data:;base64, is how it starts"),
        ("/file/url", "mail me at alice@example.com"),
        ("/file/data", "short"),
    ]
    rebuilt = replace_texts(body, fields, [f.text.replace("alice", "#####") for f in fields])
    assert (
        rebuilt["file"]["url"]
        == "data:text/plain;base64," + base64.b64encode(b"mail me at #####@example.com").decode()
    )
    assert rebuilt["file"]["file_data"] == body["file"]["file_data"]


def test_only_the_shape_makes_a_slot_exempt() -> None:
    body = {
        "model": "gpt-4o-mini",
        "id": "call_abc",
        "type": "message",
        "status": "4111111111111111",
        "tool_choice": "john@example.com",
        "items": [{"model": "m", "text": "w"}],
    }
    assert _pointers(body) == ["/status", "/tool_choice", "/items/0/text"]


def test_keys_outside_the_vocabulary_are_scanned_and_renamed_uniquely() -> None:
    body = {"metadata": {"alice@example.com": "a", "bob@example.com": "b", "note": 1}}
    fields = find_texts(body, ROLES)
    assert [(f.pointer, f.kind, f.text) for f in fields] == [
        ("/metadata/*0", "key", "alice@example.com"),
        ("/metadata/*0", "text", "a"),
        ("/metadata/*1", "key", "bob@example.com"),
        ("/metadata/*1", "text", "b"),
        ("/metadata/*2", "key", "note"),
    ]
    masked = ["#" * 3 if f.kind == "key" and "@" in f.text else f.text for f in fields]
    rebuilt = replace_texts(body, fields, masked)
    assert list(rebuilt["metadata"].items()) == [("###", "a"), ("###_2", "b"), ("note", 1)]


def test_long_numbers_are_scanned_and_become_strings_when_masked() -> None:
    arguments = json.dumps({"card": 4111111111111111, "n": 12345, "f": 1234567.5})
    body = {
        "seed": 42,
        "messages": [
            {"role": "assistant", "tool_calls": [{"function": {"arguments": arguments}}]},
            {"role": "assistant", "tool_calls": [{"function": {"arguments": "4111111111111111"}}]},
        ],
    }
    fields = [f for f in find_texts(body, ROLES) if f.kind == "number"]
    assert [(f.pointer, f.text) for f in fields] == [
        ("/messages/0/tool_calls/0/function/arguments#/*0", "4111111111111111"),
        ("/messages/0/tool_calls/0/function/arguments#/*2", "1234567.5"),
        ("/messages/1/tool_calls/0/function/arguments#", "4111111111111111"),
    ]
    rebuilt = replace_texts(body, fields, ["#" * 16, fields[1].text, "#" * 16])
    calls = [m["tool_calls"][0]["function"]["arguments"] for m in rebuilt["messages"]]
    assert json.loads(calls[0]) == {"card": "#" * 16, "n": 12345, "f": 1234567.5}
    assert json.loads(calls[1]) == "#" * 16


def test_url_slots_keep_a_plain_origin_and_scan_the_rest() -> None:
    body = {"input": [{"type": "input_image", "image_url": "https://cdn.example.com/p?u=a@b.co"}]}
    [field] = find_texts(body, ROLES)
    assert (field.prefix, field.text) == ("https://cdn.example.com", "/p?u=a@b.co")
    rebuilt = replace_texts(body, [field], ["/p?u=######"])
    assert rebuilt["input"][0]["image_url"] == "https://cdn.example.com/p?u=######"


def test_message_contents_share_a_flow_and_other_fields_do_not() -> None:
    body = {
        "user": "u",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "a"}, "b"]},
            {"role": "user", "name": "n", "content": "c"},
        ],
    }
    flows = {f.pointer: f.flow for f in find_texts(body, ROLES)}
    content = flows["/messages/0/content/0/text"]
    assert content is not None
    assert flows["/messages/0/content/1"] == content == flows["/messages/1/content"]
    assert flows["/user"] is None
    assert flows["/messages/1/name"] is None


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
        "/input/1/name",
        "/input/1/arguments#/*0",
        "/input/1/arguments#/*0",
        "/input/2/output",
        "/input/3/summary/0/text",
    ]
    assert _pointers(body, ["system", "user"])[0] == "/instructions"


def test_token_arrays_are_fields_no_detector_can_read() -> None:
    fields = find_texts({"prompt": [[1, 2, 3], "text"], "input": [4, 5]}, ROLES)
    assert [(f.pointer, f.kind, f.text) for f in fields] == [
        ("/prompt/0", "tokens", ""),
        ("/prompt/1", "text", "text"),
        ("/input", "tokens", ""),
    ]


def test_pointers_show_keys_outside_the_vocabulary_by_position() -> None:
    body = {"a/b": {"description": {"c~d": "x"}}}
    assert _pointers(body) == ["/*0", "/*0/description/*0", "/*0/description/*0"]


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
    fields = find_texts(body, ROLES)
    rebuilt = replace_texts(body, fields, ["###", *(f.text for f in fields[1:])])
    assert rebuilt["other"] is untouched
    assert rebuilt["messages"] is not body["messages"]
    assert body["messages"][0]["content"] == "abc"


def test_short_numbers_side_by_side_are_one_text_and_each_is_masked() -> None:
    arguments = json.dumps(
        {"ssn": [536, 22, 8915], "id": {"a": 536, "b": 22, "c": 8915, "d": "x"}, "n": [1, 2]}
    )
    body = {
        "messages": [{"role": "assistant", "tool_calls": [{"function": {"arguments": arguments}}]}]
    }
    fields = [f for f in find_texts(body, ROLES) if f.kind == "numbers"]
    assert [(f.text, f.context) for f in fields] == [
        ("536 22 8915", "ssn"),
        ("536 22 8915", "id a b c"),  # the members' own keys are read as cue words too
    ]
    masked = replace_texts(body, fields, ["### ## ####", "### 22 8915"])
    decoded = json.loads(masked["messages"][0]["tool_calls"][0]["function"]["arguments"])
    assert decoded == {
        "ssn": ["###", "##", "####"],
        "id": {"a": "###", "b": 22, "c": 8915, "d": "x"},
        "n": [1, 2],
    }
    # a mask of another length (a placeholder): all of it in the first number it touches
    masked = replace_texts(body, fields[:1], ["<SSN_1>"])
    decoded = json.loads(masked["messages"][0]["tool_calls"][0]["function"]["arguments"])
    assert decoded["ssn"] == ["<SSN_1>", "", ""]


def _run_fields(arguments: Any) -> list[Any]:
    body = {
        "messages": [
            {
                "role": "assistant",
                "tool_calls": [{"function": {"arguments": json.dumps(arguments)}}],
            }
        ]
    }
    return [f for f in find_texts(body, ROLES) if f.kind == "numbers"]


@pytest.mark.parametrize(
    "arguments",
    [
        {"date": [2024, 5, 17]},
        {"rgb": [255, 128, 64]},
        {"time": {"h": 14, "m": 25, "s": 55, "ms": 100}},
        {"resolution": [1920, 1080, 60]},
        {"zip_codes": [98052, 98101]},
        {"size": ["1920", "1080"]},
        [1920, 1080, 60],
    ],
)
def test_a_run_with_no_cue_and_no_check_is_not_read_as_one_text(arguments: Any) -> None:
    assert _run_fields(arguments) == []


@pytest.mark.parametrize(
    ("arguments", "text", "rebuilt"),
    [
        ({"ssn": ["536", "22", "8915"]}, "536 22 8915", {"ssn": ["###", "##", "####"]}),
        ({"phone": ["+1", "425", "555"]}, "+1 425 555", {"phone": ["##", "###", "###"]}),
        ({"ssn": [[536], [22], [8915]]}, "536 22 8915", {"ssn": [["###"], ["##"], ["####"]]}),
        (
            {"ssn": {"536": True, "22": True, "8915": True}},
            "536 22 8915",
            {"ssn": {"###": True, "##": True, "####": True}},
        ),
        (
            {"ssn_area": "536", "ssn_group": "22", "ssn_serial": "8915"},
            "536 22 8915",
            {"ssn_area": "###", "ssn_group": "##", "ssn_serial": "####"},
        ),
        ([4111, 1111, 1111, 1111], "4111 1111 1111 1111", ["####"] * 4),  # Luhn: no cue needed
    ],
)
def test_groups_as_strings_keys_or_one_element_arrays_are_one_text(
    arguments: Any, text: str, rebuilt: Any
) -> None:
    body = {
        "messages": [
            {
                "role": "assistant",
                "tool_calls": [{"function": {"arguments": json.dumps(arguments)}}],
            }
        ]
    }
    fields = [f for f in find_texts(body, ROLES) if f.kind == "numbers"]
    assert [f.text for f in fields] == [text]
    assert not [f for f in find_texts(body, ROLES) if f.kind == "key" and f.text.isdigit()]
    masked = replace_texts(
        body, fields, ["".join("#" if c.isdigit() or c == "+" else c for c in text)]
    )
    assert json.loads(masked["messages"][0]["tool_calls"][0]["function"]["arguments"]) == rebuilt


def test_a_token_refused_for_its_digits_is_read_with_its_underscores_as_spaces() -> None:
    body = {
        "model": "gpt_4o_2024_08_06",  # exempt: a date does not count
        "messages": [{"role": "tool", "tool_call_id": "call_536_22_8915", "content": "x"}],
    }
    fields = find_texts(body, ROLES)
    assert [f.text for f in fields] == ["call 536 22 8915", "x"]
    masked = replace_texts(body, fields, ["call ### ## ####", "x"])
    assert masked["messages"][0]["tool_call_id"] == "call_###_##_####"
    assert replace_texts(body, fields, [f.text for f in fields]) == body
