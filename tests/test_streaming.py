"""The SSE restore helper: whatever the split, the stream restores to what ``restore_text`` gives,
no half placeholder is ever sent, and only a possible placeholder start is held back."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from redaction.placeholders.restore import Placeholders, restore_text
from redaction.placeholders.streaming import SseRestorer, TextRestorer, restore_sse

MAPPING = {"<Person_123456>": 'Ann "A" Lee', "<Email_654321>": "ann@example.com"}
PLACEHOLDERS = Placeholders(MAPPING)
TEXTS = [
    "Hi <Person_123456>, mail <Email_654321>.",
    "<Person_123456><Email_654321>",
    "Dear person_123456 and < Person 123456 > and [Email-654321]",
    "<Person_999999> stays, <Per and Person_12345 too",
    "Email_654321",
    "x<Person_123456",
]


def stream(text: str, cuts: list[int]) -> list[str]:
    restorer = TextRestorer(PLACEHOLDERS)
    bounds = [0, *cuts, len(text)]
    out = [restorer.feed(text[a:b]) for a, b in itertools.pairwise(bounds)]
    return [*out, restorer.flush()]


def test_every_single_split_restores_like_the_whole_text() -> None:
    for text in TEXTS:
        expected = restore_text(text, PLACEHOLDERS)[0]
        for cut in range(len(text) + 1):
            pieces = stream(text, [cut])
            assert "".join(pieces) == expected, (text, cut)


def test_every_pair_of_splits_restores_like_the_whole_text() -> None:
    for text in TEXTS[:3]:
        expected = restore_text(text, PLACEHOLDERS)[0]
        for first in range(len(text) + 1):
            for second in range(first, len(text) + 1):
                assert "".join(stream(text, [first, second])) == expected


def test_character_by_character_never_sends_half_a_placeholder() -> None:
    text = "Hi <Person_123456>, mail <Email_654321>."
    pieces = stream(text, list(range(1, len(text))))
    sent = ""
    for piece in pieces:
        sent += piece
        assert "<" not in sent  # every "<" of the text opens a placeholder
        assert "_1234" not in sent
        assert "6543" not in sent
    assert sent == 'Hi Ann "A" Lee, mail ann@example.com.'


def test_only_a_possible_placeholder_start_is_held_back() -> None:
    restorer = TextRestorer(PLACEHOLDERS)
    assert restorer.feed("Hello there, ") == "Hello there, "
    assert restorer.feed("dear <Pers") == "dear "
    assert restorer.feed("on_123456") == ""  # could still end with ">"
    assert restorer.feed("> how") == 'Ann "A" Lee how'
    assert restorer.feed(" is Perhaps") == " is Perhaps"
    assert restorer.feed(" E") == " "
    assert restorer.feed("xcellent") == "Excellent"
    assert restorer.flush() == ""


def test_json_escape_keeps_streamed_arguments_valid() -> None:
    restorer = TextRestorer(PLACEHOLDERS, escape=lambda value: json.dumps(value)[1:-1])
    arguments = '{"to": "<Person_123456>"}'
    out = "".join(restorer.feed(ch) for ch in arguments) + restorer.flush()
    assert json.loads(out) == {"to": 'Ann "A" Lee'}


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["<Person_123456>", "Email_654321", "<", "Per", "son", "_", "1", " ", "x"]),
        max_size=12,
    ),
    st.lists(st.integers(0, 200), max_size=6),
)
def test_random_streams_restore_like_the_whole_text(parts: list[str], cuts: list[int]) -> None:
    text = "".join(parts)
    points = sorted({cut for cut in cuts if cut <= len(text)})
    assert "".join(stream(text, points)) == restore_text(text, PLACEHOLDERS)[0]


# --- SSE --------------------------------------------------------------------------------------


def chat_chunk(content: str | None = None, finish: str | None = None, **delta: Any) -> bytes:
    if content is not None:
        delta["content"] = content
    chunk = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "model": "gpt-4o",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(chunk)}\n\n".encode()


def events(raw: bytes) -> list[Any]:
    found = []
    for block in raw.decode().split("\n\n"):
        data = "".join(line[6:] for line in block.splitlines() if line.startswith("data: "))
        if data.startswith("{"):
            found.append(json.loads(data))
        elif data == "[DONE]":
            found.append(data)
    return found


def chat_text(raw: bytes) -> str:
    return "".join(
        choice["delta"].get("content") or ""
        for event in events(raw)
        if event != "[DONE]"
        for choice in event["choices"]
    )


def split_bytes(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def run_sse(chunks: list[bytes]) -> bytes:
    restorer = SseRestorer(PLACEHOLDERS)
    return b"".join(restorer.feed(chunk) for chunk in chunks) + restorer.close()


def test_chat_stream_with_a_placeholder_split_across_every_chunk_boundary() -> None:
    text = "Hello <Person_123456>, write to <Email_654321> ✓"
    expected = 'Hello Ann "A" Lee, write to ann@example.com ✓'
    for cut in range(len(text) + 1):
        body = chat_chunk("", role="assistant") + chat_chunk(text[:cut]) + chat_chunk(text[cut:])
        body += chat_chunk(finish="stop") + b"data: [DONE]\n\n"
        out = run_sse([body])
        assert chat_text(out) == expected, cut
        assert events(out)[-1] == "[DONE]"
        for event in events(out)[:-1]:
            content = event["choices"][0]["delta"].get("content") or ""
            assert "<" not in content
            assert "_" not in content


def test_sse_bytes_split_anywhere_even_inside_utf8() -> None:
    text = "Hé <Person_123456> ✓"
    body = b"".join(chat_chunk(ch) for ch in text) + chat_chunk(finish="stop")
    body += b"data: [DONE]\n\n"
    for size in (1, 2, 3, 7, 64):
        out = run_sse(split_bytes(body, list(range(size, len(body), size))))
        assert chat_text(out) == 'Hé Ann "A" Lee ✓'


def test_held_back_text_is_sent_when_the_stream_ends_without_finishing() -> None:
    out = run_sse([chat_chunk("bye <Person_123456"), b"data: [DONE]\n\n"])
    assert chat_text(out) == 'bye Ann "A" Lee'
    assert events(out)[-1] == "[DONE]"
    out = run_sse([chat_chunk("bye <Email_654321")])
    assert chat_text(out) == "bye ann@example.com"


def test_streamed_tool_call_arguments_stay_valid_json() -> None:
    arguments = '{"to": "<Person_123456>"}'
    body = b"".join(
        chat_chunk(tool_calls=[{"index": 0, "function": {"arguments": ch}}]) for ch in arguments
    )
    out = run_sse([body + chat_chunk(finish="tool_calls")])
    joined = "".join(
        call["function"].get("arguments", "")
        for event in events(out)
        for call in event["choices"][0]["delta"].get("tool_calls", [])
    )
    assert json.loads(joined) == {"to": 'Ann "A" Lee'}


def responses_event(kind: str, **fields: Any) -> bytes:
    event = {"type": kind, "item_id": "m1", "output_index": 0, "content_index": 0, **fields}
    return f"event: {kind}\ndata: {json.dumps(event)}\n\n".encode()


def test_responses_api_stream_is_restored() -> None:
    text = "Hi <Person_123456>!"
    for cut in range(len(text) + 1):
        body = responses_event("response.output_text.delta", delta=text[:cut])
        body += responses_event("response.output_text.delta", delta=text[cut:])
        body += responses_event("response.output_text.done", text=text)
        completed = {"output": [{"type": "message", "content": [{"text": text}]}]}
        body += responses_event("response.completed", response=completed)
        found = events(run_sse([body]))
        deltas = "".join(e["delta"] for e in found if e["type"].endswith(".delta"))
        assert deltas == 'Hi Ann "A" Lee!', cut
        done = next(e for e in found if e["type"] == "response.output_text.done")
        assert done["text"] == 'Hi Ann "A" Lee!'
        final = found[-1]["response"]["output"][0]["content"][0]["text"]
        assert final == 'Hi Ann "A" Lee!'


def test_other_events_and_comments_pass_through() -> None:
    body = b": keep-alive\n\nevent: ping\ndata: not json\n\n" + chat_chunk("plain")
    out = run_sse([body])
    assert out.startswith(b": keep-alive\n\nevent: ping\ndata: not json\n\n")
    assert chat_text(out) == "plain"


async def test_restore_sse_wraps_an_async_byte_stream() -> None:
    async def upstream() -> AsyncIterator[bytes]:
        for piece in (chat_chunk("to <Pers"), chat_chunk("on_123456>"), b"data: [DONE]\n\n"):
            yield piece

    out = b"".join([chunk async for chunk in restore_sse(upstream(), PLACEHOLDERS)])
    assert chat_text(out) == 'to Ann "A" Lee'
