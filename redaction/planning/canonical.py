"""Canonical text for detectors: disguises a model reads straight through are undone.

``canonicalize`` returns the text detectors see (NFKC per character, every decimal digit ASCII,
spaces and dashes plain, invisible and format characters removed, percent-encoding, HTML
character references and JSON-style backslash escapes decoded, up to ``MAX_PASSES`` times) and a
map back: ``to_original`` turns a span found in the canonical text into the original span to
mask, invisible characters inside it included.

The map is a sorted list of segments. A segment whose canonical and original lengths are equal
maps character to character (unchanged runs, one-for-one replacements); any other segment is one
canonical character produced by a whole original run (``%40`` -> ``@``; each of ``f`` and ``i``
from ``ﬁ``). Removed characters are the gaps between segments. An escape kept as written (a lone
surrogate ``\\udc00``, ``\\n``, a byte that is not UTF-8 ``%ff``) keeps its text, but each of its
characters maps to the whole escape: a span that touches it covers all of it, so a mask never
leaves half an escape (in JSON text, ``\\####`` would no longer be JSON).

Cost: ASCII text with no ``%``, ``&`` or ``\\`` returns at once with no map. Otherwise one
compiled regex finds the runs that may change and everything between them is copied as one
segment; a second or third pass rescans only the whitespace-delimited stretches around what the
previous pass changed.
"""

from __future__ import annotations

import base64
import html
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from html.entities import html5
from typing import Any

import regex

Span = tuple[int, int]

MAX_PASSES = 5
# A character whose NFKC is longer than this stays as it is (U+FDFA expands to 18).
MAX_EXPANSION = 4
# A base64 token longer than this is a payload, not a disguise (decoding it costs more than it
# can hide in chat text).
MAX_BASE64 = 65536
_SPANS_SPACES = frozenset({"at", "dot", "spelled"})

# Non-ASCII characters that may change: removed, digits, spaces, dashes, and NFKC_Quick_Check=No
# (the characters whose NFKC differs from themselves).
_SPECIAL_CLASS = (
    r"[[\p{Default_Ignorable_Code_Point}\p{Cf}\p{Zs}\p{Pd}\p{Nd}\u2212\u00b7\u2022\u2027\u30fb"
    r"\u2219\u2044\u2215\u2800\p{NFKC_QC=N}]--[\x00-\x7f]]"
)
# A base64 data URL anywhere in a text (the whole-string one is decoded by ``body``).
_DATA_URI = (
    r"(?i:data:[^,;\s]{0,100}(?:;[^,;\s]{0,100}){0,8};base64,)[A-Za-z0-9+/]+={0,2}"
    r"(?![A-Za-z0-9+/=])"
)
_DATA_URI_PAYLOAD = ";base64,"
_TLD = r"(?:com|org|net|edu|gov|io|co|uk|de|fr|nl|es|it|ch|se|no|info|biz|us|ca|au|jp|cn|in)"
# The scan's alternatives, each with the trigger that must be in a text for it to be tried (a
# text gets a scanner of only the alternatives it can use: most prose needs none or one).
_PARTS: tuple[tuple[str, str], ...] = (
    (
        "escapes",
        r"(?P<percent>(?:%[0-9A-Fa-f]{2})+)"
        r"|\\(?:(?P<hexbytes>x[0-9A-Fa-f]{2}(?:\\x[0-9A-Fa-f]{2})*)"
        r"|(?P<pair>u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})"
        r"|(?P<unicode>u[0-9a-fA-F]{4}|u\{[0-9a-fA-F]{1,6}\}|U[0-9a-fA-F]{8})"
        r"|(?P<escape>[\"\\/])|(?P<kept>[bfnrt]))"
        r"|&(?:(?P<decimal>\#0*[0-9]{1,8}(?![0-9]);?)"
        r"|(?P<hex>\#[xX]0*[0-9a-fA-F]{1,8}(?![0-9a-fA-F]);?)"
        r"|(?P<named>[A-Za-z][A-Za-z0-9]{0,31};))",
    ),
    ("datauri", r"(?P<datauri>" + _DATA_URI + r")"),
    ("controls", r"(?P<controls>[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+)"),
    ("marks", r"(?P<marks>(?<=[\x20-\x7e])[\p{Mn}\p{Me}]+)"),
    (
        "blanks",
        r"(?P<blanks>(?<=[0-9])(?:[ \t]*(?:\r\n?|\|)[ \t]*|[ \t]{2,}|\t)(?=[0-9]))",
    ),
    ("plus", r"(?P<plus>(?<![\w+])\+?[0-9]{1,4}(?:\+[0-9]{1,4}){2,}(?![\w+]))"),
    ("stop", r"(?P<stop>(?<=[A-Za-z0-9])[\u3002\uff61\ufe12](?=[A-Za-z0-9]))"),
    (
        "at",
        r"(?P<at>(?<=\w) ?[\[({<] ?(?:at|AT|At|@) ?[\])}>] ?(?=\w)|(?<=\w) +@ *(?=\w)"
        r"|(?<=\w)@ +(?=\w))",
    ),
    ("dot", r"(?P<dot>(?<=\w) ?[\[({<] ?(?:dot|DOT|Dot|\.) ?[\])}>] ?(?=\w))"),
    (
        "spelled",
        r"(?P<spelled>(?<![\w.+-])[\w.+-]+ (?:at|AT) [\w-]+(?: (?:dot|DOT) [\w-]+)* (?:dot|DOT) "
        + _TLD
        + r"(?!\w))",
    ),
    (
        "groups",
        r"(?P<groups>(?<![\w/.])(?:\d{4}|[A-Za-z]{2}\d{2})(?P<sep>[/_.])[A-Za-z0-9]{4}"
        r"(?:(?P=sep)[A-Za-z0-9]{4})+(?:(?P=sep)[A-Za-z0-9]{1,3})?(?![\w/])"
        r"|(?<![\w:])\d{4}(?P<colon>:)\d{4}(?::\d{4})+(?::\d{1,3})?(?![\w:])"
        r"|(?<![\w,.])[0-9]{4}(?P<comma>,)[0-9]{4}(?:,[0-9]{4}){2,3}(?:,[0-9]{1,3})?(?![\w,])"
        r"|(?<![\w.])(?P<scientific>\d\.\d{12,}[eE]\+?\d{1,2})(?![\w.])"
        r"|(?<![\w,'.])\d{1,3}(?P<thousands>[,'])\d{3}(?:(?P=thousands)\d{3}){3,}(?![\w,']))",
    ),
    (
        "base64",
        r"(?P<base64>(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{14,}={0,2}(?![A-Za-z0-9+/=]))",
    ),
    (
        "mixed",
        r"(?P<mixed>(?<![\p{L}\p{N}])(?=[\p{L}\p{N}]*[A-Za-z0-9])"
        r"(?=[\p{L}\p{N}]*[\p{Cyrillic}\p{Greek}])[\p{L}\p{N}]+)",
    ),
    ("chars", r"(?P<chars>" + _SPECIAL_CLASS + r"+)"),
)
# Triggers for ASCII text (stdlib re: faster on plain classes), and for any other text. Only
# whether each occurs matters; each starts with a literal or one narrow class (lookbehinds then
# pick the branch), which re skips to in C.
_ASCII_TRIGGERS: dict[str, re.Pattern[str]] = {
    "escapes": re.compile(r"[%&\\]"),
    "datauri": re.compile(_DATA_URI_PAYLOAD, re.IGNORECASE),
    "blanks": re.compile(r"[0-9](?:[ \t]*(?:\r|\||\t)[ \t\n]*| [ \t]+)[0-9]"),
    "plus": re.compile(r"\+(?<=[0-9]\+)[0-9]"),
    "controls": re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"),
    "at": re.compile(r"[@\[({<](?:(?<= @)|(?<=@) |(?<=[\[({<]) ?(?:at|AT|At|@) ?[\])}>])"),
    "dot": re.compile(r"[\[({<] ?(?:dot|DOT|Dot|\.) ?[\])}>]"),
    "spelled": re.compile(r" (?:dot|DOT) "),
    "base64": re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{14,}"),  # whole runs: no retry inside
    "groups": re.compile(
        r"[/_.:,'](?:(?<=[/_.:])[0-9A-Za-z]{4}[/_.:]"
        r"|(?<=\d[,'])\d{3}[,']\d{3}[,']\d{3}|(?<=\d,)\d{4},\d{4}|(?<=\d\.)\d{12,}[eE])"
    ),
}
_UNICODE_TRIGGERS: dict[str, regex.Pattern[str]] = {
    "marks": regex.compile(r"[\x20-\x7e][\p{Mn}\p{Me}]"),
    "stop": regex.compile(r"[\u3002\uff61\ufe12]"),
    "mixed": regex.compile(r"[\p{Cyrillic}\p{Greek}]"),
    "chars": regex.compile(r"(?V1)" + _SPECIAL_CLASS),
}


# ASCII text without any of these (nor two spaces in a row) holds no escape, control, "at",
# "dot", data URL, "blanks" or "plus" trigger.
_RARE_ASCII = re.compile(r"[%&\\\x00-\x09\x0b-\x1f\x7f@\[({<|]|\+(?<=[0-9]\+)[0-9]|;(?i:base64),")
# The first character of every ``_RARE_ASCII`` match: one class, which re skips to in C (the
# alternation above is tried at every position); most texts hold none of them.
_RARE_FIRST = re.compile(r"[%&\\\x00-\x09\x0b-\x1f\x7f@\[({<|+;]")
_NONE: frozenset[str] = frozenset()
# The trigger sets of the common case (``_only_groups_or_base64``), by (groups, base64).
_COMMON: dict[tuple[bool, bool], frozenset[str]] = {
    (False, False): _NONE,
    (True, False): frozenset({"groups"}),
    (False, True): frozenset({"base64"}),
    (True, True): frozenset({"groups", "base64"}),
}


def _triggered(text: str) -> frozenset[str]:
    if text.isascii() and _only_groups_or_base64(text):
        groups = _ASCII_TRIGGERS["groups"].search(text) is not None
        return _COMMON[groups, _plausible_base64(text)]
    found = {
        name
        for name, trigger in _ASCII_TRIGGERS.items()
        if (_plausible_base64(text) if name == "base64" else trigger.search(text))
    }
    if not text.isascii():
        found.update(name for name, trigger in _UNICODE_TRIGGERS.items() if trigger.search(text))
    return frozenset(found)


def _only_groups_or_base64(text: str) -> bool:
    """The common case, decided with the fewest scans: ASCII ``text`` in which no trigger but
    "groups" and "base64" can match (each is then searched once)."""
    if _RARE_FIRST.search(text) and _RARE_ASCII.search(text):
        return False
    return " dot " not in text and " DOT " not in text and "  " not in text


def _plausible_base64(text: str) -> bool:
    """A run that could be base64 of text: long enough, with both cases of letters. Most
    ASCII text has no run that long, which its bytes tell (each base64 character made ``a``,
    any other a space) far faster than a regex tried at every position."""
    if text.isascii() and _BASE64_RUN not in text.encode("ascii").translate(_BASE64_AS_A):
        return False
    return _PLAUSIBLE_BASE64.search(text) is not None


_BASE64_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_BASE64_AS_A = bytes(b"a"[0] if byte in _BASE64_CHARS else b" "[0] for byte in range(256))
_BASE64_RUN = b"a" * 14
# A whole run of base64 characters (``_ASCII_TRIGGERS["base64"]``) with both a lower and an
# upper case letter in it: the lookaheads cannot leave the run (its class holds no other char).
_PLAUSIBLE_BASE64 = re.compile(
    r"(?<![A-Za-z0-9+/])(?=[A-Za-z0-9+/]{14})"
    r"(?=[A-Za-z0-9+/]*[a-z])(?=[A-Za-z0-9+/]*[A-Z])"
)


@cache
def _scanner(triggers: frozenset[str], ascii_text: bool) -> re.Pattern[str] | regex.Pattern[str]:
    """The scan of the alternatives ``triggers`` call for, in their fixed order. ASCII text has
    only ASCII triggers, whose alternatives are plain patterns that stdlib re runs faster."""
    parts = [pattern for name, pattern in _PARTS if name in triggers]
    if ascii_text:
        return re.compile("|".join(parts))
    return regex.compile(r"(?V1)" + "|".join(parts))


# Cyrillic and Greek letters that look like Latin ones, read as Latin inside a token that also
# holds ASCII letters or digits (a disguised IBAN or e-mail; whole Cyrillic words stay as they are).
_CONFUSABLES = str.maketrans(
    "АВЕКМНОРСТХаеорсухіјѕԁԛԝΑΒΕΖΗΙΚΜΝΟΡΤΥΧοκνρτυχ",
    "ABEKMHOPCTXaeopcyxijsdqwABEZHIKMNOPTYXoknptux",
)
_SPECIAL = regex.compile(r"(?V1)" + _SPECIAL_CLASS)
_REMOVED = regex.compile(r"[\p{Default_Ignorable_Code_Point}\p{Cf}]")
_DIGIT = regex.compile(r"\p{Nd}")
_SPACE = regex.compile(r"\p{Zs}")
_MIDDLE_DOTS = frozenset("\u00b7\u2022\u2027\u30fb\u2219")
_DASH = regex.compile(r"[\p{Pd}\u2212]")
# Digit values for Nd characters newer than this Python's unicodedata.
_NUMERIC_VALUES = tuple(regex.compile(rf"\p{{Numeric_Value={value}}}") for value in range(10))
_SPACE_AFTER = regex.compile(r"[ \t\n\r\f\v]")
_SPACE_BEFORE = regex.compile(r"(?r)[ \t\n\r\f\v]")
# \n, \r and \t stay as written: decoding them would only make whitespace, and would cut
# names such as C:\Users\nancy.smith in two.
_ESCAPES = {'"': '"', "\\": "\\", "/": "/"}


class _Segments:
    """Segments under construction: canonical start, original start and end of each."""

    __slots__ = ("canonical", "ends", "length", "starts")

    def __init__(self) -> None:
        self.canonical: list[int] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.length = 0

    def add(self, size: int, start: int, end: int) -> None:
        """``size`` canonical chars from original ``[start, end)``: equal lengths or ``size`` 1."""
        if size == end - start and self._extends(start):
            self.ends[-1] = end
        else:
            self.canonical.append(self.length)
            self.starts.append(start)
            self.ends.append(end)
        self.length += size

    def _extends(self, start: int) -> bool:
        """Whether a one-for-one run from ``start`` continues the last segment."""
        if not self.ends or self.ends[-1] != start:
            return False
        return self.length - self.canonical[-1] == start - self.starts[-1]

    def freeze(self) -> _OffsetMap:
        return _OffsetMap(tuple(self.canonical), tuple(self.starts), tuple(self.ends), self.length)


@dataclass(frozen=True, slots=True)
class _OffsetMap:
    """Canonical characters to original spans (see the module docstring)."""

    canonical: tuple[int, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    length: int

    def segment(self, index: int) -> tuple[int, int, int, int]:
        """Canonical start and size, original start and end of segment ``index``."""
        following = self.canonical[index + 1] if index + 1 < len(self.canonical) else self.length
        first = self.canonical[index]
        return first, following - first, self.starts[index], self.ends[index]

    def char_span(self, position: int) -> tuple[int, int]:
        """The original span that produced canonical char ``position``."""
        first, size, start, end = self.segment(bisect_right(self.canonical, position) - 1)
        if size != end - start:
            return start, end
        return start + position - first, start + position - first + 1

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the non-empty canonical span ``[start, end)``."""
        return self.char_span(start)[0], self.char_span(end - 1)[1]

    def add_image(self, out: _Segments, start: int, end: int) -> None:
        """Add to ``out`` the originals of canonical ``[start, end)``, char for char."""
        index = bisect_right(self.canonical, start) - 1
        while start < end:
            first, size, origin, origin_end = self.segment(index)
            stop = min(end, first + size)
            if size == origin_end - origin:
                out.add(stop - start, origin + start - first, origin + stop - first)
            else:
                out.add(1, origin, origin_end)
            start, index = stop, index + 1

    def is_identity(self, length: int) -> bool:
        """Whether this maps ``length`` chars one for one onto themselves."""
        return self.length == length and self.starts == (0,) and self.ends == (length,)


@dataclass(frozen=True, slots=True)
class CanonicalText:
    """A text as detectors should see it, and the way back to the original."""

    original: str
    text: str  # the canonical text that detectors see
    _offsets: _OffsetMap | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self._offsets is None and self.text != self.original:
            raise ValueError("a changed text needs its offset map; use canonicalize()")

    @property
    def identity(self) -> bool:
        """Whether ``text`` is ``original`` and every offset maps to itself."""
        return self._offsets is None

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """The original span ``[s, e)`` that produced canonical chars ``[start, end)``.

        From the first original char of canonical char ``start`` to the end of the original
        char(s) of canonical char ``end - 1``; every original char in between, removed invisible
        ones included, is inside. Offsets are clamped to the text. For ``start >= end``, an empty
        span where canonical char ``start`` came from (the original's end at the text's end).
        """
        size = len(self.text)
        start, end = min(max(start, 0), size), min(max(end, 0), size)
        if self._offsets is None:
            return start, max(start, end)
        if start < end:
            return self._offsets.span(start, end)
        position = self._offsets.char_span(start)[0] if start < size else len(self.original)
        return position, position


def canonicalize(text: str) -> CanonicalText:
    """``text`` canonicalized for detection, with the map back to ``text``."""
    current, offsets, windows = text, None, [(0, len(text))]
    triggers = _triggered(text)
    for _ in range(MAX_PASSES):
        if not triggers:  # nothing in ``current`` can change
            break
        rewritten = _rewrite(current, windows, triggers)
        if rewritten is None:
            break
        current, step, changes = rewritten
        offsets = step if offsets is None else _compose(step, offsets)
        if not changes:  # escapes kept whole, nothing decoded: nothing new to read
            break
        triggers = _triggered(current)
        windows = _windows(current, changes)
        if triggers & _SPANS_SPACES:  # their matches cross spaces: scan it all
            windows = [(0, len(current))]
    if offsets is not None and current == text and offsets.is_identity(len(text)):
        offsets = None
    return CanonicalText(text, current, offsets)


def _compose(outer: _OffsetMap, inner: _OffsetMap) -> _OffsetMap:
    """The map of a second pass (``outer``) followed back through the first (``inner``)."""
    out = _Segments()
    for index in range(len(outer.canonical)):
        _, size, start, end = outer.segment(index)
        if size == end - start:
            inner.add_image(out, start, end)
        else:
            out.add(1, *inner.span(start, end))
    return out.freeze()


class _Builder:
    """One pass's output text and segments, written left to right over ``source``."""

    __slots__ = ("changes", "grouped", "pieces", "position", "segments", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.pieces: list[str] = []
        self.segments = _Segments()
        self.position = 0
        self.changes: list[Span] = []
        self.grouped = False  # whether an escape was kept as one unit

    def copy_to(self, end: int) -> None:
        """Keep the source unchanged up to ``end``."""
        if end > self.position:
            self.pieces.append(self.source[self.position : end])
            self.segments.add(end - self.position, self.position, end)
            self.position = end

    def replace_to(self, end: int, value: str, *, one_for_one: bool = False) -> None:
        """Replace the source up to ``end`` by ``value``: char for char when ``one_for_one``,
        else each char of ``value`` maps to all of it."""
        if value == self.source[self.position : end]:
            self.copy_to(end)
            return
        first = self.segments.length
        if one_for_one:
            self.segments.add(len(value), self.position, end)
        else:
            for _ in value:
                self.segments.add(1, self.position, end)
        self.changes.append((first, self.segments.length))
        self.pieces.append(value)
        self.position = end

    def keep_whole(self, end: int) -> None:
        """Keep the source up to ``end`` as written, each char mapping to all of it."""
        for _ in range(end - self.position):
            self.segments.add(1, self.position, end)
        self.pieces.append(self.source[self.position : end])
        self.position = end
        self.grouped = True

    def replace_each(self, values: list[str]) -> None:
        """Replace each of the next source chars by its value, in bulk when all are removed or
        all are one char (then they map one for one)."""
        end = self.position + len(values)
        joined = "".join(values)
        if not joined or (len(joined) == len(values) and "" not in values):
            self.replace_to(end, joined, one_for_one=bool(joined))
        else:
            for value in values:
                self.replace_to(self.position + 1, value)


def _rewrite(
    text: str, windows: list[Span], triggers: frozenset[str]
) -> tuple[str, _OffsetMap, list[Span]] | None:
    """One pass over the ``windows`` of ``text`` (whose ``_triggered`` are ``triggers``, not
    empty): the new text, its map and where it changed."""
    scan = _scanner(triggers, text.isascii())
    out = _Builder(text)
    for low, high in windows:
        for match in scan.finditer(text, low, high):
            out.copy_to(match.start())
            _HANDLERS[match.lastgroup or ""](out, match)  # each alternative is named
    if not out.changes and not out.grouped:
        return None
    out.copy_to(len(text))
    return "".join(out.pieces), out.segments.freeze(), out.changes


def _windows(text: str, changes: list[Span]) -> list[Span]:
    """The stretches of ``text`` a further pass must scan: those between ASCII whitespace that
    hold or touch a change. No match spans ASCII whitespace, and elsewhere the last pass
    scanned the same characters and changed nothing."""
    windows: list[Span] = []
    for start, end in changes:
        if windows and start <= windows[-1][1]:
            if end > windows[-1][1]:
                windows[-1] = (windows[-1][0], _next_space(text, end))
            continue
        floor = windows[-1][1] if windows else 0
        before = _SPACE_BEFORE.search(text, floor, start)
        windows.append((before.end() if before else floor, _next_space(text, end)))
    return windows


def _next_space(text: str, position: int) -> int:
    """The index of the first ASCII whitespace at or after ``position`` (or the text's end)."""
    space = _SPACE_AFTER.search(text, position)
    return space.start() if space else len(text)


def _on_percent(out: _Builder, match: Any) -> None:
    _decode_bytes(out, bytes.fromhex(match.group().replace("%", "")), 3)


def _on_hexbytes(out: _Builder, match: Any) -> None:
    _decode_bytes(out, bytes.fromhex(match.group().replace("\\x", "")), 4)


def _decode_bytes(out: _Builder, data: bytes, width: int) -> None:
    """Escaped bytes, each ``width`` chars: UTF-8 sequences and ASCII decoded, other bytes kept
    (the codec refuses overlong and surrogate forms; ``surrogateescape`` marks what it refused)."""
    position = out.position
    for char in data.decode("utf-8", "surrogateescape"):
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:
            position += width
            out.keep_whole(position)
        else:
            position += width * _utf8_length(code)
            out.replace_to(position, _canonical_value(char))


def _utf8_length(code: int) -> int:
    return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4


def _on_pair(out: _Builder, match: Any) -> None:
    high, low = int(match.group()[2:6], 16), int(match.group()[8:12], 16)
    char = chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    out.replace_to(match.end(), _canonical_value(char))


def _on_unicode(out: _Builder, match: Any) -> None:
    code = int(match.group()[2:].strip("{}"), 16)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:  # a lone surrogate stays as written
        out.keep_whole(match.end())
    else:
        out.replace_to(match.end(), _canonical_value(chr(code)))


def _on_escape(out: _Builder, match: Any) -> None:
    out.replace_to(match.end(), _ESCAPES[match.group()[1]])


def _on_kept(out: _Builder, match: Any) -> None:
    """``\\n``, ``\\t`` and the other JSON control escapes: kept (see ``_ESCAPES``), as one unit."""
    out.keep_whole(match.end())


def _on_decimal(out: _Builder, match: Any) -> None:
    code = int(match.group()[2:].rstrip(";"))
    out.replace_to(match.end(), _canonical_value(html.unescape(f"&#{code};")))


def _on_hex(out: _Builder, match: Any) -> None:
    code = int(match.group()[3:].rstrip(";"), 16)
    out.replace_to(match.end(), _canonical_value(html.unescape(f"&#x{code:x};")))


def _on_named(out: _Builder, match: Any) -> None:
    reference = match.group()
    if reference[1:] in html5:
        out.replace_to(match.end(), _canonical_value(html.unescape(reference)))
    else:
        out.copy_to(match.end())


def _on_groups(out: _Builder, match: Any) -> None:
    """Card and account numbers in groups of four split by ``/``, ``_``, ``.`` or ``:``: read
    as groups split by spaces; a 13+ digit number with thousands separators, as its digits."""
    text = match.group()
    if match.group("scientific"):  # 4.539148803436467e15: the card number it is
        out.replace_to(match.end(), str(int(Decimal(text))))
        return
    if match.group("thousands"):
        out.replace_each([char if char.isdigit() else "" for char in text])
        return
    separator = match.group("sep") or match.group("colon") or match.group("comma")
    out.replace_to(match.end(), text.replace(separator, " "), one_for_one=True)


def _on_blanks(out: _Builder, match: Any) -> None:
    """Blanks between digits other than one space (``425\t555\t0100``, ``4111  1111``, a
    ``\r``, a table's ``|``): read as one space."""
    out.replace_to(match.end(), " ")


def _on_plus(out: _Builder, match: Any) -> None:
    """``+`` between groups of digits (``4111+1111+1111+1111``, ``+1+425+555+0100``: a space
    in form encoding): read as spaces; a leading ``+`` stays."""
    text = match.group()
    value = text[0] + text[1:].replace("+", " ")
    out.replace_to(match.end(), value, one_for_one=True)


def _on_mixed(out: _Builder, match: Any) -> None:
    token = match.group()
    plain = token.translate(_CONFUSABLES)
    if plain == token:
        out.copy_to(match.end())
        return
    out.replace_each([_canonical_value(char) for char in plain])


def _on_removed(out: _Builder, match: Any) -> None:
    """Control characters, and combining marks drawn over ASCII (underline, strike, keycap)."""
    out.replace_to(match.end(), "")


def _on_stop(out: _Builder, match: Any) -> None:
    out.replace_to(match.end(), ".")


def _on_at(out: _Builder, match: Any) -> None:
    out.replace_to(match.end(), "@")


def _on_dot(out: _Builder, match: Any) -> None:
    out.replace_to(match.end(), ".")


def _on_spelled(out: _Builder, match: Any) -> None:
    """``name at example dot com``: the words kept, `` at `` and `` dot `` as ``@`` and ``.``."""
    for piece in _SPELLED_PARTS.finditer(match.group()):
        end = match.start() + piece.end()
        if piece.group("word"):
            out.copy_to(end)
        else:
            out.replace_to(end, "@" if piece.group().strip().lower() == "at" else ".")


_SPELLED_PARTS = regex.compile(r"(?P<word>[^ ]+)| (?:at|AT|dot|DOT) ")


def _on_base64(out: _Builder, match: Any) -> None:
    """Base64 of text (a model decodes it): the text, each char standing for the whole token."""
    decoded = _base64_text(match.group())
    if decoded is None:
        out.copy_to(match.end())
    else:
        value = _apart(out.source, match.start(), match.end(), _canonical_value(decoded))
        out.replace_to(match.end(), value)


def _on_datauri(out: _Builder, match: Any) -> None:
    """A base64 data URL inside a text (``![x](data:text/plain;base64,...)``): its payload read
    as the text it spells, whatever its size and media type, each char standing for the whole
    payload; binary payloads stay as written."""
    token = match.group()
    start = match.start() + token.lower().rfind(_DATA_URI_PAYLOAD) + len(_DATA_URI_PAYLOAD)
    out.copy_to(start)
    decoded = _declared_base64_text(out.source[start : match.end()])
    if decoded is None:
        out.copy_to(match.end())
    else:
        value = _apart(out.source, start, match.end(), _canonical_value(decoded))
        out.replace_to(match.end(), value)


def _apart(source: str, start: int, end: int, value: str) -> str:
    """``value`` (decoded from the token ``source[start:end]``) set apart by spaces from what
    is glued to the token (``base64,`` before it, ``)`` after it), so that detectors read it as
    a value of its own."""
    before = " " if start > 0 and not source[start - 1].isspace() else ""
    after = " " if end < len(source) and not source[end].isspace() else ""
    return f"{before}{value}{after}"


def _declared_base64_text(payload: str) -> str | None:
    """The text a payload declared base64 spells: nearly every character printable."""
    data = _base64_bytes(payload.rstrip("="))
    if data is None:
        return None
    text = _text_of(data)
    readable = sum(
        char.isprintable() or char.isspace() or _REMOVED.match(char) is not None for char in text
    )
    return text if readable >= 0.95 * len(text) else None


def _base64_bytes(body: str) -> bytes | None:
    """``body`` (base64 without padding) decoded, or None."""
    if len(body) % 4 == 1:
        return None
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except ValueError:
        return None


def _text_of(data: bytes) -> str:
    """``data`` as text: UTF-8, else Latin-1."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _base64_text(token: str) -> str | None:
    """The text a base64 token spells (padding optional), when it spells text at all. A token
    without both cases of letters is not taken for base64 (a card number is valid base64)."""
    body = token.rstrip("=")
    if len(body) > MAX_BASE64 or body.islower() or body.isupper():
        return None
    if not any(char.isalpha() for char in body):
        return None
    data = _base64_bytes(body)
    if data is None:
        return None
    text = _text_of(data)
    # ASCII characters are single bytes in both decodings: the cheap test first (most tokens
    # that merely look like base64, long words and ids, decode to bytes that fail it)
    plain = len(data) - len(data.translate(None, _PLAIN_BYTES))
    if plain < 0.85 * len(text) or sum(char.isalnum() for char in text) < 4:
        return None
    readable = sum(
        char.isprintable() or char.isspace() or _REMOVED.match(char) is not None for char in text
    )
    return text if readable >= 0.95 * len(text) else None


# The ASCII bytes of printable or whitespace characters (``plain`` above).
_PLAIN_BYTES = bytes(b for b in range(128) if chr(b).isprintable() or chr(b).isspace())


def _on_chars(out: _Builder, match: Any) -> None:
    values = [_canonical_char(char) for char in match.group()]
    if not any(values) and _word_break(out.source, match.start(), match.end()):
        values[0] = " "  # ``Jennifer\u200bMartinez``: two words, as a reader sees them
    out.replace_each(values)


def _word_break(source: str, start: int, end: int) -> bool:
    """Whether the invisible characters ``source[start:end]`` stand between two words: a
    lower-case letter before, a capital after, in a token of words only (no digit, ``@``, ``/``,
    ``:``, ``\\`` nor a dot inside: an address or a code stays whole)."""
    if start == 0 or end >= len(source):
        return False
    if not (source[start - 1].islower() and source[end].isupper()):
        return False
    low, high = _token(source, start, end)
    return _NOT_WORDS.search(source, low, high) is None


def _token(source: str, start: int, end: int) -> Span:
    before = _SPACE_BEFORE.search(source, max(0, start - 256), start)
    after = _SPACE_AFTER.search(source, end, end + 256)
    return (before.end() if before else max(0, start - 256)), (
        after.start() if after else min(len(source), end + 256)
    )


# What makes a token more than words (``_word_break``): a digit, ``@``, ``/``, ``:``, ``\``, a
# dot or ``_`` followed by a letter or digit.
_NOT_WORDS = regex.compile(r"[0-9@/:\\]|[._][\p{L}\p{N}]")


_HANDLERS: dict[str, Callable[[_Builder, Any], None]] = {
    "percent": _on_percent,
    "hexbytes": _on_hexbytes,
    "pair": _on_pair,
    "unicode": _on_unicode,
    "escape": _on_escape,
    "kept": _on_kept,
    "decimal": _on_decimal,
    "hex": _on_hex,
    "named": _on_named,
    "controls": _on_removed,
    "marks": _on_removed,
    "stop": _on_stop,
    "at": _on_at,
    "dot": _on_dot,
    "spelled": _on_spelled,
    "base64": _on_base64,
    "datauri": _on_datauri,
    "blanks": _on_blanks,
    "plus": _on_plus,
    "groups": _on_groups,
    "mixed": _on_mixed,
    "chars": _on_chars,
}


def _canonical_value(value: str) -> str:
    """A decoded value with each of its characters canonical."""
    if value.isascii():
        return value
    return "".join(_canonical_char(char) if _SPECIAL.match(char) else char for char in value)


# Only characters of _SPECIAL_CLASS come here, so the cache is bounded by that class.
@cache
def _canonical_char(char: str) -> str:
    """One character canonical: removed, plain digit, space or dash, else its short NFKC."""
    plain = _plain_char(char)
    if plain is not None:
        return plain
    folded = unicodedata.normalize("NFKC", char)
    if len(folded) > MAX_EXPANSION:
        return char
    return "".join(_fold_part(part) for part in folded)


def _fold_part(char: str) -> str:
    plain = _plain_char(char)
    return char if plain is None else plain


def _plain_char(char: str) -> str | None:
    """The empty string for a removed char, the ASCII digit, space or dash it stands for, or
    None."""
    if 0xE0020 <= ord(char) <= 0xE007E:  # a tag character spells its ASCII twin, invisibly
        return chr(ord(char) - 0xE0000)
    if _REMOVED.match(char):
        return ""
    if _DIGIT.match(char):
        return _digit(char)
    if _SPACE.match(char):
        return " "
    if _DASH.match(char) or char in _MIDDLE_DOTS:
        return "-"
    return _LOOKALIKES.get(char)


# Read as the ASCII they stand for: fraction and division slashes (NFKC keeps them), the braille
# blank (drawn as a space, yet neither a space separator nor ignorable).
_LOOKALIKES = {"\u2044": "/", "\u2215": "/", "\u2800": " "}


def _digit(char: str) -> str | None:
    """The ASCII digit of a decimal digit character."""
    value = unicodedata.decimal(char, None)
    if value is None:
        value = next((n for n, pattern in enumerate(_NUMERIC_VALUES) if pattern.match(char)), None)
    return None if value is None else str(value)
