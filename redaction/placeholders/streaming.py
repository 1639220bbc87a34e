"""Restoring placeholders in a streamed answer (Server-Sent Events), for a gateway in Python.

``TextRestorer`` restores one text that arrives in pieces. It holds back only the tail that could
still become a placeholder (``<Per``, ``Person_12``, ``<Person 12 ``) and emits everything before
it at once, so the client never sees half a placeholder and the first token waits for nothing
else. Whatever the split, the concatenated output equals ``restore_text`` of the whole text.

``SseRestorer`` applies that to an OpenAI stream: Chat Completions chunks (``choices[].delta``
content, refusal and tool-call arguments, legacy ``choices[].text``) and Responses API events
(``response.output_text.delta``, ``response.function_call_arguments.delta``; every other event
is restored whole). Bytes may be split anywhere, even inside a UTF-8 character or a line. See
docs/pseudonymization.md for a gateway using it.
"""

from __future__ import annotations

import codecs
import copy
import json
from collections.abc import AsyncIterable, AsyncIterator, Hashable
from dataclasses import dataclass, field
from typing import Any

from redaction.placeholders.restore import (
    Escape,
    Placeholders,
    json_escape,
    restore_body,
    restore_span,
)


class TextRestorer:
    """Restores placeholders in one text fed piece by piece. ``escape`` (e.g. ``json_escape``)
    applies to originals written into JSON text such as streamed tool-call arguments."""

    def __init__(self, placeholders: Placeholders, escape: Escape | None = None) -> None:
        self.placeholders = placeholders
        self.escape = escape
        self._pending = ""
        self._before = ""  # the last source character already emitted (lookbehind context)
        self.restored = 0

    def feed(self, piece: str) -> str:
        buffer = self._pending + piece
        cut = self._hold_from(buffer)
        return self._emit(buffer, cut)

    def flush(self) -> str:
        """Everything held back, restored: call when the text is complete."""
        return self._emit(self._pending, len(self._pending))

    @property
    def holding(self) -> bool:
        return bool(self._pending)

    def _emit(self, buffer: str, cut: int) -> str:
        text = self._before + buffer
        start = len(self._before)
        out, replaced = restore_span(text, self.placeholders, start, start + cut, self.escape)
        self.restored += replaced
        self._pending = buffer[cut:]
        if cut:
            self._before = buffer[cut - 1]
        return out

    def _hold_from(self, buffer: str) -> int:
        """The first index from which ``buffer`` could still be (the start of) a placeholder."""
        text = self._before + buffer
        offset = len(self._before)
        pattern = self.placeholders.pattern
        for index in range(max(0, len(buffer) - self.placeholders.max_length), len(buffer)):
            if pattern.fullmatch(text, pos=offset + index, partial=True) is not None:
                return index
        return len(buffer)


@dataclass
class _Stream:
    """The restorers of one streamed response, by where their text goes."""

    placeholders: Placeholders
    texts: dict[Hashable, TextRestorer] = field(default_factory=dict)
    last_chunk: dict[str, Any] | None = None
    finished: int = 0  # placeholders restored by restorers already flushed

    def restorer(self, key: Hashable, escape: Escape | None = None) -> TextRestorer:
        if key not in self.texts:
            self.texts[key] = TextRestorer(self.placeholders, escape)
        return self.texts[key]

    def flush(self, key: Hashable) -> str:
        restorer = self.texts.pop(key, None)
        if restorer is None:
            return ""
        rest = restorer.flush()
        self.finished += restorer.restored
        return rest

    @property
    def restored(self) -> int:
        return self.finished + sum(restorer.restored for restorer in self.texts.values())


class SseRestorer:
    """Restores an OpenAI SSE stream fed as raw bytes; ``feed`` and ``close`` return bytes to
    send on. Events that are not JSON (``[DONE]``, comments) pass through unchanged."""

    def __init__(self, placeholders: Placeholders) -> None:
        self._stream = _Stream(placeholders)
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._partial = ""
        self._event: list[str] = []

    def feed(self, data: bytes) -> bytes:
        text = self._partial + self._decoder.decode(data)
        lines = text.splitlines(keepends=True)
        self._partial = lines.pop() if lines and not lines[-1].endswith(("\n", "\r")) else ""
        out: list[str] = []
        for line in lines:
            self._event.append(line)
            if line in ("\n", "\r\n", "\r"):
                out.append(self._finish_event())
        return "".join(out).encode("utf-8")

    def close(self) -> bytes:
        """The rest of the stream: an unterminated last event and any text still held back."""
        tail = self._partial + self._decoder.decode(b"", final=True)
        self._partial = ""
        if tail:
            self._event.append(tail)
        out = self._finish_event() if self._event else ""
        return (out + self._leftovers()).encode("utf-8")

    def _finish_event(self) -> str:
        lines, self._event = self._event, []
        data = [line for line in lines if line.startswith("data:")]
        payload = "\n".join(_data_value(line) for line in data)
        if payload.strip() == "[DONE]":
            return self._leftovers() + "".join(lines)
        try:
            event = json.loads(payload) if data else None
        except ValueError:
            event = None
        if not isinstance(event, dict):
            return "".join(lines)
        extra, event = self._restore_event(event)
        others = [line for line in lines if not line.startswith("data:") and line.strip()]
        newline = "\r\n" if lines[-1].endswith("\r\n") else "\n"
        body = "".join(others) + "data: " + _dumps(event) + newline + newline
        return "".join(extra) + body

    def _restore_event(self, event: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
        """Events to send before ``event``, and ``event`` restored."""
        kind = event.get("type")
        if isinstance(kind, str) and kind.startswith("response."):
            return _restore_responses_event(self._stream, event)
        if isinstance(event.get("choices"), list):
            return [], _restore_chat_chunk(self._stream, event)
        restored, _ = restore_body(event, self._stream.placeholders)
        return [], restored

    def _leftovers(self) -> str:
        """A final chunk with text still held back when a stream ends without finishing it."""
        stream = self._stream
        if not any(restorer.holding for restorer in stream.texts.values()):
            return ""
        template = stream.last_chunk or {"object": "chat.completion.chunk"}
        chunk = {key: value for key, value in template.items() if key != "choices"}
        choices: dict[int, dict[str, Any]] = {}
        for key in list(stream.texts):
            rest = stream.flush(key)
            if rest and isinstance(key, tuple):
                choice = choices.setdefault(key[1], {"index": key[1], "delta": {}})
                _append_text(choice, key, rest)
        chunk["choices"] = [choices[index] for index in sorted(choices)]
        return "data: " + _dumps(chunk) + "\n\n" if choices else ""

    @property
    def restored(self) -> int:
        return self._stream.restored


def _restore_chat_chunk(stream: _Stream, chunk: dict[str, Any]) -> dict[str, Any]:
    chunk = copy.deepcopy(chunk)
    stream.last_chunk = chunk
    for choice in chunk["choices"]:
        if not isinstance(choice, dict):
            continue
        index = choice.get("index", 0)
        delta = choice.get("delta")
        if isinstance(delta, dict):
            for name in ("content", "refusal"):
                if isinstance(delta.get(name), str):
                    delta[name] = stream.restorer(("delta", index, name)).feed(delta[name])
            for call in delta.get("tool_calls") or []:
                _restore_call_delta(stream, index, call)
        if isinstance(choice.get("text"), str):
            choice["text"] = stream.restorer(("text", index)).feed(choice["text"])
        if choice.get("finish_reason") is not None:
            for key in [key for key in stream.texts if isinstance(key, tuple) and key[1] == index]:
                _append_text(choice, key, stream.flush(key))
    return chunk


def _restore_call_delta(stream: _Stream, index: Any, call: Any) -> None:
    function = call.get("function") if isinstance(call, dict) else None
    if isinstance(function, dict) and isinstance(function.get("arguments"), str):
        key = ("call", index, call.get("index", 0))
        function["arguments"] = stream.restorer(key, json_escape).feed(function["arguments"])


def _append_text(choice: dict[str, Any], key: tuple[Any, ...], rest: str) -> None:
    """Adds text flushed for ``key`` to a choice of the chunk being sent."""
    if not rest:
        return
    if key[0] == "text":
        choice["text"] = str(choice.get("text") or "") + rest
        return
    delta = choice.setdefault("delta", {})
    if key[0] == "delta":
        delta[key[2]] = str(delta.get(key[2]) or "") + rest
        return
    calls = delta.setdefault("tool_calls", [])
    call = next((c for c in calls if isinstance(c, dict) and c.get("index", 0) == key[2]), None)
    if call is None:
        call = {"index": key[2], "function": {"arguments": ""}}
        calls.append(call)
    function = call.setdefault("function", {})
    function["arguments"] = str(function.get("arguments") or "") + rest


_DELTA_EVENTS = {
    "response.output_text.delta": ("response.output_text.done", None),
    "response.refusal.delta": ("response.refusal.done", None),
    "response.function_call_arguments.delta": ("response.function_call_arguments.done", "json"),
}
_DONE_EVENTS = {done: delta for delta, (done, _) in _DELTA_EVENTS.items()}


def _responses_key(event: dict[str, Any], kind: str) -> tuple[Any, ...]:
    return (kind, event.get("item_id"), event.get("output_index"), event.get("content_index"))


def _restore_responses_event(
    stream: _Stream, event: dict[str, Any]
) -> tuple[list[str], dict[str, Any]]:
    kind = str(event["type"])
    if kind in _DELTA_EVENTS and isinstance(event.get("delta"), str):
        escape = json_escape if _DELTA_EVENTS[kind][1] == "json" else None
        event = dict(event)
        event["delta"] = stream.restorer(_responses_key(event, kind), escape).feed(event["delta"])
        return [], event
    extra: list[str] = []
    if kind in _DONE_EVENTS:
        delta_kind = _DONE_EVENTS[kind]
        rest = stream.flush(_responses_key(event, delta_kind))
        if rest:
            flushed = {k: v for k, v in event.items() if k not in ("text", "arguments", "refusal")}
            flushed.update({"type": delta_kind, "delta": rest})
            extra.append("data: " + _dumps(flushed) + "\n\n")
    restored, _ = restore_body(event, stream.placeholders)
    return extra, restored


async def restore_sse(
    chunks: AsyncIterable[bytes], placeholders: Placeholders
) -> AsyncIterator[bytes]:
    """Restores an SSE byte stream chunk by chunk (a gateway's response body iterator)."""
    restorer = SseRestorer(placeholders)
    async for chunk in chunks:
        out = restorer.feed(chunk)
        if out:
            yield out
    tail = restorer.close()
    if tail:
        yield tail


def _data_value(line: str) -> str:
    value = line[5:]
    value = value[1:] if value.startswith(" ") else value
    return value.rstrip("\r\n")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
