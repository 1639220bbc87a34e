"""Properties of redaction on random chat bodies, through the embedded detector in-process.

For any body: the answer has the same JSON structure; everything outside the scanned strings is
equal; masked strings keep their length and differ only by the redaction character; redacting
the answer again changes nothing; planted PII is always masked; chunking then reassembly is the
identity. Examples are bounded so the module runs in seconds.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redaction import runtime
from redaction.http import api
from redaction.models import DEFAULT_SCAN_ROLES
from redaction.planning.body import find_texts
from redaction.planning.chunking import split_text
from redaction.settings import Settings

BOUNDED = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MASK = "#"
Path = tuple[str | int, ...]


@pytest.fixture(scope="module")
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as loop_runner:
        yield loop_runner
        loop_runner.run(runtime.shutdown())


def redact(runner: asyncio.Runner, body: dict[str, Any]) -> dict[str, Any]:
    runtime.configure(Settings(pii_detector="local"))
    raw = json.dumps({"body": body}).encode()
    answer = runner.run(api.redact(raw, {"Content-Type": "application/json"}))
    assert answer.status == 200, answer.payload
    assert answer.payload["status"] == "ok"
    result: dict[str, Any] = answer.payload["redacted_body"]
    return result


# --- strategies -------------------------------------------------------------------------------

# Every plane, combining marks, emoji sequences; no lone surrogates (refused with a 400).
unicode_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
pieces = st.sampled_from(
    [
        "word",
        " ",
        "\n\n",
        ". ",
        "e\u0301",
        "👩‍👩‍👧",
        "\U0001d518\U0001d52b\U0001d526",
        "ش",
        "日本",
        "\u200d",
        "#",
        "a",
    ]
)
mixed_text = st.lists(st.one_of(pieces, unicode_text), max_size=8).map("".join)
local_part = st.text("abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=10)
emails = st.builds(
    "{}.{}@{}.com".format, local_part, local_part, st.sampled_from(["example", "contoso"])
)
ssns = st.builds(
    "{:03d}-{:02d}-{:04d}".format,
    st.integers(100, 665),
    st.integers(10, 99),
    st.integers(1000, 9999),
)


def luhn_complete(prefix: str) -> str:
    digits = [int(d) for d in prefix + "0"]
    total = sum(
        d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2)
        for i, d in enumerate(reversed(digits))
    )
    return prefix + str((10 - total % 10) % 10)


cards = st.from_regex(r"4[0-9]{14}", fullmatch=True).map(luhn_complete)
planted_pii = st.one_of(emails, ssns, cards)
text_part = st.builds(lambda t: {"type": "text", "text": t}, mixed_text)
image_part = st.just({"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}})
content = st.one_of(st.none(), mixed_text, st.lists(st.one_of(text_part, image_part), max_size=3))
arguments = st.builds(
    lambda text, n: json.dumps({"query": text, "limit": n, "tags": [text[:3]]}, ensure_ascii=False),
    mixed_text,
    st.integers(-5, 5),
)
tool_call = st.builds(
    lambda args: {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": args}},
    arguments,
)
message = st.one_of(
    st.builds(
        lambda role, c: {"role": role, "content": c},
        st.sampled_from(["system", "developer", "user", "assistant", "tool", "function"]),
        content,
    ),
    st.builds(
        lambda c, calls: {"role": "assistant", "content": c, "tool_calls": calls},
        content,
        st.lists(tool_call, min_size=1, max_size=2),
    ),
)
chat_body = st.builds(
    lambda messages, temperature: {
        "model": "gpt-4o",
        "messages": messages,
        "temperature": temperature,
        "metadata": {"n": [1, None, True]},
    },
    st.lists(message, max_size=4),
    st.floats(0, 2, allow_nan=False),
)


# --- comparison -------------------------------------------------------------------------------


def scanned_paths(body: dict[str, Any]) -> tuple[set[Path], set[Path]]:
    """(plain scanned strings, JSON-string containers such as tool-call arguments)."""
    fields = find_texts(body, DEFAULT_SCAN_ROLES)
    plain = {tuple(f.path) for f in fields if f.inner is None and f.kind == "text"}
    containers = {tuple(f.path) for f in fields if f.inner is not None}
    return plain, containers


def assert_masked_copy(original: str, masked: str) -> None:
    assert len(masked) == len(original)
    assert all(m in (o, MASK) for o, m in zip(original, masked, strict=True))


def assert_same_outside_scanned(
    original: Any, redacted: Any, path: Path, plain: set[Path], containers: set[Path]
) -> None:
    assert type(redacted) is type(original), path
    if isinstance(original, dict):
        assert list(redacted) == list(original), path
        for key, value in original.items():
            assert_same_outside_scanned(value, redacted[key], (*path, key), plain, containers)
    elif isinstance(original, list):
        assert len(redacted) == len(original), path
        for index, value in enumerate(original):
            assert_same_outside_scanned(value, redacted[index], (*path, index), plain, containers)
    elif path in containers and redacted != original:
        inner_all = {p for p in _leaf_paths(json.loads(original), ())}
        assert_same_outside_scanned(
            json.loads(original), json.loads(redacted), (), inner_all, set()
        )
    elif path in plain:
        assert_masked_copy(original, redacted)
    else:
        assert redacted == original, path


def _leaf_paths(value: Any, path: Path) -> Iterator[Path]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaf_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaf_paths(item, (*path, index))
    elif isinstance(value, str):
        yield path


# --- properties -------------------------------------------------------------------------------


@BOUNDED
@given(body=chat_body)
def test_structure_kept_and_only_scanned_strings_masked(
    runner: asyncio.Runner, body: dict[str, Any]
) -> None:
    redacted = redact(runner, body)
    plain, containers = scanned_paths(body)
    assert_same_outside_scanned(body, redacted, (), plain, containers)


@BOUNDED
@given(body=chat_body)
def test_redaction_is_idempotent(runner: asyncio.Runner, body: dict[str, Any]) -> None:
    once = redact(runner, body)
    assert redact(runner, once) == once


@BOUNDED
@given(
    before=mixed_text, secret=planted_pii, after=mixed_text, role=st.sampled_from(["user", "tool"])
)
def test_planted_pii_is_always_masked(
    runner: asyncio.Runner, before: str, secret: str, after: str, role: str
) -> None:
    text = f"{before} {secret} {after}"
    body = {"messages": [{"role": role, "content": text}]}
    masked = redact(runner, body)["messages"][0]["content"]
    assert secret not in masked
    assert_masked_copy(text, masked)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    secret=planted_pii,
    length=st.integers(4_950, 5_050),
    filler=st.sampled_from(["word ", "日本語 ", "e\u0301e ", "👩‍👩‍👧 "]),
)
def test_planted_pii_near_the_chunk_limit_is_masked(
    runner: asyncio.Runner, secret: str, length: int, filler: str
) -> None:
    head = (filler * (length // len(filler) + 1))[: length - len(secret) // 2]
    text = f"{head} {secret} {filler * 20}"
    masked = redact(runner, {"messages": [{"role": "user", "content": text}]})
    assert secret not in masked["messages"][0]["content"]


@settings(max_examples=200, deadline=None)
@given(
    text=st.lists(st.one_of(pieces, unicode_text), max_size=60).map("".join),
    max_chars=st.integers(100, 400),
)
def test_chunking_then_reassembly_is_the_identity(text: str, max_chars: int) -> None:
    chunks = split_text(text, max_chars)
    assert "".join(chunk.text for chunk in chunks) == text
    for chunk in chunks:
        assert len(chunk.text) <= max_chars
        assert chunk.text or text == ""
        assert text[chunk.start : chunk.start + len(chunk.text)] == chunk.text
