"""Context: the clause around a value, its words and its phrases."""

from __future__ import annotations

import random

import pytest

from redaction.embedded import context
from redaction.embedded.context import cues, read_context

PHONE = cues("phone ring_me 电话")


def _around(text: str, value: str) -> tuple[frozenset[str], str]:
    start = text.index(value)
    context = read_context(text, start, start + len(value))
    return context.words, context.window


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Thanks. My phone is 4155550132 ok", {"my", "phone", "is", "ok"}),
        ("Thanks.\nphone 4155550132, order 7", {"phone"}),
        ("see ref no. 4155550132 today. Bye", {"see", "ref", "no", "today"}),
        ("tel. 4155550132! later", {"tel"}),
        ("a.b 4155550132", {"a", "b"}),  # a dot with no space after it ends no clause
        ("Äpfel, Größe 4155550132 groß", {"größe", "groß"}),
        ("好的。我的电话4155550132", {"我的电话"}),  # the ideographic stop ends a clause
    ],
)
def test_the_clause_around_a_value(text: str, words: set[str]) -> None:
    assert _around(text, "4155550132")[0] == words


def test_phrases_are_found_in_ascii_and_other_windows() -> None:
    start = len("please ring me at ")
    assert read_context("please ring me at 4155550132", start, start + 10).has(PHONE)
    start = len("我的电话是")
    assert read_context("我的电话是4155550132", start, start + 10).has(PHONE)
    assert not read_context("call 4155550132", 5, 15).has(PHONE)


def test_the_last_clause_is_what_a_split_at_every_clause_end_leaves() -> None:
    rng = random.Random(14)
    pieces = [*"no.nr.tel.ph. ,;!?\n\u3001\u3002ab x1\t", "no.", "tel. ", " no. ", ".\n", "。\n"]
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        assert context._last_clause(text) == context._CLAUSE_END.split(text)[-1], text
