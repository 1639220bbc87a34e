"""One scan over the (folded) text: a combined pattern that yields candidate spans by shape.

A shape says how a span looks (a run of digit groups, an upper-case code, an e-mail domain...);
which category it is, if any, is decided afterwards by validation and context.

Every alternative starts with a single character or character class and marks its shape with an
empty named group right after it. That lets the regular expression engine reject most positions
with one comparison per alternative, which makes the combined scan several times faster than the
same alternatives wrapped in named groups. Shapes that are anchored on an inner character (the
``@`` of an e-mail, the ``://`` of a URL, the first ``:`` of an IPv6 address) are widened to
their real start afterwards, in ``widen``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_SHAPES = (
    r"[DAEHSU](?P<connection>)(?:efaultEndpointsProtocol|ccountEndpoint|ccountName|ndpoint"
    r"|ostName|erver|ata\ Source)=[^\s;]+(?:;[A-Za-z][A-Za-z ]*=[^\s;]*)+;?",
    r"\.(?P<redis>)redis\.cache\.windows\.net(?::\d+)?,\S*?password=[^\s,]+\S*",
    r"@(?P<email>)[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)*\.[^\W\d_]{2,}\b",
    r"[:w](?P<url>)(?:(?<=:)//|(?<=w)ww\.)[^\s<>\"'`]+",
    r"s(?P<sas>)ig=[A-Za-z0-9%+/]{20,}(?:%3D|=){0,2}",
    r":(?P<ipv6>)(?:[0-9A-Fa-f]{0,4}:){1,6}(?:[0-9A-Fa-f]{1,4}|\d{1,3}(?:\.\d{1,3}){3})?(?![\w:])",
    r"[-+\d](?P<gps>)(?:(?<=\d)\d?|\d{1,2})\.\d{3,}°?\ ?[NS]?,\ ?[-+]?\d{1,3}\.\d{3,}°?"
    r"(?:\ ?[EW]\b)?",
    r"\d(?P<day_month_year>)\d?(?:st|nd|rd|th)?\.?\ [^\W\d_]{3,9}\.?,?\ \d{4}\b",
    r"\d(?P<day_year>)\d?(?:st|nd|rd|th)?,?\ \d{4}\b",
    r"[+(\d](?P<numeric>)(?:(?<=\+)\(?\d|(?<=\()\d|(?<=\d))\d*(?:(?:[ ./-]|\)\ ?|\ ?\()\d+)*"
    r"(?:-?[A-Z]\b)?",
    r"[A-Z](?P<nino>)[A-Z]\ ?\d{2}\ ?\d{2}\ ?\d{2}\ ?[A-D]\b",
    r"[A-Z](?P<swift>)[A-Z]{5}[A-Z0-9]{2}(?:[A-Z0-9]{3})?\b",
    r"[A-Z](?P<code>)[A-Z]{0,5}\d[A-Z0-9]*(?:[ -][A-Z0-9]{1,4}\b)*",
    r"=(?P<base64_key>)=(?<=[A-Za-z0-9+/]{86}==)",
)

PATTERN = re.compile("|".join(_SHAPES), re.X)

# Shapes that must not continue a word, a number or a dotted name to their left.
_LEFT_BOUNDARY = {
    "connection": re.compile(r"\w"),
    "numeric": re.compile(r"[\w.,+/-]"),
    "gps": re.compile(r"[\w.]"),
    "day_month_year": re.compile(r"[\w.,/-]"),
    "day_year": re.compile(r"[\w.,/-]"),
    "nino": re.compile(r"\w"),
    "swift": re.compile(r"\w"),
    "code": re.compile(r"\w"),
    "url": re.compile(r"[\w./]"),
    "ipv6": re.compile(r"[\w:.]"),
    "base64_key": re.compile(r"[\w+/]"),
}
_LOCAL_PART = re.compile(r"[^\W_][\w.+-]{0,63}$")
_SCHEME = re.compile(r"(?:https?|s?ftp|wss?)$", re.I)
_HEX_HEAD = re.compile(r"[0-9A-Fa-f]{1,4}$")
_HOST = re.compile(r"[\w-]{1,63}$")
_MONTH_WORD = re.compile(r"[^\W\d_]{3,9}\.? $")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A span of the text that has one of the shapes above."""

    shape: str
    start: int
    end: int


def find_candidates(text: str) -> Iterator[Candidate]:
    """Yields candidates left to right from one scan of ``text``; widened ones may overlap."""
    for match in PATTERN.finditer(text):
        shape = match.lastgroup
        if shape is None:
            continue
        start = widen(shape, text, match.start())
        if start is None or _continues_left(shape, text, start):
            continue
        yield Candidate(shape, start, match.end())


def widen(shape: str, text: str, start: int) -> int | None:
    """The real start of a shape anchored on an inner character, or None if it has none."""
    head = text[max(0, start - 80) : start]
    if shape == "email":
        return _widened(_LOCAL_PART, head, start)
    if shape == "url" and text.startswith("://", start):
        return _widened(_SCHEME, head, start)
    if shape == "ipv6":
        found = _HEX_HEAD.search(head)
        return start - len(found.group()) if found else start
    if shape == "redis":
        return _widened(_HOST, head, start)
    if shape == "day_year":
        return _widened(_MONTH_WORD, head, start)
    if shape == "base64_key":
        return start - 86
    return start


def _widened(pattern: re.Pattern[str], head: str, start: int) -> int | None:
    found = pattern.search(head)
    return start - len(found.group()) if found else None


def _continues_left(shape: str, text: str, start: int) -> bool:
    boundary = _LEFT_BOUNDARY.get(shape)
    return boundary is not None and start > 0 and boundary.match(text, start - 1) is not None
