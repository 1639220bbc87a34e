"""Where the text is in an OpenAI request body, and how to put redacted text back.

``find_texts`` walks a parsed JSON body and returns every string the service must scan, with its
location; ``replace_texts`` returns a copy of the body with some of those strings replaced. Nothing
else in the body changes: values, types and key order are kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PathKey = str | int
Path = tuple[PathKey, ...]

# Keys whose values never hold conversation content, in bodies of unknown shape.
STRUCTURAL_KEYS = frozenset(
    {
        "model",
        "role",
        "type",
        "id",
        "object",
        "tool_call_id",
        "call_id",
        "tool_choice",
        "response_format",
        "encoding_format",
        "service_tier",
        "reasoning_effort",
        "modalities",
        "voice",
        "format",
        "detail",
        "mime_type",
        "media_type",
        "status",
        "finish_reason",
    }
)
# Keys whose values are encoded binary payloads (base64), never text.
BINARY_KEYS = frozenset({"data", "b64_json", "file_data", "image_url", "audio"})
TOOL_ROLES = frozenset({"tool", "function"})


@dataclass(frozen=True, slots=True)
class TextField:
    """A string to scan: ``path`` locates it in the body; ``inner`` locates it inside a JSON string
    at ``path`` (tool-call arguments), or is None when the string at ``path`` is the text."""

    path: Path
    inner: Path | None
    text: str

    @property
    def pointer(self) -> str:
        """RFC 6901 JSON pointer of the field (``#``-suffixed inside JSON-encoded arguments)."""
        outer = _pointer(self.path)
        return outer if self.inner is None else f"{outer}#{_pointer(self.inner)}"


def find_texts(body: Mapping[str, Any], scan_roles: Collection[str]) -> list[TextField]:
    """Every string of ``body`` that must be scanned, in document order."""
    roles = _effective_roles(scan_roles)
    return list(_walk_body(body, roles))


def replace_texts(
    body: Mapping[str, Any], fields: Sequence[TextField], texts: Sequence[str]
) -> Any:
    """A copy of ``body`` with ``fields[i]`` replaced by ``texts[i]`` wherever they differ.

    Only the containers on the way to a changed string are copied; the input is never changed.
    """
    root = _CopyOnWrite(body)
    inner_changes: dict[Path, list[tuple[Path, str]]] = {}
    for field, text in zip(fields, texts, strict=True):
        if text == field.text:
            continue
        if field.inner is None:
            root.set(field.path, text)
        else:
            inner_changes.setdefault(field.path, []).append((field.inner, text))
    for path, changes in inner_changes.items():
        decoded = _CopyOnWrite(strict_json_loads(_get(body, path)))
        for inner, text in changes:
            decoded.set(inner, text)
        root.set(path, json.dumps(decoded.value, ensure_ascii=False))
    return root.value


class _CopyOnWrite:
    """A JSON value whose containers are copied the first time something below them changes."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self._copied: dict[Path, Any] = {}

    def set(self, path: Path, item: Any) -> None:
        if not path:
            self.value = item
            return
        self._container(path[:-1])[path[-1]] = item

    def _container(self, path: Path) -> Any:
        if path in self._copied:
            return self._copied[path]
        if path:
            parent = self._container(path[:-1])
            clone = _shallow_copy(parent[path[-1]])
            parent[path[-1]] = clone
        else:
            clone = self.value = _shallow_copy(self.value)
        self._copied[path] = clone
        return clone


def _shallow_copy(container: Any) -> Any:
    return dict(container) if isinstance(container, Mapping) else list(container)


def strict_json_loads(encoded: str) -> Any:
    """JSON as the request decoder reads it: no duplicate keys, no NaN/Infinity, no lone
    surrogates. Anything else is not treated as JSON (its text is then scanned as a whole)."""
    value = json.loads(encoded, object_pairs_hook=_unique_pairs, parse_constant=_no_constant)
    if _LONE_SURROGATE.search(encoded) and _has_lone_surrogate(value):
        raise ValueError("a string holds an unpaired surrogate")
    return value


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key")
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_LONE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")
_SURROGATE_CHAR = re.compile("[\ud800-\udfff]")


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return _SURROGATE_CHAR.search(value) is not None
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


def _effective_roles(scan_roles: Collection[str]) -> frozenset[str]:
    roles = frozenset(role.lower() for role in scan_roles)
    return roles | TOOL_ROLES if roles & TOOL_ROLES else roles


def _walk_body(body: Mapping[str, Any], roles: frozenset[str]) -> Iterator[TextField]:
    known = False
    if isinstance(body.get("messages"), list):
        known = True
        yield from _walk_messages(body["messages"], ("messages",), roles)
    if "instructions" in body and isinstance(body["instructions"], str):
        known = True
        if "system" in roles:
            yield from _strings(body["instructions"], ("instructions",))
    for key in ("input", "prompt"):
        if key in body:
            known = True
            yield from _walk_input(body[key], (key,), roles)
    if not known:
        yield from _walk_any(body, ())


def _walk_messages(messages: list[Any], path: Path, roles: frozenset[str]) -> Iterator[TextField]:
    for index, message in enumerate(messages):
        where = (*path, index)
        if isinstance(message, dict):
            yield from _walk_message(message, where, roles)
        else:
            yield from _walk_any(message, where)


def _role_scanned(message: Mapping[str, Any], roles: frozenset[str]) -> bool:
    """A message is scanned when its role is listed, or when it has no readable role at all."""
    role = message.get("role")
    return not isinstance(role, str) or role.lower() in roles


def _walk_message(
    message: Mapping[str, Any], path: Path, roles: frozenset[str]
) -> Iterator[TextField]:
    if not _role_scanned(message, roles):
        return
    if "content" in message:
        yield from _walk_content(message["content"], (*path, "content"))
    if isinstance(message.get("refusal"), str):
        yield from _strings(message["refusal"], (*path, "refusal"))
    tool_calls = message.get("tool_calls")
    if isinstance(tool_calls, list):
        for index, call in enumerate(tool_calls):
            yield from _walk_call(call, (*path, "tool_calls", index, "function"))
    if isinstance(message.get("function_call"), dict):
        yield from _walk_arguments(message["function_call"], (*path, "function_call"))


def _walk_call(call: Any, path: Path) -> Iterator[TextField]:
    if isinstance(call, dict) and isinstance(call.get("function"), dict):
        yield from _walk_arguments(call["function"], path)


def _walk_arguments(function: Mapping[str, Any], path: Path) -> Iterator[TextField]:
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        yield from _walk_json_string(arguments, (*path, "arguments"))


def _walk_json_string(encoded: str, path: Path) -> Iterator[TextField]:
    """Strings inside a JSON-encoded string; the whole string as text when it is not JSON."""
    try:
        found = list(_json_strings(strict_json_loads(encoded), ()))
    except (ValueError, RecursionError):
        yield from _strings(encoded, path)
        return
    for inner_path, text in found:
        yield TextField(path, inner_path, text)


def _json_strings(value: Any, path: Path) -> Iterator[tuple[Path, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _json_strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_strings(item, (*path, index))


def _walk_content(content: Any, path: Path) -> Iterator[TextField]:
    if isinstance(content, str):
        yield from _strings(content, path)
    elif isinstance(content, list):
        for index, part in enumerate(content):
            yield from _walk_part(part, (*path, index))
    elif content is not None:
        yield from _walk_any(content, path)


def _walk_part(part: Any, path: Path) -> Iterator[TextField]:
    if isinstance(part, str):
        yield from _strings(part, path)
    elif isinstance(part, dict):
        for key in ("text", "refusal"):
            if isinstance(part.get(key), str):
                yield from _strings(part[key], (*path, key))


def _walk_input(value: Any, path: Path, roles: frozenset[str]) -> Iterator[TextField]:
    """``input``/``prompt`` of the Responses, completions and embeddings APIs."""
    if isinstance(value, str):
        yield from _strings(value, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk_input_item(item, (*path, index), roles)


def _walk_input_item(item: Any, path: Path, roles: frozenset[str]) -> Iterator[TextField]:
    if isinstance(item, str):
        yield from _strings(item, path)
    elif isinstance(item, dict):
        kind = item.get("type")
        if kind == "function_call":
            if "assistant" in roles:
                yield from _walk_arguments(item, path)
        elif kind == "function_call_output":
            if "tool" in roles:
                yield from _walk_content(item.get("output"), (*path, "output"))
        elif "content" in item or "role" in item:
            yield from _walk_message(item, path, roles)
        else:
            yield from _walk_any(item, path)


def _walk_any(value: Any, path: Path) -> Iterator[TextField]:
    """Every string of a value of unknown shape, except structural and binary keys."""
    if isinstance(value, str):
        yield from _strings(value, path)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in STRUCTURAL_KEYS and key not in BINARY_KEYS:
                yield from _walk_any(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk_any(item, (*path, index))


def _strings(text: str, path: Path) -> Iterator[TextField]:
    if not _is_data_uri(text):
        yield TextField(path, None, text)


def _is_data_uri(text: str) -> bool:
    return text.startswith("data:") and ";base64," in text[:200]


def _get(container: Any, path: Path) -> Any:
    for key in path:
        container = container[key]
    return container


def _set(container: Any, path: Path, value: Any) -> Any:
    """Sets ``value`` at ``path`` in place; returns the (possibly replaced) root."""
    if not path:
        return value
    _get(container, path[:-1])[path[-1]] = value
    return container


def _pointer(path: Path) -> str:
    return "".join("/" + str(key).replace("~", "~0").replace("/", "~1") for key in path)
