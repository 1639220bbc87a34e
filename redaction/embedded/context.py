"""Context: the words around a candidate, which raise or lower the confidence in a category."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_WORD = re.compile(r"[^\W\d_]+")
_ASCII_WORD = re.compile(r"[A-Za-z]+")  # the same, in ASCII text (a faster scan)
# A clause ends at punctuation, but not at the dot of "no.", "nr." or "tel.".
# Full-width and ideographic commas and stops end one too. (The punctuation is matched before
# the look-behinds: tried at every position, they made the scan four times slower.)
_CLAUSE_END = re.compile(
    r"[.,;!?](?<!\bno\.)(?<!nr\.)(?<!\btel\.)(?<!\bph\.)(?:\s|$)|\n"
    r"|[\u3001\u3002\uff01\uff0c\uff1b\uff1f]"
)
# Up to the last character that a clause end starts with (most windows have none).
_LAST_MARK = re.compile(r".*[.,;!?\n\u3001\u3002\uff01\uff0c\uff1b\uff1f]", re.DOTALL)
_BEFORE = 48
_AFTER = 32  # a cue after the value: 'AAA123456 es mi número de pasaporte'
BOOST = 0.35
PENALTY = 0.3


@dataclass(slots=True)  # not frozen: one is made per candidate, and frozen makes that slower
class Context:
    """Lower-cased words near a candidate, in its clause, and the raw window for phrases (read
    only: never changed once made)."""

    words: frozenset[str]
    window: str

    def has(self, cues: frozenset[str]) -> bool:
        """True if any cue occurs: one-word cues as words, cues with a space as phrases."""
        if not self.words.isdisjoint(cues):
            return True
        window = self.window
        for phrase in _ascii_phrases(cues) if window.isascii() else _phrases(cues):
            if phrase in window:
                return True
        return False

    def adjust(self, base: float, cues: frozenset[str]) -> float:
        """The base score, raised by a cue for the category or lowered by a negative cue."""
        if cues and self.has(cues):
            return min(1.0, base + BOOST)
        if not self.words.isdisjoint(NEGATIVE):
            return max(0.0, base - PENALTY)
        return base


@lru_cache(maxsize=256)
def _phrases(cues: frozenset[str]) -> tuple[str, ...]:
    """The cues looked for as text rather than as words."""
    return tuple(cue for cue in cues if " " in cue or _spaceless(cue[0]))


@lru_cache(maxsize=256)
def _ascii_phrases(cues: frozenset[str]) -> tuple[str, ...]:
    """The phrases that an ASCII window may hold (not those of CJK or Thai cues)."""
    return tuple(phrase for phrase in _phrases(cues) if phrase.isascii())


def _spaceless(char: str) -> bool:
    """Cues in Thai, CJK, kana or hangul are found inside words: those scripts write no spaces
    between words, so "我的电话号是" holds the cue "电话"."""
    return char >= "\u2e80" or "\u0e00" <= char <= "\u0eff"


def read_context(text: str, start: int, end: int) -> Context:
    """The context of ``text[start:end]``."""
    before = _last_clause(text[max(0, start - _BEFORE) : start].lower())
    after = _first_clause(text[end : end + _AFTER].lower())
    window = f"{before} {after}"
    words = (_ASCII_WORD if window.isascii() else _WORD).findall(window)
    return Context(frozenset(words), window)


def _last_clause(text: str) -> str:
    """What follows the last clause end in ``text`` (all of it if there is none). A clause end
    at the last mark is the last one (one that starts before it ends no later: two characters
    at most); otherwise the clause ends are searched for from the start."""
    mark = _LAST_MARK.match(text)
    if mark is None:
        return text
    last = _CLAUSE_END.match(text, mark.end() - 1)
    if last is not None:
        return text[last.end() :]
    return _CLAUSE_END.split(text)[-1]


def _first_clause(text: str) -> str:
    """What comes before the first clause end in ``text`` (all of it if there is none)."""
    found = _CLAUSE_END.search(text)
    return text if found is None else text[: found.start()]


def cues(*phrases: str) -> frozenset[str]:
    """A cue set from space-separated words; ``_`` inside an entry stands for a space."""
    return frozenset(word.replace("_", " ") for phrase in phrases for word in phrase.split())


# Words that say a number is a business reference rather than personal data.
NEGATIVE = cues(
    "order orders invoice ticket tracking ref reference confirmation booking sku serial build "
    "version transaction po case isbn part model item product batch shipment parcel release "
    "bestellung bestellnummer rechnung auftrag commande facture pedido factura ordine fattura "
    "bestelling factuur"
)
