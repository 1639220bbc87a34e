"""Person names in the embedded detector (PII_EMBEDDED_NAMES): exact spans, cues, and sentences
full of capitalised words that hold no name."""

from __future__ import annotations

import pytest

from redaction.embedded import EmbeddedRecognizer
from redaction.embedded.names import NameFinder
from redaction.settings import load_settings

NAMES = EmbeddedRecognizer(names=True)
PLAIN = EmbeddedRecognizer()


def persons(text: str, language: str = "en") -> list[str]:
    return [
        text[e.offset : e.offset + e.length]
        for e in NAMES.find_entities(text, language)
        if e.category == "Person"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My name is John Smith", ["John Smith"]),
        ("my name is Kwabena, nice to meet you", ["Kwabena"]),
        ("Please forward this to Priya Patel and Wei Zhang.", ["Priya Patel", "Wei Zhang"]),
        ("Dr. Okonkwo will see you at noon.", ["Okonkwo"]),
        ("I spoke with Mrs Haddad yesterday.", ["Haddad"]),
        ("Hi Siobhan, the report is attached.", ["Siobhan"]),
        ("Thanks,\nMateusz", ["Mateusz"]),
        ("Best,\nAnna", ["Anna"]),
        ("From: Maria Garcia\nTo: Ahmed Hassan", ["Maria Garcia", "Ahmed Hassan"]),
        ("Michael J. McDermott called twice.", ["Michael J. McDermott"]),
        # Initials before a name belong to it.
        ("I met J. R. R. Tolkien.", ["J. R. R. Tolkien"]),
        ("Ask R.E. Glenn about it.", ["R.E. Glenn"]),
        ("Signed, T.S. Eliot", ["T.S. Eliot"]),
        ("Obama said the talks would resume.", ["Obama"]),
        ("Ask Fatima about the invoice.", ["Fatima"]),
        ("We met Jan van der Berg's lawyer.", ["Jan van der Berg"]),
        # A known given name and a surname in no list.
        ("I spoke to Bruce Garcey at the plant.", ["Bruce Garcey"]),
        # A role right before the name.
        ("Associate Team 1: Coach: Ben Markey", ["Ben Markey"]),
        ("Party spokesman Tariq Haddad said so.", ["Tariq Haddad"]),
        # E-mail headers: a display name before an address, a Notes address.
        ('"Lenhart, Matthew" <m@example.com>', ["Lenhart, Matthew"]),
        ('"Les Spahnn" <spahnn@example.com>', ["Les Spahnn"]),
        ("Traci Warner@ENRON COMMUNICATIONS on 08/16/2000", ["Traci Warner@ENRON"]),
        ("Rudwell Johnson/ENRON@enronXgate", ["Rudwell Johnson"]),
    ],
)
def test_names_are_found_with_exact_spans(text: str, expected: list[str]) -> None:
    assert persons(text) == expected


# Limits of the rules alone that the tagger lifts (it gives these a low probability, and a rules'
# name without a title, cue or header is then dropped): a given name that is also a word inside an
# organisation's or a product's name, and a place made of two words that are not in the lists.
@pytest.mark.parametrize(
    "text",
    [
        "The United States Department of Housing and Urban Development filed the complaint.",
        "Microsoft Azure Functions runs on Windows Server and Linux Containers.",
        "Then drive on to Palo Alto.",
    ],
)
def test_the_tagger_drops_the_rules_false_positives(text: str) -> None:
    assert persons(text) == []
    assert NameFinder(model=None).find_entities(text)


def test_a_word_of_a_full_name_is_a_name_elsewhere_in_the_text() -> None:
    text = "Priya Raghunathan chaired the panel.\nRaghunathan thanked the team."
    assert persons(text) == ["Priya Raghunathan", "Raghunathan"]
    alone = NameFinder(repeat=False).find_entities(text)
    assert [text[e.offset : e.end] for e in alone] == ["Priya Raghunathan"]


def test_a_hyphenated_particle_is_inside_the_name() -> None:
    # The rules' run ends at "al-" (a limit of theirs); the tagger reads "al-Sadr" as one word.
    assert persons("Radical cleric Muqtada al-Sadr said so.") == ["Muqtada al-Sadr"]


def test_offsets_are_code_points_and_the_category_is_azures() -> None:
    text = "😀 Dear Anna Kowalski,"
    [entity] = NAMES.find_entities(text)
    assert (entity.offset, entity.length, entity.category) == (7, 13, "Person")
    assert entity.score >= 0.5


@pytest.mark.parametrize(
    "text",
    [
        "Meet me at San Francisco International Airport on Monday.",
        "Our Quarterly Business Review covers Sales, Marketing and Customer Success.",
        "Click Save As, choose PDF Format and press Export Now.",
        "The New York Stock Exchange and the London Metal Exchange closed early.",
        "In January the Annual General Meeting moved to the Grand Hotel in Sydney.",
        "I lived in Houston, Dallas and Austin before moving to Victoria.",
        "Read Chapter Seven, Section Two of the Employee Handbook.",
        "HTTP GET requests to the API Gateway return JSON.",
        "The games take place on Fri, Sat, or Sun.",
        "Mercury and Venus are conjunct this month.",
        # Shops, venues, storms and saints' places (names inside or before a venue word).
        "Best Tacos and Burritos in Town!",
        "Calls now go to Malcolm Smith Motorsports down the road.",
        "We had lunch at Ray's Pizza and then at Hayes Street Grill.",
        "Trains to Paris leave from London St Pancras every hour.",
        "Hurricane Rita threatened the Gulf Coast on Tuesday.",
    ],
)
def test_sentences_full_of_capitalised_words_hold_no_name(text: str) -> None:
    assert persons(text) == []


def test_names_only_when_asked_and_only_in_english() -> None:
    text = "My name is John Smith"
    assert "Person" not in PLAIN.categories
    assert [e for e in PLAIN.find_entities(text) if e.category == "Person"] == []
    assert "Person" in NAMES.categories
    assert persons(text, "de") == []
    assert persons(text, "en-GB") == ["John Smith"]


def test_the_setting_is_off_by_default_and_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PII_EMBEDDED_NAMES", raising=False)
    assert load_settings().pii_embedded_names is False
    monkeypatch.setenv("PII_EMBEDDED_NAMES", "true")
    assert load_settings().pii_embedded_names is True
