"""Folding digits, dashes and spaces to ASCII, one code point for one, so offsets stay exact.

Letters of scripts written without spaces between words (Chinese, Japanese, Thai, Korean
particles...) and CJK / full-width punctuation fold to spaces: a value glued to them ends there.
"""

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
SPACELESS = (
    "\u0e00-\u0eff\u1000-\u109f\u1100-\u11ff\u1780-\u17ff\u3000-\u30ff\u3100-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\ufe30-\ufe4f"
    "\uff00-\uffef\U00020000-\U0003134f"
)
_SPACELESS_RUN = re.compile(rf"[{SPACELESS}]+")
_ADDRESS_REACH = 254  # the longest e-mail address
_BEFORE_AT = re.compile(r"[\w.+-]*@")  # the rest of a local part, then its "@"
_DOMAIN_LABELS = re.compile(r"[\w.-]*")  # the labels of a domain so far
_ADDRESS_CHAR = re.compile(r"[A-Za-z0-9._+-]")
_LOCAL_RUN = 2  # letters of a spaceless script glued inside an ASCII local part, at most
_NEXT_LABEL = re.compile(r"[\w-]*\.\w")  # the label goes on to a dot and another label


@lru_cache(maxsize=1024)
def _fold_char(char: str) -> str:
    if char.isdecimal():
        return str(unicodedata.decimal(char))
    if char.isspace():
        return " "
    return "-"


def _fold_match(match: re.Match[str]) -> str:
    return _fold_char(match.group())


def _blank(match: re.Match[str]) -> str:
    """Spaces for the run, except a local part right before an ``@``: the letters of one script
    that end the run (``山田@example.com``) stay, so the e-mail starts there."""
    run = match.group()
    if _inside_address(match.string, match.start(), match.end()):
        return run
    if match.string.startswith("@", match.end()):
        kept = _same_script_tail(run)
        return " " * (len(run) - kept) + run[len(run) - kept :]
    return " " * len(run)


def _inside_address(text: str, start: int, end: int) -> bool:
    """Whether a run of letters lies inside an e-mail address: one or two glued between
    letters of its local part ("hans.m端ller@..."), or a label of its domain ("用户@例子.广告",
    "hans@m端ller.com"); never between two addresses ("a@b.com和c@d.com")."""
    if start == 0 or not text[start:end].isalpha():
        return False
    at = text.rfind("@", max(0, start - _ADDRESS_REACH), start)
    in_domain = at >= 0 and _DOMAIN_LABELS.fullmatch(text, at + 1, start) is not None
    if _BEFORE_AT.match(text, end, end + _ADDRESS_REACH) is not None:
        return (
            not in_domain
            and end - start <= _LOCAL_RUN
            and _ADDRESS_CHAR.match(text, start - 1) is not None
            and _ADDRESS_CHAR.match(text, end) is not None
        )
    return in_domain and (text[start - 1] == "." or _NEXT_LABEL.match(text, end) is not None)


def _same_script_tail(run: str) -> int:
    """How many letters of one script end ``run``."""
    script = _script(run[-1])
    if script is None:
        return 0
    kept = 1
    while kept < len(run) and _script(run[-kept - 1]) == script:
        kept += 1
    return kept


def _script(char: str) -> str | None:
    if not char.isalpha():
        return None
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0].split("-", 1)[0] or None


def fold_text(text: str) -> str:
    """Maps every decimal digit to 0-9, dash to '-', space and spaceless-script letter to ' ':
    same length, same offsets."""
    if text.isascii():
        return text
    return _SPACELESS_RUN.sub(_blank, _FOLDABLE.sub(_fold_match, text))
