"""Merging spans and masking text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from redaction.planning.masking import mask_text, merge_spans


def test_merges_overlapping_and_touching_spans() -> None:
    assert merge_spans([(5, 8), (0, 2), (1, 3), (8, 9), (12, 12)]) == [(0, 3), (5, 9)]


def test_nested_spans() -> None:
    assert merge_spans([(0, 10), (2, 4)]) == [(0, 10)]


def test_masks_every_character_of_every_span() -> None:
    assert mask_text("abcdefghij", [(1, 3), (2, 5), (8, 20)], "#") == "a####fgh##"


def test_astral_characters_count_as_one() -> None:
    text = "😀 mail@x.io 😀"
    assert mask_text(text, [(2, 11)], "*") == "😀 ********* 😀"


spans = st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=8)


@given(st.text(max_size=60), spans)
def test_length_is_kept_and_only_spans_change(text: str, raw: list[tuple[int, int]]) -> None:
    masked = mask_text(text, raw, "#")
    assert len(masked) == len(text)
    covered = {i for start, end in raw for i in range(start, min(end, len(text)))}
    for index, (before, after) in enumerate(zip(text, masked, strict=True)):
        assert after == ("#" if index in covered else before)


@given(st.text(max_size=60), spans)
def test_masking_is_idempotent(text: str, raw: list[tuple[int, int]]) -> None:
    once = mask_text(text, raw, "#")
    assert mask_text(once, raw, "#") == once
