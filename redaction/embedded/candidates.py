"""One scan over the (folded) text: a combined pattern that yields candidate spans by shape.

A shape says how a span looks (a run of digit groups, an upper-case code, an e-mail domain...);
which category it is, if any, is decided afterwards by validation and context.

Every alternative starts with a single character or character class and marks its shape with an
empty named group right after it. That lets the regular expression engine reject most positions
with one comparison per alternative, which makes the combined scan several times faster than the
same alternatives wrapped in named groups; the class of all first characters is put before the
alternation (``_scan_pattern``), so that positions no shape can start at are skipped in C.
Shapes that are anchored on an inner character (the ``@`` of an e-mail, the ``://`` of a URL,
the first ``:`` of an IPv6 address) are widened to their real start afterwards, in ``widen``.

Scripts written without spaces between words (Chinese, Japanese, Korean particles, Thai, ...)
glue values to words; their letters are folded to spaces before the scan (``folding``), so they
end a value like a space does. A value glued to a letter of another script, ``_`` or ``-`` is
still a candidate, marked ``glued``; classification then asks more of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_W = r"\w"
_L = r"[^\W_]"  # a letter or a digit
# What \b means at the end of a value, except that "_" counts as a space.
_END = rf"(?!{_L})"
_NON_ASCII_LETTER = r"(?![\x00-\x7f])[^\W\d_]"
# "+81-(0)90...": a dash before a parenthesis after a country code only
_SEP = (
    r"(?:[\ ./-]|\ -\ |[-/]\ |\ -|\)\ ?\(|\)[\ .-]?|\ ?\("
    r"|\ \)\ (?:(?<=\(\ \d\d\ \)\ )|(?<=\(\ \d{3}\ \)\ )|(?<=\(\ \d{4}\ \)\ ))"
    r"|-\((?:(?<=\+\d-\()|(?<=\+\d\d-\()|(?<=\+\d{3}-\())"
    r"|(?<=\d{4})(?:\t|\r?\n)(?=\d{4}(?!\d)))"
)

_SHAPES = (
    r"[DAEHSU](?P<connection>)(?:efaultEndpointsProtocol|ccountEndpoint|ccountName|ndpoint"
    r"|ostName|erver|ata\ Source)=[^\s;]+(?:;[A-Za-z][A-Za-z ]*=[^\s;]*)+;?",
    r"\.(?P<redis>)redis\.cache\.windows\.net(?::\d+)?,\S*?password=[^\s,]+\S*",
    rf"@(?P<email>){_L}(?:(?:{_W}|-)*{_L})?(?:\.{_L}(?:(?:{_W}|-)*{_L})?)*"
    rf"\.(?:xn--[a-z0-9]+(?:-[a-z0-9]+)*|[^\W\d_]{{2,}}){_END}",
    r"[:w](?P<url>)(?:(?<=:)//|(?<=w)ww\.)[^\s<>\"'`]+",
    r"\.(?P<domain>)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
    r"(?![\w@-])(?::\d{1,5}(?!\d))?(?:[/?#][^\s<>\"'`]*)?",
    r"s(?P<sas>)ig=[A-Za-z0-9%+/]{20,}(?:%3D|=){0,2}",
    r":(?P<ipv6>)(?:[0-9A-Fa-f]{0,4}:){1,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{1,4})?"
    rf"(?:%[0-9A-Za-z_.-]{{1,15}}(?![0-9A-Za-z_.-]))?(?!{_L}|:[0-9A-Fa-f:])",
    rf"\d(?P<iban>)(?<=[a-z]{{2}}\d)\d(?:[\ -]?[a-z0-9]{{4}}){{2,7}}"
    rf"(?:[\ -]?[a-z0-9]{{1,3}})?(?:[A-Z][A-Za-z]*|{_NON_ASCII_LETTER}{_W}*)?{_END}",
    # glued letters: "...4300Xy", "...3000é" (a lower-case letter of ASCII goes on the IBAN)
    r"[-+\d](?P<gps>)(?:(?<=\d)\d?|\d{1,2})\.\d{3,}°?\ ?[NS]?,\ ?[-+]?\d{1,3}\.\d{3,}°?"
    rf"(?:\ ?[EW]{_END})?",
    rf"\d(?P<day_month_year>)\d?(?:st|nd|rd|th)?\.?\ [^\W\d_]{{3,9}}\.?,?\ \d{{4}}{_END}",
    # ... after a word ("March 5, 1984"); at "01 0137..." the numeric shape is tried instead
    rf"\d(?P<day_year>)(?:(?<=[^\W\d_]\ \d)|(?<=[^\W\d_]\.\ \d))\d?(?:st|nd|rd|th)?,?"
    rf"\ \d{{4}}{_END}",
    rf"\d(?P<hetu>)\d{{5}}[+A-FU-Ya-fu-y]\d{{3}}[0-9A-Ya-y]{_END}",
    # "( 19 ) 38294427": spaces inside the parentheses of an area code of two to four digits
    rf"[+(\d](?P<numeric>)(?:(?<=\+)\(?\d|(?<=\()(?:\ (?=\d{{2,4}}\ \)))?\+?\d|(?<=\d))"
    rf"\d*(?:{_SEP}\d+)*"
    rf"(?:-?[A-Z]{{1,2}}{_END}|x{_END})?",
    rf"[A-Z](?P<nino>)[A-Z]\ ?\d{{2}}\ ?\d{{2}}\ ?\d{{2}}\ ?[A-D]{_END}",
    rf"[A-Z](?P<swift>)[A-Z]{{5}}[A-Z0-9]{{2}}(?:[A-Z0-9]{{3}})?{_END}",
    rf"[A-Z](?P<code>)(?:[A-Z]{{0,5}}|(?<!{_W}[A-Z])[A-Z](?:\ |\ ?[.-]\ ?)(?=\d\d))\d[A-Z0-9]*"
    rf"(?:(?:[\ -]|(?<=\d)\.(?=\d))[A-Z0-9]{{1,4}}{_END})*",
    r"=(?P<base64_key>)=(?<=[A-Za-z0-9+/]{86}==)",
)

# The first character of a shape: a class (no "]" inside), an escape, or a plain character.
_FIRST = re.compile(r"\[[^\]]+\]|\\.|[^\\\[(]")


def _scan_pattern(shapes: tuple[str, ...]) -> str:
    """The shapes as one alternation behind the class of their first characters:
    ``[@\\d...](?:(?<=@)...|(?<=\\d)...)`` matches what ``"|".join(shapes)`` matches, group for
    group, but the engine skips to the next such character at C speed instead of trying every
    shape at every position (a fifth of the scan's time)."""
    firsts, rests = [], []
    for shape in shapes:
        first = _FIRST.match(shape)
        if first is None or first[0] in ".^$*+?{|":
            raise ValueError(f"a shape without a plain first character: {shape[:20]}")
        inner = first[0][1:-1] if first[0].startswith("[") else first[0]
        firsts.append("\\" + inner if inner.startswith("-") else inner)  # not a range
        rests.append(f"(?<={first[0]}){shape[first.end() :]}")
    return f"[{''.join(firsts)}](?:{'|'.join(rests)})"


PATTERN = re.compile(_scan_pattern(_SHAPES), re.X)
_NUMERIC = re.compile(next(shape for shape in _SHAPES if "(?P<numeric>)" in shape), re.X)

_SPACED_WORD = re.compile(_W)
# A code of lower or mixed case: one to three letters that start a word, then letters and
# digits to its end (``cased_token``); a run of this many digits at least glued after them.
_CASED_HEAD = re.compile(r"(?<![\w-])[A-Za-z]{1,3}\Z")
_CASED_TAIL = re.compile(r"[A-Za-z0-9]+(?![\w-])")
_CASED_DIGITS = 5
MIN_GLUED_DIGITS = 7  # a run glued to a word holds a value only with this many digits
_SHORTEST_GLUED = 7  # ... or, glued by "_" or "-", an IP address such as 1.2.3.4
# After a comma: a group of thousands ("1,234,567"), or the decimals of a short number ("3,14").
_THOUSANDS = re.compile(r"\d{3}(?![\d-])")
_SHORT_WHOLE_PART = re.compile(r"(?<![\d.])\d{1,3}\Z")
# Shapes that must not continue a word, a number or a dotted name to their left.
_LEFT_BOUNDARY = {
    "connection": _SPACED_WORD,
    "gps": re.compile(rf"{_W}|\."),
    "day_month_year": re.compile(rf"{_W}|[.,/-]"),
    "day_year": re.compile(rf"{_W}|[.,/-]"),
    "nino": _SPACED_WORD,
    "hetu": _SPACED_WORD,
    "swift": _SPACED_WORD,
    "ipv6": re.compile(rf"{_L}|[:.]"),
    "base64_key": re.compile(r"[\w+/]"),
}
_LOCAL_PART = re.compile(rf"{_L}(?:{_W}|[.+-]){{0,63}}\Z")
# A quoted local part ('"john smith"@example.com'), the whole local part (not 'foo"bar"@').
_QUOTED_LOCAL_PART = re.compile(r'(?<![^\s<(:;,])"(?:[^"\\\r\n]|\\.){1,62}"\Z')
_SCHEME = re.compile(r"(?:https?|s?ftp|wss?)\Z", re.I)
_HEX_HEAD = re.compile(r"[0-9A-Fa-f]{1,4}\Z")
_HOST = re.compile(r"[\w-]{1,63}\Z")
_LABEL = re.compile(r"(?<![\w.@/-])[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")
_MONTH_WORD = re.compile(r"[^\W\d_]{3,9}\.? \Z")
_WHITESPACE = re.compile(r"\s")
# Shapes whose classification looks inside the whole span; others are rescanned when they fail.
_SELF_SEARCHING = frozenset({"numeric", "code", "iban", "url", "email"})


@dataclass(slots=True)  # not frozen: one is made per span, and frozen makes that slower
class Candidate:
    """A span of the text that has one of the shapes above.

    ``glued``: the span continues a word on its left. ``resume``: where to scan on when the span
    holds nothing, so that a shape that failed does not hide a value inside it.
    """

    shape: str
    start: int
    end: int
    glued: bool = False
    resume: int = 0


def find_candidates(text: str) -> Iterator[Candidate]:
    """Yields candidates left to right from one scan of ``text``; widened ones may overlap."""
    position = 0
    while (candidate := next_candidate(text, position)) is not None:
        yield candidate
        position = candidate.end


def next_candidate(text: str, position: int) -> Candidate | None:
    """The first candidate that starts its match at ``position`` or later."""
    while (match := PATTERN.search(text, position)) is not None:
        candidate = _candidate(match, text)
        if candidate is not None:
            return candidate
        if match.lastgroup == "domain":  # any dot may start one: the next is tried
            position = match.start() + 1
        else:
            position = _next_token(text, match.start(), match.end())  # the rest may hold a value
    return None


def numeric_at(text: str, position: int) -> Candidate | None:
    """The run of digit groups that starts at ``position``, as a candidate, if any."""
    match = _NUMERIC.match(text, position)
    return _candidate(match, text) if match is not None else None


def _candidate(match: re.Match[str], text: str) -> Candidate | None:
    shape, anchor, end = match.lastgroup, match.start(), match.end()
    start = widen(shape, text, anchor) if shape else None
    if shape is None or start is None:
        return None
    glued = _glued(shape, text, start)
    if glued is None:
        return None
    if glued and shape == "numeric" and end - start < _SHORTEST_GLUED:
        return _cased_candidate(text, start, end)
    if shape == "ipv6" and text.endswith(":", 0, end) and not text.endswith("::", 0, end):
        end -= 1  # "at 2001:db8::1: down": the colon ends the sentence
    if shape == "domain":
        resume = anchor + 1  # not a domain: what follows its dot is read on
    else:
        resume = end if shape in _SELF_SEARCHING else _next_token(text, anchor, end)
    return Candidate(shape, start, end, glued, resume)


def _cased_candidate(text: str, start: int, end: int) -> Candidate | None:
    """A short digit run glued to the letters that start its word: a code of lower or mixed
    case ("aaa123456"), if it is one."""
    token = cased_token(text, start) if end - start >= _CASED_DIGITS else None
    if token is None:
        return None
    return Candidate("cased_code", *token, resume=_next_token(text, start, end))


def cased_token(text: str, position: int) -> tuple[int, int] | None:
    """The word around ``position`` if one to three letters start it right before
    ``position`` and the word is letters and digits, some letters lower case ("aaa123456",
    "AaA123456", "ab1234567c"): a code written in lower or mixed case."""
    head = _CASED_HEAD.search(text, max(0, position - 3), position)
    tail = _CASED_TAIL.match(text, position) if head is not None else None
    if head is None or tail is None or text[head.start() : tail.end()].isupper():
        return None
    return head.start(), tail.end()


def widen(shape: str, text: str, start: int) -> int | None:
    """The real start of a shape anchored on an inner character, or None if it has none."""
    head = text[max(0, start - 80) : start]
    if shape == "email":
        plain = _widened(_LOCAL_PART, head, start)
        return plain if plain is not None else _widened(_QUOTED_LOCAL_PART, head, start)
    if shape == "url" and text.startswith("://", start):
        return _widened(_SCHEME, head, start)
    if shape == "ipv6":
        found = _HEX_HEAD.search(head)
        return start - len(found.group()) if found else start
    if shape == "redis":
        return _widened(_HOST, head, start)
    if shape == "domain":  # "Done.www.example.com": the URL starts at "www."
        return None if text.startswith("www.", start + 1) else _widened(_LABEL, head, start)
    if shape == "day_year":
        return _widened(_MONTH_WORD, head, start)
    if shape == "iban":
        return start - 2
    if shape == "base64_key":
        return start - 86
    return start


def _widened(pattern: re.Pattern[str], head: str, start: int) -> int | None:
    found = pattern.search(head)
    return start - len(found.group()) if found else None


def _next_token(text: str, anchor: int, end: int) -> int:
    """Where the span's second token starts (its end if it has one token)."""
    space = _WHITESPACE.search(text, anchor, end)
    return space.end() if space else end


def _glued(shape: str, text: str, start: int) -> bool | None:
    """False: a clean left edge; True: glued to a word; None: it continues something (skip)."""
    if start == 0:
        return False
    before = text[start - 1]
    if shape == "numeric" and text[start] in "+(":  # "call+1 415...": a phone's own start
        return None if _is_digit(before) else False
    if shape == "numeric" and before == "," and not _continues_number(text, start):
        return False  # "021-68812753,021-68808888", "10.0.0.1,10.0.0.2": a list
    if shape == "numeric":
        return _numeric_glue(before, text[start - 2] if start > 1 else " ")
    if shape == "code":
        return _code_glue(before)
    if shape == "iban":
        return _SPACED_WORD.match(before) is not None or before == "-"
    if shape == "url":
        continues = text.startswith("www.", start) and (_SPACED_WORD.match(before) or before == "/")
        return None if continues else False
    boundary = _LEFT_BOUNDARY.get(shape)
    return None if boundary is not None and boundary.match(before) else False


def _numeric_glue(before: str, two_before: str) -> bool | None:
    """A digit run after a digit, or after ``.,+`` or a dash or slash that follows one, goes on a
    number; after a dash or a slash that follows a word ("x/536-22-8915") it is glued."""
    if _is_digit(before) or before in ".,+" or (before in "-/" and _is_digit(two_before)):
        return None
    return before in "-/" or _SPACED_WORD.match(before) is not None


def _continues_number(text: str, start: int) -> bool:
    """Whether the digits after a comma at ``start - 1`` go on the number before it: a group of
    thousands ("1,234,567") or the decimals after a short whole part ("3,14159")."""
    if _THOUSANDS.match(text, start):
        return True
    return _SHORT_WHOLE_PART.search(text, max(0, start - 5), start - 1) is not None


def _code_glue(before: str) -> bool | None:
    """A code may follow "_", "-", a lower-case word (camelCase) or a letter of another script
    ("ЖDE89..."), never a capital of ASCII or a digit."""
    if before in "_-" or before.islower() or not before.isascii():
        return True  # "xDE89...", "éDE89...", "ЖDE89...": a capital of another script too
    return None if _SPACED_WORD.match(before) else False


def _is_digit(char: str) -> bool:
    return "0" <= char <= "9"
