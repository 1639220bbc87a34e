"""Splitting long text into documents the detector accepts, at natural boundaries."""

from __future__ import annotations

import re
from dataclasses import dataclass

import regex

_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")
_SENTENCE = re.compile(r"[.!?\u3002\uff01\uff1f\u2026][\"'\u2019\u201d)\]]*\s+")
_SPACE = re.compile(r"\s+")
_GRAPHEME = regex.compile(r"\X", regex.DOTALL)


@dataclass(frozen=True, slots=True)
class TextChunk:
    """A piece of a text and where it starts in that text."""

    start: int
    text: str

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def split_text(text: str, max_chars: int) -> list[TextChunk]:
    """Consecutive chunks of at most ``max_chars`` code points that concatenate to ``text``.

    Cuts prefer a paragraph break, then a sentence end, then whitespace (each only in the second
    half of the window, so chunks stay large), and never fall inside a grapheme cluster unless a
    single cluster is longer than ``max_chars``.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    chunks: list[TextChunk] = []
    start = 0
    while len(text) - start > max_chars:
        cut = _find_cut(text, start, max_chars)
        chunks.append(TextChunk(start, text[start:cut]))
        start = cut
    if start < len(text) or not chunks:
        chunks.append(TextChunk(start, text[start:]))
    return chunks


def _find_cut(text: str, start: int, max_chars: int) -> int:
    limit = start + max_chars
    window = text[start : limit + 1]
    boundaries = _grapheme_boundaries(window, start)
    floor = start + max_chars // 2
    for pattern in (_PARAGRAPH, _SENTENCE):
        cut = _last_match_end(pattern, text, floor, limit, boundaries)
        if cut is not None:
            return cut
    cut = _last_match_end(_SPACE, text, start + 1, limit, boundaries)
    if cut is not None:
        return cut
    candidates = [b for b in boundaries if start < b <= limit]
    return max(candidates) if candidates else limit


def _last_match_end(
    pattern: re.Pattern[str], text: str, floor: int, limit: int, boundaries: set[int]
) -> int | None:
    best = None
    for match in pattern.finditer(text, floor, limit):
        for cut in (match.end(), match.start() + 1):
            if floor < cut <= limit and cut in boundaries:
                best = cut
                break
    return best


def _grapheme_boundaries(window: str, offset: int) -> set[int]:
    return {offset + match.end() for match in _GRAPHEME.finditer(window)}
