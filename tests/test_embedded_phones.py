"""Phones: the shortcuts taken before phonenumbers.parse and is_valid_number answer as they do.

Seeded texts shaped like phone numbers (each region's example numbers, cut, lengthened, with
digits put before them, and digit soup with separators), read in every region phonenumbers knows.
"""

from __future__ import annotations

import random

import phonenumbers
import pytest

from redaction.embedded import phones
from redaction.embedded.context import read_context

_REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
_TYPES = (
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
)


def _shaped(rng: random.Random) -> str:
    example = phonenumbers.example_number_for_type(rng.choice(_REGIONS), rng.choice(_TYPES))
    if example is None:
        return "0" + "".join(rng.choice("0123456789") for _ in range(9))
    written = phonenumbers.format_number(example, rng.choice((0, 1, 2))).lstrip("+")
    change = rng.randint(-4, 3)
    if change < 0:
        written = written[:change]
    written += "".join(rng.choice("0123456789") for _ in range(max(0, change)))
    if rng.random() < 0.3:
        written = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 3))) + written
    return written


def _soup(rng: random.Random) -> str:
    lead = rng.choice(("", "0", "00", "1", "011", "55", "0 ", "("))
    body = "".join(rng.choice("0123456789 -./()\t") for _ in range(rng.randint(2, 19)))
    return (lead + body).strip()


def _raws(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [make(rng) for _ in range(count) for make in (_shaped, _soup)]


def _parsed(raw: str, region: str) -> phonenumbers.PhoneNumber | None:
    """The parsed number; None where parse finds no number at all, which it says before it looks
    at the region (so it would have raised in the region tried instead: _valid_number's None)."""
    try:
        return phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as error:
        if error.error_type != error.NOT_A_NUMBER:
            raise
        return None


@pytest.mark.parametrize("seed", range(2))
def test_a_skipped_parse_gives_no_valid_number(seed: int) -> None:
    skipped = 0
    for raw in _raws(100, seed):
        digits = phones._digits(raw)
        if not phones._plain(raw, digits):
            continue
        for region in _REGIONS:
            if not phones._valid_nowhere(digits, region):
                continue
            skipped += 1
            number = _parsed(raw, region)
            assert number is None or not phonenumbers.is_valid_number(number), (raw, region)
    assert skipped > 5_000  # the shortcut is taken, and so tested


@pytest.mark.parametrize("seed", range(2))
def test_the_length_check_answers_as_is_valid_number(seed: int) -> None:
    for raw in _raws(100, seed):
        for region in _REGIONS[seed::6]:
            try:
                number = phonenumbers.parse(raw, region)
            except phonenumbers.NumberParseException:
                continue
            assert phones._is_valid(number) == phonenumbers.is_valid_number(number), raw


def test_a_prefix_rule_that_adds_digits_disables_the_length_bound() -> None:
    assert phones._may_add_digits("268\\1")  # Antigua: 7 local digits read as 268 + 7
    assert not phones._may_add_digits("\\2")  # Brazil: a group of the match is kept
    assert not phones._may_add_digits(None)
    rules = phones._parse_rules("AG")
    assert rules is not None
    assert rules.shortest == 0


def test_a_national_prefix_is_read_as_parse_reads_it() -> None:
    australia, brazil = phones._parse_rules("AU"), phones._parse_rules("BR")
    assert australia is not None
    assert brazil is not None
    assert australia.readings("0412345678") == ("0412345678", "412345678")
    assert australia.readings("412345678") == ("412345678",)
    # Brazil: a carrier code after the trunk prefix is dropped with it ("0 15 11 99998888").
    assert brazil.readings("0151199998888") == ("0151199998888", "1199998888")
    number = phonenumbers.parse("0151199998888", "BR")
    assert phonenumbers.national_significant_number(number) == "1199998888"


@pytest.mark.parametrize("words", ["", "call me on", "order no", "whatsapp 电话"])
def test_no_phone_score_is_above_the_highest_score(words: str) -> None:
    regions = phones.language_regions("en", phones.DEFAULT_REGIONS)
    for raw in _raws(60, len(words)):
        for written in (raw, "+" + raw, "00" + raw, "(+" + raw.replace(" ", ") ", 1)):
            text = f"{words} {written}"
            context = read_context(text, len(words) + 1, len(text))
            highest = phones.highest_score(written, context)
            for listed, whole in ((False, True), (True, True), (False, False)):
                score = phones.phone_score(written, regions, context, listed=listed, whole=whole)
                assert score is None or score <= highest, (written, words)
