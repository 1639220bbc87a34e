"""Where the text is in an OpenAI request body, and how to put redacted text back.

Default deny: ``find_texts`` returns every string of the body, every object key outside the
fixed vocabulary of OpenAI field names, every number with six or more digits, and every run of
two or more short groups of digits side by side in one array or object of the caller's own data
(``[536, 22, 8915]``, ``{"area": "536", "group": "22", "serial": "8915"}``, ``[[536], [22]]``,
or the keys of one object) as one text, each with its location. A run is read only when it can
be an identifier a reader would call personal: a key above it or beside it names one (``ssn``,
``card``, ``phone``: the cue words of ``_CUES``), or its digits are a Luhn-checked card number;
a date, a colour or a screen size given as integers is left as it is.
Only a short list of slots is exempt, and only when the value has the non-text shape the OpenAI
schema fixes for it (``vocabulary.exempt``): a model name, an exact role, an enum token, an
id; such a token refused for the digits it holds is read with its ``_`` as spaces. Base64 is
skipped only in binary slots, and only when it decodes to bytes that are not text;
text behind base64 (``data:text/plain;base64,...``) is decoded and scanned. Tool-call arguments
are parsed as JSON and walked like the body (a lone surrogate spelled in them is refused by the
request decoder, as one in the body is: ``holds_lone_surrogate``); arguments that are not JSON,
or nest too deeply for the parser, are scanned as written. A message whose role is exactly a
known role that ``scan_roles`` does not list has its own text (``content``; a function call
output's ``output``) left alone, and every other field scanned (``tool_calls``, ``name``,
``refusal``, fields this service has never heard of); any other role is scanned whole.

``replace_texts`` returns a copy of the body with some of those texts replaced: a string in
place, a key renamed (keys stay unique, order kept), a number turned into the masked string (each
group of a run that a mask touches), an encoded text re-encoded. Nothing else changes.
"""

from __future__ import annotations

import base64
import binascii
import functools
import itertools
import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from redaction import strict_json
from redaction.planning.vocabulary import (
    FIELD_NAMES,
    KNOWN_ROLES,
    SCHEMA_NUMBERS,
    TOKEN_KEYS,
    TOOL_ROLES,
    exempt,
    is_vocabulary,
)

PathKey = str | int
Path = tuple[PathKey, ...]
FieldKind = Literal["text", "key", "number", "numbers", "tokens"]


class Member(NamedTuple):
    """A group of a ``numbers`` run: the steps from the run's container to it (its key or index,
    then a 0 for each one-element array around it), its span in the run's text, and whether it
    is an object key (renamed when masked) rather than a value."""

    steps: tuple[str | int, ...]
    start: int
    end: int
    key: bool = False


# Slots whose value may be a base64 payload (raw, or a data URI).
# Containers whose keys and values are the caller's own, even where a key is an OpenAI word:
# exemptions and binary slots do not apply below them.
FREE_FORM = frozenset(
    {"metadata", "parameters", "schema", "json_schema", "properties", "examples", "default"}
    | {"enum", "const", "variables", "arguments", "output", "format", "user_location"}
)
# Keys whose string value is a JSON text of its own (tool-call arguments): walked as JSON.
JSON_TEXT_KEYS = frozenset({"arguments"})
BINARY_KEYS = frozenset({"data", "b64_json", "file_data", "image_url", "url", "audio", "image"})
# Kept for /restore, which walks model answers: keys whose values are never model prose there.
STRUCTURAL_KEYS = frozenset(
    {"model", "role", "type", "id", "object", "tool_call_id", "call_id", "status"}
    | {"finish_reason", "encoding_format", "service_tier", "format", "detail", "mime_type"}
)
MIN_NUMBER_DIGITS = 6
MAX_CONTEXT = 64
# Raw base64 (no data URI) shorter than this is read as text: real payloads are far longer.
MIN_RAW_BASE64 = 64
_DIGIT = re.compile(r"\d")
_DATA_URI = re.compile(r"data:([^,;]{0,100})((?:;[^,;]{0,100}){0,8});base64,", re.IGNORECASE)
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")
_URL_ORIGIN = re.compile(
    r"https?://[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.){0,8}[A-Za-z0-9-]{1,63}(?::\d{1,5})?(?=[/?#]|$)"
)
# A run of digits (with separators) long enough to be a phone, an id or a card.
_PII_DIGITS = re.compile(r"\d(?:[-.]?\d){6,}")


@dataclass(frozen=True, slots=True)
class TextField:
    """Something to scan. ``path`` locates it in the body; ``inner`` inside the JSON string at
    ``path`` (tool-call arguments), or None. ``kind`` says what it is: a string (``text``), an
    object key (the last step of its path), or a number (its decimal text). A string's value is
    ``prefix + text``, or ``prefix + base64(text)`` when ``encoded``. A ``tokens`` field is a
    prompt given as token ids: it has no text to scan and is never covered. Fields with the same
    ``flow`` are read one after another by the model (message contents), so the seams between
    them are scanned too. ``public`` is the location with every key outside the vocabulary
    replaced by its position, so that diagnostics never echo the body. ``context`` is the key
    the value stands under (``phone`` for ``{"phone": 14255550100}``): detectors read it before
    the text, as the model does, and it is never masked as part of this field."""

    path: Path
    inner: Path | None
    text: str
    kind: FieldKind = "text"
    prefix: str = ""
    encoded: bool = False
    flow: int | None = None
    public: tuple[Path, Path | None] = field(default=((), None), compare=False)
    context: str = ""
    url: bool = False  # the URL of an image or file the provider fetches
    members: tuple[Member, ...] = ()  # a ``numbers`` run: the members at ``path``, in ``text``
    spaced: bool = False  # a token read with its "_" as spaces (``call 536 22 8915``)

    @property
    def pointer(self) -> str:
        """RFC 6901-style pointer (``#``-suffixed inside JSON-encoded arguments); a key outside
        the vocabulary appears as ``*N``, its position in its object."""
        outer, inner = self.public
        return _pointer(outer) if inner is None else f"{_pointer(outer)}#{_pointer(inner)}"

    def changed_members(self, text: str) -> list[tuple[Member, str]]:
        """The members of a ``numbers`` run that ``text`` (the run's text, masked) changes, each
        with its new value: the masked digits, or with a mask of another length (a placeholder),
        all of it in the first member it touches and nothing in the others."""
        if len(text) == len(self.text):
            pieces = [(m, text[m.start : m.end]) for m in self.members]
            return [p for p in pieces if p[1] != _num(self, p[0])]
        head = next(i for i, (a, b) in enumerate(zip(self.text, text, strict=False)) if a != b)
        tail = len(self.text) - _common_suffix(self.text, text, head)
        touched = [m for m in self.members if m[2] > head and m[1] < tail]
        if not touched:
            return []
        low, high = min(touched[0].start, head), max(touched[-1].end, tail)
        value = text[low : high + len(text) - len(self.text)]
        return [(touched[0], value), *((m, "") for m in touched[1:])]

    def value(self, text: str) -> Any:
        """What the body holds in this field's place once its text is ``text``."""
        if self.spaced:
            text = text.replace(" ", "_")
        if self.encoded:
            text = base64.b64encode(text.encode("utf-8")).decode("ascii")
        return self.prefix + text


def find_texts(body: Mapping[str, Any], scan_roles: Collection[str]) -> list[TextField]:
    """Every text of ``body`` that must be scanned, in document order."""
    walker = _Walker(_effective_roles(scan_roles))
    walker.object(body, _Where((), (), None))
    return walker.fields


def replace_texts(
    body: Mapping[str, Any], fields: Sequence[TextField], texts: Sequence[str]
) -> Any:
    """A copy of ``body`` with ``fields[i]`` replaced by ``texts[i]`` wherever they differ.

    Only the containers on the way to a change are copied; the input is never changed."""
    root = _Editor(body)
    inner: dict[Path, list[tuple[TextField, str]]] = {}
    for item, text in zip(fields, texts, strict=True):
        if text == item.text:
            continue
        if item.inner is None:
            root.change(item.path, item, text)
        else:
            inner.setdefault(item.path, []).append((item, text))
    for path, changes in inner.items():
        decoded = _Editor(strict_json_loads(_get(body, path)))
        for item, text in changes:
            decoded.change(item.inner or (), item, text)
        root.set(path, json.dumps(decoded.finish(), ensure_ascii=False))
    return root.finish()


def strict_json_loads(encoded: str) -> Any:
    """JSON as the request decoder reads it: no duplicate keys, no NaN/Infinity, no lone
    surrogates (the decoder refuses those first). Anything else is not treated as JSON (its text
    is then scanned as a whole)."""
    value = strict_json.loads(encoded)
    if _LONE_SURROGATE.search(encoded) and _has_lone_surrogate(value):
        raise ValueError("a string holds an unpaired surrogate")
    return value


def holds_lone_surrogate(encoded: str) -> bool:
    """Whether the JSON text ``encoded`` (tool-call arguments) spells a lone surrogate, in itself
    or in a JSON text nested in it; the request decoder refuses that as it does in the body. A
    text that is not JSON spells none: it is scanned as written."""
    if not _LONE_SURROGATE.search(encoded):
        return False
    try:
        value = strict_json.loads(encoded)
    except (ValueError, RecursionError):
        return False
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and _SURROGATE_CHAR.search(item):
            return True
        if isinstance(item, dict):
            if _member_holds_lone_surrogate(item):
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _member_holds_lone_surrogate(value: Mapping[str, Any]) -> bool:
    """A key of ``value``, or a JSON text nested under one of the ``JSON_TEXT_KEYS``."""
    if any(_SURROGATE_CHAR.search(key) for key in value):
        return True
    nested = (value.get(key) for key in JSON_TEXT_KEYS)
    return any(isinstance(text, str) and holds_lone_surrogate(text) for text in nested)


def _num(item: TextField, member: Member) -> str:
    return item.text[member.start : member.end]


def _common_suffix(old: str, new: str, floor: int) -> int:
    """The length of the common end of ``old`` and ``new``, not reaching below ``floor``."""
    size = 0
    limit = min(len(old), len(new)) - floor
    while size < limit and old[-1 - size] == new[-1 - size]:
        size += 1
    return size


# --- walking ------------------------------------------------------------------------------------


# Keys below which the request's own structure goes on: vocabulary that is not free-form.
_STRUCTURAL_KEYS = FIELD_NAMES - FREE_FORM


class _Where(NamedTuple):
    """A location: the real path, the public path, and the JSON-string path it is inside. (A
    named tuple: one is made per step of the walk, and a tuple is made several times faster
    than a frozen dataclass.)"""

    path: Path
    public: Path
    outer: tuple[Path, Path] | None  # (path, public) of the JSON string this is inside
    structural: bool = True  # on the request's own structure: exemptions and slots apply
    keys: tuple[str, ...] = ()  # the last keys above a value (``ssn``, ``value``)

    def child(self, key: PathKey, public: PathKey) -> _Where:
        path, shown = (*self.path, key), (*self.public, public)
        if isinstance(key, int):
            return _Where(path, shown, self.outer, self.structural, self.keys)
        structural = self.structural and key in _STRUCTURAL_KEYS
        return _Where(path, shown, self.outer, structural, (*self.keys, key)[-3:])

    @property
    def context(self) -> str:
        """The keys above, as the words they spell (``ssn value``)."""
        return " ".join(_words(key) for key in self.keys)[-MAX_CONTEXT:]


class _Walker:
    def __init__(self, roles: frozenset[str]) -> None:
        self.roles = roles
        self.fields: list[TextField] = []
        self._flows = itertools.count()

    # values of any shape

    def value(self, value: Any, where: _Where, flow: int | None = None, context: str = "") -> None:
        if isinstance(value, str):
            self.string(value, where, flow, context=context)
        elif isinstance(value, dict):
            self.object(value, where)
        elif isinstance(value, list):
            runs = {} if where.structural else _runs(list(enumerate(value)), where.context)
            grouped = {m.steps[0] for run in runs.values() for m in run.members}
            for index, item in enumerate(value):
                if index in runs:
                    self.numbers(runs[index], where)
                elif index not in grouped:
                    self.value(item, where.child(index, index), flow, context)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            self.number(value, where, context)

    def object(self, value: Mapping[str, Any], where: _Where) -> None:
        runs: dict[PathKey, _Run] = {}
        keys: dict[PathKey, _Run] = {}
        if not where.structural:
            candidates = [(k, v) for k, v in value.items() if not _exempt_number(k, v, where)]
            runs = _runs(candidates, where.context)
            keys = _runs([(k, k) for k in value], where.context, key=True)
        grouped = {m.steps[0] for run in runs.values() for m in run.members}
        renamed = {m.steps[0] for run in keys.values() for m in run.members}
        for position, (key, item) in enumerate(value.items()):
            inner = where.child(key, key if is_vocabulary(key) else f"*{position}")
            if key in keys:
                self.numbers(keys[key], where)
            if key in grouped:
                if key not in renamed:
                    self.key(key, inner)
                if key in runs:
                    self.numbers(runs[key], where)
            else:
                self.member(key, item, inner, named=key not in renamed)

    def numbers(self, run: _Run, where: _Where) -> None:
        """A run of groups of digits in one container, read as one text (``536 22 8915``)."""
        self.add(where, run.text, "numbers", context=run.context, members=run.members)

    def member(self, key: str, item: Any, where: _Where, *, named: bool = True) -> None:
        if named:
            self.key(key, where)
        if (where.structural or (where.outer is None and key in SCHEMA_NUMBERS)) and exempt(
            key, item
        ):
            return
        top = where.outer is None and len(where.path) == 1
        if where.structural and key in TOKEN_KEYS and _underscored(item):
            # a token refused for the digits it holds (``call_536_22_8915``): no detector reads
            # "_" between digits as a separator, so it is read with its "_" as spaces
            self.add(where, item.replace("_", " "), spaced=True)
        elif top and key == "messages" and isinstance(item, list):
            self.messages(item, where)
        elif top and key in ("input", "prompt") and isinstance(item, (str, list)):
            self.inputs(item, where)
        elif top and key == "instructions" and isinstance(item, str):
            if "system" in self.roles:
                self.string(item, where, self.flow())
        elif key in JSON_TEXT_KEYS and isinstance(item, str):
            self.json_string(item, where)
        elif where.structural and key in BINARY_KEYS and isinstance(item, str):
            self.binary(item, where)
        else:
            leaf = isinstance(item, (str, int, float, list))
            self.value(item, where, context=_cue(where.context) if leaf else "")

    def key(self, key: str, where: _Where) -> None:
        if not is_vocabulary(key):
            self.add(where, key, "key")

    def number(self, value: float, where: _Where, context: str = "") -> None:
        """A number as the digits it carries: ``4.111111111111111e15`` is a card number."""
        whole = isinstance(value, float) and value.is_integer() and abs(value) < 1e19
        text = str(int(value)) if whole else json.dumps(value)
        if len(_DIGIT.findall(text)) >= MIN_NUMBER_DIGITS:
            self.add(where, text, "number", context=context)

    def string(
        self,
        text: str,
        where: _Where,
        flow: int | None = None,
        prefix: str = "",
        context: str = "",
    ) -> None:
        data = _DATA_URI.match(text)
        if data is not None and not prefix:
            decoded = _decode_text(text[data.end() :])
            if decoded is not None:
                self.add(where, decoded, prefix=text[: data.end()], encoded=True, context=context)
                return
        self.add(where, text[len(prefix) :], prefix=prefix, flow=flow, context=context)

    def binary(self, text: str, where: _Where) -> None:
        """A binary slot: base64 of bytes that are not text is skipped; text behind base64 is
        decoded and scanned; a URL keeps a plain origin and has the rest scanned."""
        origin = _URL_ORIGIN.match(text)
        if origin is not None:
            prefix = _benign_origin(origin.group())
            self.add(where, text[len(prefix) :], prefix=prefix, url=True)
            return
        data = _DATA_URI.match(text)
        prefix = text[: data.end()] if data is not None else ""
        payload = text[len(prefix) :]
        decoded = _decode(payload) if payload and _BASE64.fullmatch(payload) else None
        if decoded is not None:
            as_text = _as_text(decoded)
            if as_text is not None:
                self.add(where, as_text, prefix=prefix, encoded=True)
                return
            if data is not None or len(payload) >= MIN_RAW_BASE64:
                return  # base64 of bytes that are not text: binary
        self.string(text, where)

    def json_string(self, encoded: str, where: _Where) -> None:
        """Tool-call arguments: walked as JSON; the whole string as text when it is not JSON."""
        try:
            decoded = strict_json_loads(encoded)
        except (ValueError, RecursionError):
            self.string(encoded, where)
            return
        inside = _Where((), (), (where.path, where.public), structural=False)
        try:
            self.value(decoded, inside)
        except RecursionError:
            self.fields = [f for f in self.fields if f.path != where.path or f.inner is None]
            self.string(encoded, where)

    # conversation shapes

    def messages(self, messages: list[Any], where: _Where) -> None:
        flow = self.flow()
        for index, message in enumerate(messages):
            self.message(message, where.child(index, index), flow)

    def inputs(self, value: str | list[Any], where: _Where) -> None:
        """``input``/``prompt`` of the Responses, completions and embeddings APIs. Items are
        read one after another (one flow); a list of plain strings is a batch of separate
        inputs (embeddings, completions), each read alone."""
        if isinstance(value, str):
            self.string(value, where, self.flow())
            return
        if _token_ids(value):
            self.add(where, "", "tokens")
            return
        flow = self.flow()
        for index, item in enumerate(value):
            if isinstance(item, dict):
                self.message(item, where.child(index, index), flow)
            elif isinstance(item, list) and _token_ids(item):
                self.add(where.child(index, index), "", "tokens")
            else:
                self.value(item, where.child(index, index))

    def message(self, message: Any, where: _Where, flow: int, *, part: bool = False) -> None:
        """A message or input item (``part``: a content part, never skipped by role)."""
        if not isinstance(message, dict):
            self.value(message, where, flow)
            return
        own = _NONE if part else self._own_text(message)
        for position, (key, item) in enumerate(message.items()):
            inner = where.child(key, key if is_vocabulary(key) else f"*{position}")
            if key in own:
                continue
            if key in ("content", "text", "refusal", "output"):
                self.key(key, inner)
                self.content(item, inner, flow)
            else:
                self.member(key, item, inner)

    def content(self, content: Any, where: _Where, flow: int) -> None:
        if isinstance(content, str):
            self.string(content, where, flow)
        elif isinstance(content, list):
            for index, item in enumerate(content):
                self.message(item, where.child(index, index), flow, part=True)
        else:
            self.value(content, where)

    def _own_text(self, message: Mapping[str, Any]) -> frozenset[str]:
        """The keys left alone: the ``content`` of a message whose role is exactly a known role
        not in ``scan_roles``, and the ``output`` of a Responses function call output when
        ``tool`` is not scanned. Every other field of such a message is scanned."""
        kind = message.get("type")
        role = message.get("role")
        if kind in (None, "message") and isinstance(role, str) and role in KNOWN_ROLES:
            return _NONE if role in self.roles else _CONTENT
        if kind == "function_call_output" and "tool" not in self.roles:
            return _OUTPUT
        return _NONE

    # fields

    def flow(self) -> int:
        return next(self._flows)

    def add(
        self,
        where: _Where,
        text: str,
        kind: FieldKind = "text",
        *,
        prefix: str = "",
        encoded: bool = False,
        flow: int | None = None,
        context: str = "",
        url: bool = False,
        members: tuple[Member, ...] = (),
        spaced: bool = False,
    ) -> None:
        inner: Path | None = None
        public: tuple[Path, Path | None] = (where.public, None)
        path = where.path
        if where.outer is not None:
            path, inner, public = where.outer[0], where.path, (where.outer[1], where.public)
        self.fields.append(
            TextField(
                path,
                inner,
                text,
                kind,
                prefix,
                encoded,
                flow,
                public,
                context,
                url,
                members,
                spaced,
            )
        )


class _Run(NamedTuple):
    """A run of groups read as one text: the cue words it is read after, and its members."""

    context: str
    text: str
    members: tuple[Member, ...]


def _runs(
    items: Sequence[tuple[PathKey, Any]], named: str, *, key: bool = False
) -> dict[PathKey, _Run]:
    """Runs of two or more groups of digits side by side among ``items`` (key, value), with six
    or more digits in all, by the key of their first member: an identifier given as its groups.
    A group is an integer of under six digits (longer ones are read alone) or a string of one to
    five digits (``"0100"``, ``"+1"``), either one alone in nested one-element arrays (``[536]``).
    A run is kept only when ``named`` (the keys above and beside it, as words) holds a cue word,
    or its digits are a card number's (Luhn-checked, 13 to 19 digits): ``[2024, 5, 17]`` or
    ``{"h": 14, "m": 25, "s": 55}`` are not an identifier."""
    runs: dict[PathKey, _Run] = {}
    run: list[tuple[PathKey, Path, str]] = []
    for name, item in [*items, ("", None)]:
        group = _group(item)
        if group is not None:
            run.append((name, *group))
            continue
        if len(run) >= 2:
            found = _run(run, named, key)
            if found is not None:
                runs[run[0][0]] = found
        run = []
    return runs


def _luhn_valid(digits: str) -> bool:
    """python-stdnum's Luhn check, imported here: at import time it would cost the Azure path's
    cold start (tests/test_coldstart.py), and most bodies hold no run of short numbers."""
    from stdnum import luhn

    return bool(luhn.is_valid(digits))


def _run(run: Sequence[tuple[PathKey, Path, str]], named: str, key: bool) -> _Run | None:
    digits = "".join(char for _, _, text in run for char in text if char.isdigit())
    if not key:  # the members' own keys name them too (``ssn_area``, ``ssn_group``)
        named = " ".join([named, *(_words(n) for n, _, _ in run if isinstance(n, str))])
    context = _cue(named)[-MAX_CONTEXT:]
    checked = 13 <= len(digits) <= 19 and _luhn_valid(digits)
    if len(digits) < MIN_NUMBER_DIGITS or not (context or checked):
        return None
    members: list[Member] = []
    position = 0
    for name, steps, text in run:
        members.append(Member((name, *steps), position, position + len(text), key))
        position += len(text) + 1
    return _Run(context, " ".join(text for _, _, text in run), tuple(members))


def _group(value: Any) -> tuple[Path, str] | None:
    """A value that may be one group of an identifier, as its text, with the steps into the
    one-element arrays around it."""
    steps: Path = ()
    while type(value) is list and len(value) == 1:
        value, steps = value[0], (*steps, 0)
    if type(value) is int and abs(value) < 10 ** (MIN_NUMBER_DIGITS - 1):
        return steps, str(value)
    if type(value) is str and _GROUP.fullmatch(value):
        return steps, value
    return None


_GROUP = re.compile(r"\+?[0-9]{1,5}")


def _underscored(value: Any) -> bool:
    """A token with "_" in it and no whitespace (so that every space read in it was a "_")."""
    return isinstance(value, str) and "_" in value and not _SPACE.search(value)


_SPACE = re.compile(r"\s")


def _exempt_number(key: str, value: Any, where: _Where) -> bool:
    """A JSON Schema bound in a tool's schema: never read as part of a run."""
    return where.outer is None and key in SCHEMA_NUMBERS and exempt(key, value)


_NONE: frozenset[str] = frozenset()
_CONTENT = frozenset({"content"})
_OUTPUT = frozenset({"output"})


def _token_ids(value: list[Any]) -> bool:
    """A prompt or input given as token ids: the model reads the text they stand for, which no
    detector here can read (it takes the model's tokenizer)."""
    return bool(value) and all(type(item) is int for item in value)


def _cue(context: str) -> str:
    """The keys above a value, when they name a kind of personal data: read before the value,
    they help a detector as a cue word does. Other keys are left out: some (``model``,
    ``version``) would read as a reason not to report a number."""
    return context if _CUES.search(context) else ""


_CUES = re.compile(
    r"\b(?:ssn|sin|social|security|phone|tel|telephone|mobile|cell|fax|card|credit|debit|iban"
    r"|account|acct|routing|passport|licen[cs]e|tax|tin|itin|vat|national|insurance|nhs|nino"
    r"|identity|identification|id|nric|pesel|dni|nif|email|mail|dob|birth|born|bank|swift|bic"
    r"|ip|personal|citizen|medicare|aadhaar|pan)\b"
)


@functools.lru_cache(maxsize=4096)
def _words(key: str) -> str:
    """A key as the words it spells: ``socialSecurityNumber`` -> ``social security number``,
    ``phones`` -> ``phones phone``."""
    words = " ".join(_WORD.findall(key)).lower()
    return f"{words} {words[:-1]}" if words.endswith("s") and len(words) > 3 else words


_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def _effective_roles(scan_roles: Collection[str]) -> frozenset[str]:
    roles = frozenset(role.lower() for role in scan_roles)
    return roles | TOOL_ROLES if roles & TOOL_ROLES else roles


def _benign_origin(origin: str) -> str:
    """``scheme://host[:port]`` kept out of the scan when the host looks like a host name: the
    slot needs it as it is, and its path, query and fragment are scanned. A host with long digit
    runs is scanned whole."""
    return "" if _PII_DIGITS.search(origin) else origin


def _decode(payload: str) -> bytes | None:
    try:
        padded = payload + "=" * (-len(payload) % 4)
        return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        return None


def _as_text(data: bytes) -> str | None:
    """``data`` as text: UTF-8, or else Latin-1, when nearly every character is printable or
    whitespace (images, audio and PDFs are not)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    sample = text[:4096]
    readable = sum(c.isprintable() or c in "\t\n\r\f" for c in sample)
    return text if readable >= 0.95 * len(sample) else None


def _decode_text(payload: str) -> str | None:
    decoded = _decode(payload) if _BASE64.fullmatch(payload) else None
    return None if decoded is None else _as_text(decoded)


# --- rebuilding ---------------------------------------------------------------------------------


class _Editor:
    """A JSON value whose containers are copied the first time something below them changes;
    key renames are applied last, deepest first, so every path stays valid until then."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self._copied: dict[Path, Any] = {}
        self._renames: list[tuple[Path, str, str]] = []

    def change(self, path: Path, item: TextField, text: str) -> None:
        if item.kind == "key":
            self._renames.append((path[:-1], str(path[-1]), text))
        elif item.kind == "numbers":
            for member, value in item.changed_members(text):
                if member.key:
                    self._renames.append(
                        ((*path, *member.steps[:-1]), str(member.steps[-1]), value)
                    )
                else:
                    self.set((*path, *member.steps), value)
        else:
            self.set(path, item.value(text))

    def set(self, path: Path, item: Any) -> None:
        if not path:
            self.value = item
            return
        self._container(path[:-1])[path[-1]] = item

    def finish(self) -> Any:
        for path, old, new in sorted(self._renames, key=lambda r: len(r[0]), reverse=True):
            _rename(self._container(path), old, new)
        return self.value

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


def _rename(container: dict[str, Any], old: str, new: str) -> None:
    """Renames ``old`` to a key not already present (``new``, or ``new`` with a suffix), in
    place and in the same position."""
    taken = set(container) - {old}
    unique = new
    for suffix in itertools.count(2):
        if unique not in taken:
            break
        unique = f"{new}_{suffix}"
    items = [(unique if key == old else key, value) for key, value in container.items()]
    container.clear()
    container.update(items)


def _shallow_copy(container: Any) -> Any:
    return dict(container) if isinstance(container, Mapping) else list(container)


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


def _get(container: Any, path: Path) -> Any:
    for key in path:
        container = container[key]
    return container


def _pointer(path: Path) -> str:
    return "".join("/" + str(key).replace("~", "~0").replace("/", "~1") for key in path)
