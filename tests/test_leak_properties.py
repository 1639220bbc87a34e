"""Property (issue 12): no canary survives an ``ok`` answer, wherever and however it is planted.

Hypothesis builds OpenAI-shaped bodies (chat with string content and parts, Responses API input
items, tools with parameter schemas, bodies of unknown shape) around neutral text, and plants a
canary (e-mail, SSN, card, IBAN, phone) at a random place: a random word position of a text, a
field that carries no conversation, an object key, a JSON number, split across two content
parts, two messages or a document boundary. The canary is first disguised by one of the
transforms the canonical view of ``tests/test_leaks.py`` undoes (invisible characters, NFKC
look-alikes, percent/HTML/backslash escapes, separators inside digit runs, case).

Whatever the body, an answer is never a crash, and an ``ok`` answer with full coverage leaves no
canary (nor any piece of a split one) readable in ``redacted_body``, and none in its diagnostics.
In-process through ``api.redact`` on the embedded detector, so the module runs in seconds
(seams use 200-character documents);
examples are derandomized so ``make test`` is the same on every run.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from redaction import runtime
from redaction.http import api
from redaction.settings import Settings
from tests.test_leaks import (
    CARD,
    CARD_SPACED,
    CIRCLED,
    EMAIL,
    IBAN_SPACED,
    MATH_BOLD,
    PHONE,
    SSN,
    SUBSCRIPT,
    SUPERSCRIPT,
    canonical_view,
    digits_as,
    filler,
    fullwidth,
    needle,
    readable,
    strict_loads,
)

# No shrink phase: a failing example is reported as drawn, with its placement and body noted,
# so a run against a service that still leaks ends in seconds instead of minutes of shrinking.
PROPERTY = settings(
    derandomize=True,
    database=None,
    max_examples=60,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SETTINGS = Settings(pii_detector="local")
# Document boundaries every 200 code points (the smallest PII_MAX_DOC_CHARS) make seams cheap to
# generate; tests/test_leaks.py keeps the default 5,000.
SMALL_DOCUMENTS = Settings(pii_detector="local", pii_max_doc_chars=200)


@pytest.fixture(scope="module")
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as loop_runner:
        yield loop_runner
        loop_runner.run(runtime.shutdown())


def redact(
    runner: asyncio.Runner, body: Any, config: dict[str, Any] | None, using: Settings = SETTINGS
) -> tuple[int, dict[str, Any]]:
    runtime.configure(using)
    payload: dict[str, Any] = {"body": body}
    if config is not None:
        payload["config"] = config
    raw = json.dumps(payload).encode()
    answer = runner.run(api.redact(raw, {"Content-Type": "application/json"}))
    # The answer as APIM receives it: strict JSON, keys unique.
    result: dict[str, Any] = strict_loads(answer.body().decode())
    return answer.status, result


# --- canaries and disguises -------------------------------------------------------------------


@dataclass(frozen=True)
class Canary:
    name: str  # also selects the separators of its kind
    text: str  # as a person would write it
    number: int | None = None  # the same value as a JSON number, when it has one
    context: str = ""  # the word that names it (key of a number)


CANARIES = [
    Canary("email", EMAIL),
    Canary("ssn", SSN, 536228915, "ssn"),
    Canary("card", CARD_SPACED, int(CARD), "card"),
    Canary("card", CARD, int(CARD), "card_number"),
    Canary("iban", IBAN_SPACED),
    Canary("phone", PHONE, 14255550100, "phone"),
]
INVISIBLE = [
    "\u200b",  # zero-width space
    "\u200c",  # zero-width non-joiner
    "\u200d",  # zero-width joiner
    "\u00ad",  # soft hyphen
    "\u2060",  # word joiner
    "\u200e",  # left-to-right mark
    "\u200f",  # right-to-left mark
    "\u202a",  # left-to-right embedding
    "\u2066",  # left-to-right isolate
    "\ufeff",  # zero-width no-break space
]
AT_SIGNS = ["\uff20", "\ufe6b", "%40", "&#64;", "&#x40;", "&commat;", "\\u0040"]
# Separators the issue names (dots, tabs, newlines in cards; dashes in IBANs), and spaces the
# canonical view decodes (no-break, thin, percent- and HTML-encoded).
SPACES = ["\u00a0", "\u2009", "%20", "&nbsp;"]
DIGIT_SEPARATORS = {
    "card": [".", "\t", "\n", "-", *SPACES],
    "iban": ["-", *SPACES],
    "phone": ["-", *SPACES],
}
DIGIT_FORMS = [CIRCLED, SUPERSCRIPT, SUBSCRIPT, MATH_BOLD, fullwidth("0123456789")]

Transform = Callable[[str], str]


@st.composite
def disguises(draw: st.DrawFn, canary: Canary) -> tuple[str, Transform]:
    """A transform of the canary's text that the model reads straight through."""
    text = canary.text
    kinds = ["plain", "invisible", "fullwidth", "percent", "html", "backslash-u"]
    if "@" in text:
        kinds.append("at-sign")
    if any(c.isdigit() for c in text):
        kinds.append("digit-forms")
    if canary.name in DIGIT_SEPARATORS and " " in text:
        kinds.append("separators")
    if canary.name == "iban":
        kinds.append("lower")
    kind = draw(st.sampled_from(kinds))
    if kind == "invisible":
        char = draw(st.sampled_from(INVISIBLE))
        positions = draw(st.lists(st.integers(1, len(text) - 1), min_size=1, max_size=4))
        return kind, lambda t: _insert(t, char, positions)
    if kind == "at-sign":
        sign = draw(st.sampled_from(AT_SIGNS))
        return kind, lambda t: t.replace("@", sign)
    if kind == "digit-forms":
        digits = draw(st.sampled_from(DIGIT_FORMS))
        return kind, lambda t: digits_as(t, digits)
    if kind == "separators":
        separator = draw(st.sampled_from(DIGIT_SEPARATORS[canary.name]))
        return kind, lambda t: t.replace(" ", separator)
    simple: dict[str, Transform] = {
        "plain": lambda t: t,
        "fullwidth": fullwidth,
        "percent": lambda t: "".join(c if c.isalnum() else f"%{ord(c):02X}" for c in t),
        "html": lambda t: "".join(f"&#{ord(c)};" if i % 2 else c for i, c in enumerate(t)),
        "backslash-u": _backslash_u,
        "lower": str.lower,
    }
    return kind, simple[kind]


def _backslash_u(text: str) -> str:
    """Every third character as a literal ``\\uXXXX`` escape."""
    return "".join(f"\\u{ord(c):04x}" if i % 3 == 0 else c for i, c in enumerate(text))


def _insert(text: str, char: str, positions: list[int]) -> str:
    for position in sorted({p % len(text) or 1 for p in positions}, reverse=True):
        text = text[:position] + char + text[position:]
    return text


# --- neutral text around the canary -----------------------------------------------------------

WORDS = ["please", "summarise", "the", "notes", "below", "ticket", "status", "open", "kind"]
neutral = st.lists(st.sampled_from(WORDS), min_size=1, max_size=12).map(" ".join)


@st.composite
def sentence_with(draw: st.DrawFn, secret: str) -> str:
    """Neutral words with ``secret`` as one word at a random position."""
    words = draw(st.lists(st.sampled_from(WORDS), max_size=12))
    position = draw(st.integers(0, len(words)))
    return " ".join([*words[:position], secret, *words[position:]])


def user(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


def text_part(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


@st.composite
def conversation(draw: st.DrawFn, planted: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Neutral messages before and after the planted ones."""
    before = draw(st.lists(neutral.map(user), max_size=2))
    after = draw(st.lists(neutral.map(lambda t: {"role": "assistant", "content": t}), max_size=2))
    return [*before, *planted, *after]


# --- placements -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planted:
    body: Any
    secrets: tuple[str, ...]
    config: dict[str, Any] | None = None
    label: str = ""  # where and how the canary was planted, shown when the property fails
    settings: Settings = SETTINGS


def pieces(text: str, cut: int) -> tuple[str, str]:
    return text[:cut], text[cut:]


def piece_secrets(canary: Canary, parts: tuple[str, ...]) -> tuple[str, ...]:
    """The canary, then its pieces (``check`` keeps those it can tell from neutral words)."""
    return (canary.text, *(part.strip() for part in parts))


def args_body(arguments: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    call = {"id": "call_abc123", "type": "function"}
    call["function"] = {"name": "lookup", "arguments": arguments}  # type: ignore[assignment]
    assistant = {"role": "assistant", "content": None, "tool_calls": [call]}
    return {"model": "gpt-4o", "messages": [*messages, assistant]}


def schema_tool(**schema: Any) -> dict[str, Any]:
    parameters = {"type": "object", "properties": {"q": {"type": "string", **schema}}}
    return {"type": "function", "function": {"name": "lookup", "parameters": parameters}}


@st.composite
def chat_bodies(draw: st.DrawFn) -> Planted:
    canary = draw(st.sampled_from(CANARIES))
    kind, disguise = draw(disguises(canary))
    secret = disguise(canary.text)
    text = draw(sentence_with(secret))
    where = draw(
        st.sampled_from(
            [
                "content",
                "part",
                "split-parts",
                "split-messages",
                "name",
                "metadata",
                "user",
                "stop",
                "prediction",
                "top-level",
                "image-url-query",
                "file-name",
                "role-spelling",
            ]
        )
    )
    messages: list[dict[str, Any]]
    fields: dict[str, Any] = {}
    secrets: tuple[str, ...] = (canary.text,)
    if where == "content":
        messages = [user(text)]
    elif where == "part":
        others = draw(st.lists(neutral.map(text_part), max_size=2))
        messages = [user([*others, text_part(text)])]
    elif where in ("split-parts", "split-messages"):
        cut = draw(st.integers(1, len(secret) - 1))
        head, tail = pieces(secret, cut)
        secrets = piece_secrets(canary, (head, tail))
        first, second = f"note {head}", f"{tail} thanks"
        if where == "split-parts":
            messages = [user([text_part(first), text_part(second)])]
        else:
            messages = [user(first), user(second)]
    elif where == "name":
        messages = [{"role": "user", "content": "hello", "name": secret}]
    elif where == "role-spelling":
        role = draw(st.sampled_from(["User", "USER", "user ", " user", "human", "", "System"]))
        messages = [{"role": role, "content": text}]
    else:
        messages = [user(draw(neutral))]
        placed: dict[str, Any] = {
            "metadata": {"metadata": {"note": text}},
            "user": {"user": secret},
            "stop": {"stop": ["END", secret]},
            "prediction": {"prediction": {"type": "content", "content": text}},
            "top-level": {"notes": text},
            "image-url-query": {},
            "file-name": {},
        }
        fields = placed[where]
        if where == "image-url-query":
            url = {"url": f"https://img.example.net/a.png?q={secret}"}
            messages = [user([text_part("look"), {"type": "image_url", "image_url": url}])]
        elif where == "file-name":
            file = {"filename": f"{secret}.pdf", "file_id": "file-abc123"}
            messages = [user([text_part("read"), {"type": "file", "file": file}])]
    body = {"model": "gpt-4o", "messages": draw(conversation(messages)), **fields}
    return Planted(body, secrets, None, f"chat {where}, {canary.name}, {kind}")


@st.composite
def tool_bodies(draw: st.DrawFn) -> Planted:
    canary = draw(st.sampled_from(CANARIES))
    kind, disguise = draw(disguises(canary))
    secret = disguise(canary.text)
    text = draw(sentence_with(secret))
    where = draw(
        st.sampled_from(
            [
                "args-value",
                "args-key",
                "args-number",
                "args-bare-number",
                "args-json-escaped",
                "tool-description",
                "schema-description",
                "schema-enum",
                "schema-default",
                "schema-examples",
                "schema-property-name",
                "response-format",
            ]
        )
    )
    messages = [user(draw(neutral))]
    if where.startswith("args-"):
        if where == "args-value":
            arguments = json.dumps({"note": text, "limit": draw(st.integers(0, 9))})
        elif where == "args-key":
            arguments = json.dumps({"customer": {secret: "primary"}})
        elif where == "args-json-escaped":
            inner = json.dumps({"contact": secret}, ensure_ascii=True).replace("@", "\\u0040")
            arguments = json.dumps({"payload": inner})
        elif canary.number is not None and where == "args-number":
            arguments = json.dumps({canary.context: canary.number, "items": [1, 2]})
        elif canary.number is not None:
            arguments = str(canary.number)
        else:
            arguments = json.dumps({"note": text})
        label = f"tools {where}, {canary.name}, {kind}"
        return Planted(args_body(arguments, messages), (canary.text,), None, label)
    tools: list[dict[str, Any]] = []
    fields: dict[str, Any] = {}
    if where == "tool-description":
        tools = [{"type": "function", "function": {"name": "lookup", "description": text}}]
    elif where == "schema-property-name":
        parameters = {"type": "object", "properties": {secret: {"type": "string"}}}
        tools = [{"type": "function", "function": {"name": "f", "parameters": parameters}}]
    elif where == "response-format":
        schema = {"type": "object", "properties": {"a": {"type": "string", "description": text}}}
        fmt = {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema}}
        fields = {"response_format": fmt}
    else:
        key = where.removeprefix("schema-")
        values = {"description": text, "enum": [secret, "other"], "default": secret}
        tools = [schema_tool(**{key: values.get(key, [secret])})]
    body = {"model": "gpt-4o", "messages": messages, **fields}
    if tools:
        body["tools"] = tools
    return Planted(body, (canary.text,), None, f"tools {where}, {canary.name}, {kind}")


@st.composite
def responses_bodies(draw: st.DrawFn) -> Planted:
    canary = draw(st.sampled_from(CANARIES))
    kind, disguise = draw(disguises(canary))
    secret = disguise(canary.text)
    text = draw(sentence_with(secret))
    where = draw(
        st.sampled_from(
            [
                "input-string",
                "input-text",
                "split-input-text",
                "function-call-args",
                "function-call-args-key",
                "function-call-output",
                "reasoning-summary",
                "text-format",
                "tool-description",
                "instructions",
                "input-image-url",
            ]
        )
    )
    items: Any
    fields: dict[str, Any] = {}
    config = None
    secrets: tuple[str, ...] = (canary.text,)
    input_text = {"type": "input_text", "text": text}
    if where == "input-string":
        items = text
    elif where == "input-text":
        items = [{"type": "message", "role": "user", "content": [input_text]}]
    elif where == "split-input-text":
        cut = draw(st.integers(1, len(secret) - 1))
        head, tail = pieces(secret, cut)
        secrets = piece_secrets(canary, (head, tail))
        parts = [
            {"type": "input_text", "text": f"note {head}"},
            {"type": "input_text", "text": tail},
        ]
        items = [{"role": "user", "content": parts}]
    elif where.startswith("function-call-args"):
        value = {secret: "primary"} if where.endswith("key") else {"note": text}
        call = {
            "type": "function_call",
            "call_id": "c1",
            "name": "f",
            "arguments": json.dumps(value),
        }
        items = [call]
    elif where == "function-call-output":
        items = [{"type": "function_call_output", "call_id": "c1", "output": text}]
    elif where == "reasoning-summary":
        items = [
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": text}]}
        ]
    elif where == "input-image-url":
        image = {"type": "input_image", "image_url": f"https://img.example.net/a.png?u={secret}"}
        items = [{"role": "user", "content": [image]}]
    else:
        items = draw(neutral)
        schema = {"type": "object", "properties": {"a": {"type": "string", "description": text}}}
        tool = {"type": "function", "name": "lookup", "description": text, "parameters": schema}
        fields = {
            "text-format": {
                "text": {"format": {"type": "json_schema", "name": "r", "schema": schema}}
            },
            "tool-description": {"tools": [tool]},
            "instructions": {"instructions": text},
        }[where]
        if where == "instructions":
            config = {"scan_roles": ["system", "user", "assistant", "tool"]}
    label = f"responses {where}, {canary.name}, {kind}"
    return Planted({"model": "gpt-4o", "input": items, **fields}, secrets, config, label)


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-100, 100), neutral)


@st.composite
def unknown_bodies(draw: st.DrawFn) -> Planted:
    """JSON of no known API: the canary as a value, a key or a number, somewhere inside."""
    canary = draw(st.sampled_from(CANARIES))
    kind, disguise = draw(disguises(canary))
    secret = disguise(canary.text)
    how = draw(st.sampled_from(["value", "key", "number", "list-item", "binary-looking-key"]))
    planted: Any
    if how == "value":
        planted = {"note": draw(sentence_with(secret))}
    elif how == "key":
        planted = {secret: draw(json_scalars)}
    elif how == "number" and canary.number is not None:
        planted = {canary.context: canary.number}
    elif how == "binary-looking-key":
        planted = {
            draw(st.sampled_from(["data", "audio", "image_url", "b64_json"])): draw(
                sentence_with(secret)
            )
        }
    else:
        planted = [draw(json_scalars), draw(sentence_with(secret))]
    siblings = draw(
        st.dictionaries(st.sampled_from(["alpha", "beta", "gamma"]), json_scalars, max_size=2)
    )
    depth = draw(st.integers(0, 3))
    for level in range(depth):
        planted = {f"level{level}": planted} if level % 2 == 0 else [planted]
    root_key = draw(st.sampled_from(["records", "payload", "rows"]))
    label = f"unknown {how}, depth {depth}, {canary.name}, {kind}"
    return Planted({**siblings, root_key: planted}, (canary.text,), None, label)


@st.composite
def seam_bodies(draw: st.DrawFn) -> Planted:
    """The canary across a document boundary of a long text (and its pieces on each side)."""
    canary = draw(st.sampled_from(CANARIES))
    kind, disguise = draw(disguises(canary))
    secret = disguise(canary.text)
    cut = draw(st.integers(1, len(secret) - 1))
    boundary = draw(st.sampled_from([200, 400]))
    separator = draw(st.sampled_from([";", " "]))
    before = filler(boundary - cut - 1, separator) + separator
    text = before + secret + separator + filler(draw(st.integers(20, 300)), separator)
    secrets = piece_secrets(canary, pieces(secret, cut))
    where = draw(st.sampled_from(["content", "part", "tool-args", "responses", "tool-message"]))
    body: dict[str, Any]
    if where == "content":
        body = {"model": "gpt-4o", "messages": [user(text)]}
    elif where == "part":
        body = {"model": "gpt-4o", "messages": [user([text_part(text)])]}
    elif where == "tool-args":
        body = args_body(json.dumps({"note": text}), [user("hello")])
    elif where == "responses":
        body = {"model": "gpt-4o", "input": text}
    else:
        tool = {"role": "tool", "tool_call_id": "call_1", "content": text}
        body = {"model": "gpt-4o", "messages": [user("hello"), tool]}
    label = f"seam {where}, boundary {boundary}, cut {cut}, {canary.name}, {kind}"
    return Planted(body, secrets, None, label, SMALL_DOCUMENTS)


# --- the property -----------------------------------------------------------------------------


def check(runner: asyncio.Runner, planted: Planted) -> None:
    note(f"planted: {planted.label}")
    note(f"body: {json.dumps(planted.body, ensure_ascii=False)[:1500]}")
    canary, *parts = planted.secrets
    sent = canonical_view(planted.body)
    assert needle(canary) in sent, "nothing planted"
    # A piece counts when it reads on its own (not cut inside an escape) and is not too short.
    watched = [canary, *(p for p in parts if len(needle(p)) >= 5 and needle(p) in sent)]
    status, result = redact(runner, planted.body, planted.config, planted.settings)
    assert status != 500, "the service crashed"
    for name in ("diagnostics", "error"):
        assert not readable(watched, result.get(name) or {}), f"{name} repeats PII"
    ok = status == 200 and result["status"] == "ok" and result["full_coverage"] is True
    if ok:
        survivors = readable(watched, result["redacted_body"])
        assert not survivors, f"readable in an ok answer: {survivors}"


@PROPERTY
@given(planted=chat_bodies())
def test_chat_bodies_never_leak(runner: asyncio.Runner, planted: Planted) -> None:
    check(runner, planted)


@PROPERTY
@given(planted=tool_bodies())
def test_tool_calls_and_schemas_never_leak(runner: asyncio.Runner, planted: Planted) -> None:
    check(runner, planted)


@PROPERTY
@given(planted=responses_bodies())
def test_responses_bodies_never_leak(runner: asyncio.Runner, planted: Planted) -> None:
    check(runner, planted)


@PROPERTY
@given(planted=unknown_bodies())
def test_unknown_bodies_never_leak(runner: asyncio.Runner, planted: Planted) -> None:
    check(runner, planted)


@PROPERTY
@given(planted=seam_bodies())
def test_document_boundaries_never_leak(runner: asyncio.Runner, planted: Planted) -> None:
    check(runner, planted)


@pytest.mark.parametrize("canary", CANARIES, ids=[f"{c.name}-{i}" for i, c in enumerate(CANARIES)])
def test_plain_canaries_are_masked(runner: asyncio.Runner, canary: Canary) -> None:
    """Control: the same canaries plainly written in a user message are masked with `ok`, so
    the property above cannot pass on a harness that sees nothing."""
    body = {"model": "gpt-4o", "messages": [user(f"please note {canary.text} thanks")]}
    assert readable([canary.text], body) == [canary.text]
    status, result = redact(runner, body, None)
    assert (status, result["status"], result["full_coverage"]) == (200, "ok", True)
    assert not readable([canary.text], result["redacted_body"])
