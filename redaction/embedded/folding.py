"""Folding digits, dashes and spaces to ASCII, one code point for one, so offsets stay exact."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Unicode's dash punctuation (category Pd) plus the minus sign, outside ASCII.
_DASHES = (
    "\u058a\u05be\u1400\u1806\u2010-\u2015\u2212\u2e17\u2e1a\u2e3a\u2e3b\u2e40\u2e5d"
    "\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\U00010ead"
)
_FOLDABLE = re.compile(rf"(?![\x00-\x7f])[\d\s{_DASHES}]")


@lru_cache(maxsize=1024)
def _fold_char(char: str) -> str:
    if char.isdecimal():
        return str(unicodedata.decimal(char))
    if char.isspace():
        return " "
    return "-"


def _fold_match(match: re.Match[str]) -> str:
    return _fold_char(match.group())


def fold_text(text: str) -> str:
    """Maps every decimal digit to 0-9, dash to '-', space to ' ': same length, same offsets."""
    if text.isascii():
        return text
    return _FOLDABLE.sub(_fold_match, text)
