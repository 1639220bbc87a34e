"""Placeholders for detected values: ``<Category_N>``, the same for the same value everywhere.

``N`` is a keyed hash of (tenant, conversation key, category, normalized value), so a value gets
the same placeholder in every message, part and tool argument of a request and in every turn of
its conversation, and nothing has to be stored. Two different values never share a placeholder
in one request: when their hashes collide, the value seen later in the body probes on
(``k = 1, 2, ...``), so values of earlier turns keep their numbers when history is resent.

``PLACEHOLDER`` patterns are tolerant (``<person_1>``, ``Person_1``, ``<Person 1>``): they find
what ``/restore`` will replace. Numbers such patterns already find in the request are reserved,
and a placeholder that would form a new match with the text next to it is renumbered, so that
restoring is the exact inverse of pseudonymizing when nothing else touched the text.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import regex

from redaction.categories import ALL_CATEGORIES
from redaction.entities import Entity
from redaction.placeholders.sealing import Sealer
from redaction.planning.body import find_texts

NUMBER_MIN = 100_000
NUMBER_SPACE = 900_000  # six-digit numbers: 100000 ... 999999
PlaceholderKey = tuple[str, int]  # (casefolded label, number)

_SEPARATORS = re.compile(r"[\s\-.()/]+")
_WHITESPACE = re.compile(r"\s+")
_EXACT = re.compile(r"^<([0-9A-Za-z]+)_([0-9]+)>$")


def label_of(category: str) -> str:
    """The placeholder label of a category: its letters and digits (``Person``, ``Email``)."""
    return "".join(ch for ch in category if ch.isascii() and ch.isalnum()) or "Entity"


def placeholder_pattern(labels: Iterable[str]) -> Any:
    """A tolerant pattern for placeholders of ``labels``: groups ``label`` and ``number``."""
    names = sorted({re.escape(label) for label in labels}, key=lambda name: (-len(name), name))
    if not names:
        return regex.compile(r"(?!)")
    return regex.compile(
        r"(?:[<\[] {0,2}|(?<![0-9A-Za-z_]))"
        rf"(?P<label>{'|'.join(names)}) {{0,2}}[_\-]? {{0,2}}(?P<number>[0-9]{{1,9}})(?![0-9])"
        r"(?: {0,2}[>\]])?",
        regex.IGNORECASE,
    )


ALL_LABELS_PATTERN = placeholder_pattern(label_of(name) for name in ALL_CATEGORIES)


def parse_placeholder(text: str) -> PlaceholderKey | None:
    """The key of an exact ``<Label_N>``, else None."""
    match = _EXACT.match(text)
    return (match.group(1).casefold(), int(match.group(2))) if match else None


def match_key(match: Any) -> PlaceholderKey:
    return (str(match.group("label")).casefold(), int(match.group("number")))


def normalize(category: str, value: str) -> str:
    """The identity of a value: case, width and spacing folded; separators dropped in numbers."""
    folded = _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", value)).strip().casefold()
    if any(word in category for word in ("Number", "Code", "Identification")):
        return _SEPARATORS.sub("", folded)
    return folded


@dataclass(frozen=True)
class PseudonymScope:
    """What placeholder numbers are keyed on: a secret, the tenant and the conversation key."""

    secret: bytes
    tenant: str
    conversation: str

    def number(self, label: str, value: str, probe: int) -> int:
        message = json.dumps([self.tenant, self.conversation, label.casefold(), value, probe])
        digest = hmac.new(self.secret, message.encode("utf-8"), hashlib.sha256).digest()
        return NUMBER_MIN + int.from_bytes(digest[:8], "big") % NUMBER_SPACE


def conversation_key(secret: bytes, body: dict[str, Any], conversation_id: str | None) -> str:
    """``conversation_id`` when given, else a keyed hash of the first user text of the body."""
    if conversation_id:
        return "id:" + conversation_id
    contents = [field for field in find_texts(body, ["user"]) if field.flow is not None]
    first = contents[0].text if contents else ""
    digest = hmac.new(secret, b"conversation\x00" + first.encode("utf-8"), hashlib.sha256)
    return "first-user:" + digest.hexdigest()


@dataclass(frozen=True)
class Pseudonymized:
    """The texts with placeholders, and each placeholder's original (its first spelling)."""

    texts: list[str]
    mapping: dict[str, str]


@dataclass
class _Assignment:
    scope: PseudonymScope
    reserved: set[PlaceholderKey]
    by_value: dict[tuple[str, str], str] = field(default_factory=dict)
    mapping: dict[str, str] = field(default_factory=dict)

    def placeholder(self, category: str, original: str) -> str:
        label = label_of(category)
        identity = (label, normalize(category, original))
        known = self.by_value.get(identity)
        if known is not None:
            return known
        for probe in count():
            number = self.scope.number(label, identity[1], probe)
            if (label.casefold(), number) not in self.reserved:
                break
        self.reserved.add((label.casefold(), number))
        placeholder = f"<{label}_{number}>"
        self.by_value[identity] = placeholder
        self.mapping[placeholder] = original
        return placeholder


def pseudonymize(
    texts: Sequence[str],
    entities: Sequence[Sequence[Entity]],
    scope: PseudonymScope,
    context: Iterable[str] = (),
) -> Pseudonymized:
    """``texts`` with each entity span replaced by its placeholder. ``context`` is every other
    string the model will see: placeholder-like text found there is never assigned."""
    spans = [placeholder_spans(text, found) for text, found in zip(texts, entities, strict=True)]
    reserved = {match_key(m) for text in [*texts, *context] for m in _matches(text)}
    while True:
        assignment = _Assignment(scope, set(reserved))
        pieces = [
            _replace(text, found, assignment) for text, found in zip(texts, spans, strict=True)
        ]
        clashes = _clashes(pieces, assignment.mapping)
        if not clashes:
            joined = ["".join(piece for piece, _ in text_pieces) for text_pieces in pieces]
            return Pseudonymized(joined, assignment.mapping)
        reserved |= clashes


def _matches(text: str) -> Iterator[Any]:
    return iter(ALL_LABELS_PATTERN.finditer(text)) if text else iter(())


Span = tuple[int, int, str]


def placeholder_spans(text: str, entities: Sequence[Entity]) -> list[Span]:
    """Sorted, non-overlapping ``(start, end, category)``: overlapping entities become one span
    named for the longest of them (then the highest score)."""
    merged: list[tuple[int, int, Entity]] = []
    for entity in sorted(entities, key=lambda e: (e.offset, -e.length)):
        start, end = max(entity.offset, 0), min(entity.end, len(text))
        if start >= end:
            continue
        if merged and start < merged[-1][1]:
            first, last, best = merged[-1]
            if (entity.length, entity.score) > (best.length, best.score):
                best = entity
            merged[-1] = (first, max(last, end), best)
        else:
            merged.append((start, end, entity))
    return [(start, end, entity.category) for start, end, entity in merged]


def _replace(text: str, spans: Sequence[Span], assignment: _Assignment) -> list[tuple[str, bool]]:
    """The pieces of the new text; True marks a placeholder."""
    pieces: list[tuple[str, bool]] = []
    position = 0
    for start, end, category in spans:
        pieces.append((text[position:start], False))
        pieces.append((assignment.placeholder(category, text[start:end]), True))
        position = end
    pieces.append((text[position:], False))
    return pieces


def _clashes(
    pieces: Sequence[Sequence[tuple[str, bool]]], mapping: dict[str, str]
) -> set[PlaceholderKey]:
    """Keys of placeholders that restoring would find where none was put (text + placeholder)."""
    keys = {parse_placeholder(placeholder) for placeholder in mapping}
    found: set[PlaceholderKey] = set()
    for text_pieces in pieces:
        inserted: set[tuple[int, int]] = set()
        position = 0
        for piece, is_placeholder in text_pieces:
            if is_placeholder:
                inserted.add((position, position + len(piece)))
            position += len(piece)
        text = "".join(piece for piece, _ in text_pieces)
        for match in _matches(text):
            if match_key(match) in keys and match.span() not in inserted:
                found.add(match_key(match))
    return found


def body_strings(value: Any) -> Iterator[str]:
    """Every key and string of a JSON value, and the strings inside JSON-encoded strings."""
    if isinstance(value, str):
        yield value
        if value[:1] in ("{", "["):
            try:
                inner = json.loads(value)
            except (ValueError, RecursionError):
                return
            yield from body_strings(inner)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from body_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from body_strings(item)


@dataclass(frozen=True)
class PlaceholderIssuer:
    """Placeholder mode of ``/redact``: pseudonymizes the texts and seals the mapping."""

    secret: bytes
    sealer: Sealer

    def issue(
        self,
        body: dict[str, Any],
        texts: Sequence[str],
        entities: Sequence[Sequence[Entity]],
        binding: TokenBinding,
    ) -> tuple[list[str], str | None]:
        """The new texts, and the restore token (None when nothing was replaced)."""
        conversation = conversation_key(self.secret, body, binding.conversation_id)
        scope = PseudonymScope(self.secret, binding.tenant or "", conversation)
        result = pseudonymize(texts, entities, scope, body_strings(body))
        if not result.mapping:
            return result.texts, None
        return result.texts, self.sealer.seal(result.mapping, binding.tenant, binding.correlation)


@dataclass(frozen=True)
class TokenBinding:
    """Who a token is for: tenant and correlation id are sealed in; the conversation keys N."""

    tenant: str | None
    correlation: str | None
    conversation_id: str | None
