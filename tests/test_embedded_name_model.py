"""The person-name tagger (redaction/embedded/name_model.py): shipped in the package, read from it
without a download, the same answer every time, and no name found inside an address, an e-mail
address or a URL."""

from __future__ import annotations

import pytest

from redaction.embedded import EmbeddedRecognizer
from redaction.embedded.name_model import MODEL_PATH, NameModel, sentences, tokenize
from redaction.embedded.names import NameFinder, load_gazetteer

RECOGNIZER = EmbeddedRecognizer(names=True, addresses=True)


def persons(finder: NameFinder, text: str) -> list[str]:
    return [text[e.offset : e.end] for e in finder.find_entities(text)]


def test_the_model_file_is_in_the_package_and_small() -> None:
    assert MODEL_PATH.parent.name == "embedded"
    assert MODEL_PATH.parent.parent.name == "redaction"
    assert 0 < MODEL_PATH.stat().st_size < 3_000_000


def test_the_shipped_tagger_gives_the_same_answer_twice() -> None:
    model = NameModel()
    # A name known to no list and with no cue: only the tagger can take it.
    words = ["Yesterday", "Okonkwo", "Adebayo", "met", "the", "board", "."]
    items = [["bias", f"w={w.lower()}", "cap" if w[:1].isupper() else "low"] for w in words]
    first = model.tag(items)
    assert model.tag(items) == first


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yesterday Kwame Mensah met Olga Petrova in Leeds.", ["Kwame Mensah", "Olga Petrova"]),
        ("According to Siddharth Raghunathan, the deal is off.", ["Siddharth Raghunathan"]),
        ("The meeting with Dr. Okonkwo moved to Tuesday.", ["Okonkwo"]),
        ("The Quarterly Business Review covers Sales and Marketing.", []),
        ("the invoice is attached, please pay by friday.", []),
    ],
)
def test_fixed_sentences_give_the_same_names_every_time(text: str, expected: list[str]) -> None:
    finder = NameFinder()
    assert persons(finder, text) == expected
    assert persons(NameFinder(), text) == expected


def test_the_rules_alone_remain_available() -> None:
    rules = NameFinder(model=None)
    assert persons(rules, "My name is John Smith") == ["John Smith"]


@pytest.mark.parametrize(
    "text",
    [
        "Write to kevin.boone@example.com or call Kevin Boone.",
        "Contact Maria.Garcia@contoso.com today, Maria Garcia said.",
        "See https://example.com/people/John-Smith for John Smith's page.",
        "Ship it to 221 Baker Street, London NW1 6XE for Martha Hudson.",
        "Her office is at 1600 Washington Avenue, Albany, NY 12222.",
    ],
)
def test_a_name_inside_an_address_or_an_email_is_not_masked_twice(text: str) -> None:
    found = RECOGNIZER.find_entities(text)
    others = [e for e in found if e.category != "Person"]
    names = [e for e in found if e.category == "Person"]
    assert others
    for name in names:
        assert not any(o.offset < name.end and name.offset < o.end for o in others), text[
            name.offset : name.end
        ]


def test_references_are_one_placeholder_token() -> None:
    words = [t.text for t in tokenize("Mail kevin.a.boone@example.com or @kev at www.example.com")]
    assert words == ["Mail", "<ref>", "or", "<ref>", "at", "<ref>"]


def test_sentences_do_not_break_after_a_title_or_an_initial() -> None:
    text = "I met Dr. Smith today. Then J. Doe left.\nBye"
    assert [text[a:b] for a, b in sentences(text)] == [
        "I met Dr. Smith today.",
        "Then J. Doe left.",
        "Bye",
    ]


def test_a_long_word_without_an_at_sign_is_tokenized_in_linear_time() -> None:
    # A reference pattern that retried at every position would take minutes here.
    assert len(tokenize("a" * 200_000)) == 1


def test_text_without_capitalised_words_past_the_start_is_not_tagged() -> None:
    from redaction.embedded.name_model import worth_tagging

    lists = load_gazetteer()
    assert not worth_tagging(["the", "invoice", "is", "attached", "."], lists)
    assert not worth_tagging(["The", "invoice", "is", "attached", "."], lists)
    assert worth_tagging(["ask", "Priya", "about", "it"], lists)
    assert worth_tagging(["Priya", "asked", "."], lists)
    assert not worth_tagging(["max", "and", "jen", "said", "so"], lists)
