"""Splitting text into documents: boundaries, limits, reassembly."""

from __future__ import annotations

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from redaction.planning.chunking import split_text


def _joined(text: str, limit: int) -> str:
    return "".join(chunk.text for chunk in split_text(text, limit))


def test_short_text_is_one_chunk() -> None:
    assert [(c.start, c.text) for c in split_text("hello", 10)] == [(0, "hello")]


def test_prefers_paragraph_breaks() -> None:
    text = "a" * 60 + "\n\n" + "b" * 30 + ". " + "c" * 30
    chunks = split_text(text, 100)
    assert chunks[0].text == "a" * 60 + "\n\n"


def test_then_sentence_ends() -> None:
    text = "a" * 60 + ". " + "b" * 20 + " " + "c" * 30
    assert split_text(text, 100)[0].text == "a" * 60 + ". "


def test_then_whitespace() -> None:
    text = "a" * 60 + " " + "b" * 20 + " " + "c" * 30
    assert split_text(text, 100)[0].text == "a" * 60 + " " + "b" * 20 + " "


def test_hard_cut_without_boundaries() -> None:
    assert [len(c.text) for c in split_text("x" * 250, 100)] == [100, 100, 50]


def test_never_inside_a_grapheme_cluster() -> None:
    family = "👩\u200d👩\u200d👧"  # 5 code points, one grapheme
    text = family * 40
    for chunk in split_text(text, 12):
        assert len(chunk.text) <= 12
        assert chunk.text.startswith("👩")
        assert chunk.text.endswith("👧")


def test_combining_marks_stay_with_their_base() -> None:
    text = "e\u0301" * 100
    for chunk in split_text(text, 9):
        assert not chunk.text.startswith("\u0301")


def test_chunk_starts_are_offsets_into_the_text() -> None:
    text = "Hello there. " * 100
    for chunk in split_text(text, 70):
        assert text[chunk.start : chunk.end] == chunk.text


def test_rejects_a_non_positive_limit() -> None:
    with pytest.raises(ValueError, match="positive"):
        split_text("abc", 0)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=600), st.integers(min_value=1, max_value=80))
def test_reassembly_is_the_identity_and_limits_hold(text: str, limit: int) -> None:
    chunks = split_text(text, limit)
    assert _joined(text, limit) == text
    assert all(len(chunk.text) <= limit for chunk in chunks)
    starts = [0, *(chunk.end for chunk in chunks[:-1])]
    assert [chunk.start for chunk in chunks] == starts


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "é", "e\u0301", "👍🏽", "🇫🇷", " ", "\n\n", ". "]), max_size=200)
)
def test_cuts_fall_on_grapheme_boundaries(pieces: list[str]) -> None:
    text = "".join(pieces)
    boundaries = {m.end() for m in regex.finditer(r"\X", text)} | {0}
    for chunk in split_text(text, 16):
        assert chunk.start in boundaries
