"""Candidates: the scan pattern matches what the plain alternation of the shapes matches."""

from __future__ import annotations

import random
import re
from pathlib import Path

from redaction.embedded import candidates
from redaction.embedded.evaluation import read_labeled
from redaction.embedded.folding import fold_text

_EVAL = sorted((Path(__file__).parent / "eval").glob("*.txt"))
_PIECES = (
    "4111 1111 1111 1111",
    "+44 20 7946 0958",
    "(415) 555-0132",
    "DE89 3704 0044 0532 0130 00",
    "de89370400440532013000",
    "alice@example.com",
    "https://x.example/a?sig=abcdefghijklmnopqrstuv",
    "www.example.org",
    "bit.ly",
    "::1",
    "2001:db8::10.0.0.1",
    "10.0.0.1",
    "12 March 2024",
    "March 5, 1984",
    "131052-308",
    "AB 12 34 56 C",
    "DEUTDEFF",
    "ID 30817562998",
    "x",
    "_",
    "-",
    "Account",
    "Data Source=srv;Password=p",
    "我的",
    " ",
    ". ",
    ", ",
    "\n",
    "(",
    "+",
    "=",
)


def _texts() -> list[str]:
    rng = random.Random(14)
    texts = [document.text for document in read_labeled(_EVAL)]
    texts += ["".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 9))) for _ in range(2000)]
    return [fold_text(text) for text in texts]


def test_the_scan_pattern_matches_as_the_plain_alternation_at_every_position() -> None:
    plain = re.compile("|".join(candidates._SHAPES), re.X)
    for text in _texts():
        for position in range(len(text) + 1):
            fast, slow = candidates.PATTERN.match(text, position), plain.match(text, position)
            assert (fast and (fast.regs, fast.lastgroup)) == (slow and (slow.regs, slow.lastgroup))
