"""Putting the originals back: placeholders in a model's answer replaced from a restore token.

``restore_body`` walks an OpenAI response (Chat Completions ``choices[].message``, legacy
``choices[].text``, Responses API ``output[]`` items, streaming chunks and events): every string
except structural keys and binary payloads. Tool-call ``arguments`` are decoded, restored and
re-encoded, so they stay valid JSON whatever the originals contain. Placeholders the model
altered (``<person_1>``, ``Person_1``, ``<Person 1>``) are found by the tolerant pattern of
``pseudonyms``; placeholders not in the token are left as they are. JSON inside a string that
nests deeper than ``MAX_JSON_DEPTH`` is restored as text, originals JSON-escaped (a placeholder in
valid JSON can only sit inside a string literal, so it stays valid JSON); an answer nesting deeper
than ``MAX_ANSWER_DEPTH`` is refused with a 400.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Literal

from redaction.errors import InvalidRequestError
from redaction.placeholders.pseudonyms import (
    PlaceholderKey,
    match_key,
    parse_placeholder,
    placeholder_pattern,
)
from redaction.planning.body import BINARY_KEYS, STRUCTURAL_KEYS

SKIPPED_KEYS = STRUCTURAL_KEYS | BINARY_KEYS
JSON_KEYS = frozenset({"arguments"})
MAX_JSON_DEPTH = 64  # decoded and rebuilt up to this depth (PII_MAX_DEPTH's default)
# PII_MAX_DEPTH may allow up to 1,000 levels; an answer is walked recursively and serialized by
# pydantic, which stops at 255.
MAX_ANSWER_DEPTH = 200
JsonKind = Literal["text", "json", "deep"]
# What the tolerant pattern allows around a label: bracket, spaces, separator, digits, bracket.
_MAX_EXTRA_CHARS = 1 + 2 + 2 + 1 + 2 + 9 + 2 + 1


class Placeholders:
    """The placeholders of one restore token, and the pattern that finds them in any spelling."""

    def __init__(self, mapping: Mapping[str, str]) -> None:
        self.originals: dict[PlaceholderKey, str] = {}
        labels: set[str] = set()
        for placeholder, original in mapping.items():
            key = parse_placeholder(placeholder)
            if key is not None:
                self.originals[key] = original
                labels.add(key[0])
        self.pattern = placeholder_pattern(labels)
        self.max_length = max((len(label) for label in labels), default=0) + _MAX_EXTRA_CHARS

    def original(self, match: Any) -> str | None:
        return self.originals.get(match_key(match))


Escape = Callable[[str], str]


def json_escape(original: str) -> str:
    """``original`` as it must appear inside a JSON string literal."""
    return json.dumps(original, ensure_ascii=False)[1:-1]


def restore_span(
    text: str, placeholders: Placeholders, start: int, end: int, escape: Escape | None = None
) -> tuple[str, int]:
    """``text[start:end]`` restored (characters before ``start`` are context only), and the
    number of placeholders replaced."""
    pieces: list[str] = []
    position = start
    replaced = 0
    for match in placeholders.pattern.finditer(text, start, end):
        original = placeholders.original(match)
        if original is None:
            continue
        pieces.append(text[position : match.start()])
        pieces.append(escape(original) if escape else original)
        position = match.end()
        replaced += 1
    pieces.append(text[position:end])
    return "".join(pieces), replaced


def restore_text(text: str, placeholders: Placeholders) -> tuple[str, int]:
    """``text`` with every known placeholder replaced by its original; a string that held JSON
    still holds JSON afterwards."""
    restored, replaced = restore_span(text, placeholders, 0, len(text))
    if not replaced:
        return restored, 0
    kind = _json_kind(text)
    if kind == "deep" or (kind == "json" and _json_kind(restored) == "text"):
        return _restore_json(text, placeholders, kind)
    return restored, replaced


def restore_body(body: Any, placeholders: Placeholders) -> tuple[Any, int]:
    """A copy of ``body`` with placeholders restored in every content string.

    Raises ``InvalidRequestError`` when the body nests deeper than ``MAX_ANSWER_DEPTH``."""
    if _deeper_than(body, MAX_ANSWER_DEPTH):
        raise InvalidRequestError(
            f"the answer nests deeper than {MAX_ANSWER_DEPTH} levels",
            [{"field": "body", "limit": MAX_ANSWER_DEPTH}],
        )
    return _restore_value(body, placeholders, None)


def _restore_value(value: Any, placeholders: Placeholders, key: str | None) -> tuple[Any, int]:
    if isinstance(value, str):
        if key in JSON_KEYS and (kind := _json_kind(value)) != "text":
            return _restore_json(value, placeholders, kind)
        return restore_text(value, placeholders)
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        total = 0
        for name, item in value.items():
            if name in SKIPPED_KEYS:
                result[name] = item
                continue
            result[name], replaced = _restore_value(item, placeholders, name)
            total += replaced
        return result, total
    if isinstance(value, list):
        items = [_restore_value(item, placeholders, key) for item in value]
        return [item for item, _ in items], sum(replaced for _, replaced in items)
    return value, 0


def _restore_json(encoded: str, placeholders: Placeholders, kind: JsonKind) -> tuple[str, int]:
    """``encoded`` (JSON, or JSON too deep to rebuild) restored; still JSON afterwards."""
    if kind == "deep":
        return restore_span(encoded, placeholders, 0, len(encoded), json_escape)
    decoded, replaced = _restore_decoded(json.loads(encoded), placeholders)
    return (json.dumps(decoded, ensure_ascii=False), replaced) if replaced else (encoded, 0)


def _deeper_than(document: Any, limit: int) -> bool:
    """Whether decoded JSON nests deeper than ``limit`` levels (iterative: any depth)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return False


def _restore_decoded(value: Any, placeholders: Placeholders) -> tuple[Any, int]:
    """Inside decoded JSON every string is content, keys included."""
    if isinstance(value, str):
        return restore_span(value, placeholders, 0, len(value))
    if isinstance(value, dict):
        total = 0
        result: dict[str, Any] = {}
        for name, item in value.items():
            new_name, renamed = restore_span(name, placeholders, 0, len(name))
            result[new_name], replaced = _restore_decoded(item, placeholders)
            total += renamed + replaced
        return result, total
    if isinstance(value, list):
        items = [_restore_decoded(item, placeholders) for item in value]
        return [item for item, _ in items], sum(replaced for _, replaced in items)
    return value, 0


def _json_kind(text: str) -> JsonKind:
    """``json``; ``deep`` when it nests deeper than ``MAX_JSON_DEPTH`` or too deep for the
    decoder (taken as JSON: escaping originals is what keeps JSON valid); else ``text``."""
    if text.lstrip()[:1] not in ("{", "["):
        return "text"
    try:
        document = json.loads(text)
    except RecursionError:
        return "deep"
    except ValueError:
        return "text"
    return "deep" if _deeper_than(document, MAX_JSON_DEPTH) else "json"
