"""US and UK street addresses in the embedded detector (PII_EMBEDDED_ADDRESSES): exact spans,
postal codes checked by their libraries, and sentences with numbers and capitalised words that
hold no address."""

from __future__ import annotations

import sys

import pytest

from redaction.embedded import EmbeddedRecognizer
from redaction.settings import SettingsError, load_settings

ADDRESSES = EmbeddedRecognizer(addresses=True)


def addresses(text: str, language: str = "en") -> list[str]:
    return [
        text[e.offset : e.end]
        for e in ADDRESSES.find_entities(text, language)
        if e.category == "Address"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Ship it to 123 Main St Apt 4, Springfield, IL 62704 please.",
            ["123 Main St Apt 4, Springfield, IL 62704"],
        ),
        (
            "The White House is at 1600 Pennsylvania Avenue NW, Washington, DC 20500.",
            ["1600 Pennsylvania Avenue NW, Washington, DC 20500"],
        ),
        ("Send it to 221B Baker Street.", ["221B Baker Street"]),
        (
            "Write to 10 Downing Street, London SW1A 2AA today",
            ["10 Downing Street, London SW1A 2AA"],
        ),
        (
            "Flat 3 is at 185-187 OXFORD STREET, WESTMINSTER, W1D 2JU",
            ["185-187 OXFORD STREET, WESTMINSTER, W1D 2JU"],
        ),
        (
            "Marlborough Rd, St. James's, London SW1A 1BQ",
            ["Marlborough Rd, St. James's, London SW1A 1BQ"],
        ),
        ("We moved to 586 W. 207 St. New York, NY 10034", ["586 W. 207 St. New York, NY 10034"]),
        (
            "Our office: 4090 Westown Pkwy Ste B2\nChicago, IL 60614",
            ["4090 Westown Pkwy Ste B2\nChicago, IL 60614"],
        ),
    ],
)
def test_addresses_are_found_with_exact_spans(text: str, expected: list[str]) -> None:
    assert addresses(text) == expected


def test_a_zip_code_that_does_not_exist_is_left_out_of_the_span() -> None:
    # 99999 is no ZIP code (zipcodes); 62704 is Springfield, Illinois, not Texas.
    assert addresses("123 Main St, Springfield, IL 99999") == ["123 Main St, Springfield, IL"]
    assert addresses("123 Main St, Springfield, TX 62704") == ["123 Main St, Springfield, TX"]


def test_a_uk_postcode_needs_an_area_that_exists() -> None:
    # QQ is no UK postcode area: without a number, the street alone is not an address.
    assert addresses("Marlborough Rd, London QQ1 1BQ") == []
    assert addresses("88 White parkway, Stanleyton, L2 3DB") == [
        "88 White parkway, Stanleyton, L2 3DB"
    ]
    # A lower-case street type needs the postal code.
    assert addresses("88 White parkway, Stanleyton") == []


@pytest.mark.parametrize(
    "text",
    [
        "In 2019 Central Park hosted the concert.",
        "44 sq. ft. 000 Columbia Ave. See Remarks",
        "3 STRUCTURE WITH PE",
        "Order 12345 ships with 2 boxes of Main Street Pizza coupons.",
        "We walked 5 miles along the river and saw 3 Herons.",
        "The 2020 Olympic Games opened on 23 July 2021 in Tokyo.",
    ],
)
def test_numbers_and_capitalised_words_that_are_no_address(text: str) -> None:
    assert addresses(text) == []


def test_offsets_are_code_points_the_score_and_category_azures() -> None:
    text = "😀 Meet at 42 Wallaby Way, Sydney? No: 742 Evergreen Terrace."
    found = [e for e in ADDRESSES.find_entities(text) if e.category == "Address"]
    assert [text[e.offset : e.end] for e in found] == ["42 Wallaby Way", "742 Evergreen Terrace"]
    assert found[0].offset == 10  # one code point for the emoji
    assert all(e.score >= 0.5 for e in found)


def test_addresses_only_when_asked_and_only_in_english() -> None:
    text = "Ship it to 123 Main St Apt 4, Springfield, IL 62704"
    plain = EmbeddedRecognizer()
    assert "Address" not in plain.categories
    assert [e for e in plain.find_entities(text) if e.category == "Address"] == []
    assert "Address" in ADDRESSES.categories
    assert addresses(text, "fr") == []
    assert addresses(text, "en-US") == ["123 Main St Apt 4, Springfield, IL 62704"]


def test_the_setting_is_off_by_default_and_needs_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PII_EMBEDDED_ADDRESSES", raising=False)
    assert load_settings().pii_embedded_addresses is False
    monkeypatch.setenv("PII_EMBEDDED_ADDRESSES", "true")
    assert load_settings().pii_embedded_addresses is True
    monkeypatch.setitem(sys.modules, "zipcodes", None)  # as if not installed: import fails
    with pytest.raises(SettingsError, match=r"PII_EMBEDDED_ADDRESSES: needs the address lists"):
        load_settings()
