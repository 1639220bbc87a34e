"""`stringIndexType` units: code-point spans converted to text elements or UTF-16 code units."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Literal

import regex

StringIndexType = Literal["TextElements_v8", "UnicodeCodePoint", "Utf16CodeUnit"]
STRING_INDEX_TYPES: tuple[StringIndexType, ...] = (
    "TextElements_v8",
    "UnicodeCodePoint",
    "Utf16CodeUnit",
)

_CLUSTER = regex.compile(r"\X")


def count_text_elements(text: str) -> int:
    """Grapheme clusters, the unit of .NET `StringInfo.LengthInTextElements` (the 5,120 limit)."""
    return sum(1 for _ in _CLUSTER.finditer(text))


def utf16_length(text: str) -> int:
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


class TextUnits:
    """Measures code-point spans of one text in the units of one `stringIndexType`."""

    def __init__(self, text: str, index_type: StringIndexType) -> None:
        self.text = text
        self.index_type = index_type
        self._starts = [m.start() for m in _CLUSTER.finditer(text)]

    def length(self) -> int:
        return self.measure(0, len(self.text))[1]

    def widen(self, start: int, end: int) -> tuple[int, int]:
        """The span grown to whole grapheme clusters when the unit is a text element."""
        if self.index_type != "TextElements_v8":
            return start, end
        first = self._starts[bisect_right(self._starts, start) - 1] if self._starts else start
        after = bisect_left(self._starts, end)
        return first, self._starts[after] if after < len(self._starts) else len(self.text)

    def measure(self, start: int, end: int) -> tuple[int, int]:
        """(offset, length) of a code-point span, in this text's units."""
        if self.index_type == "UnicodeCodePoint":
            return start, end - start
        if self.index_type == "Utf16CodeUnit":
            return utf16_length(self.text[:start]), utf16_length(self.text[start:end])
        first = bisect_right(self._starts, start) - 1
        return max(first, 0), bisect_left(self._starts, end) - max(first, 0)

    def mask(self, spans: list[tuple[int, int]], char: str) -> str:
        """The text with each unit inside a span replaced by `char`, so offsets stay valid."""
        masked = [False] * len(self.text)
        for start, end in spans:
            masked[start:end] = [True] * (end - start)
        if self.index_type == "TextElements_v8":
            return "".join(
                char if any(masked[m.start() : m.end()]) else m.group()
                for m in _CLUSTER.finditer(self.text)
            )
        wide = self.index_type == "Utf16CodeUnit"
        return "".join(
            char * (2 if wide and ord(c) > 0xFFFF else 1) if hit else c
            for c, hit in zip(self.text, masked, strict=True)
        )
