"""Masking text from entity spans: overlapping spans are merged, every masked character replaced."""

from __future__ import annotations

from collections.abc import Iterable

Span = tuple[int, int]


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Sorted, non-overlapping ``(start, end)`` spans covering the same characters."""
    merged: list[Span] = []
    for start, end in sorted(span for span in spans if span[0] < span[1]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def mask_text(text: str, spans: Iterable[Span], character: str) -> str:
    """``text`` with every character inside a span replaced by ``character``."""
    pieces: list[str] = []
    position = 0
    for span_start, span_end in merge_spans(spans):
        start, end = max(span_start, position), min(span_end, len(text))
        if start >= end:
            continue
        pieces.append(text[position:start])
        pieces.append(character * (end - start))
        position = end
    pieces.append(text[position:])
    return "".join(pieces)
