"""The embedded recognizer: the API contract, offsets, validation, context and the NER seam."""

from __future__ import annotations

import importlib.util

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redaction.categories import ALL_CATEGORIES
from redaction.embedded import EmbeddedRecognizer
from redaction.embedded.candidates import find_candidates
from redaction.embedded.evaluation import parse_labeled
from redaction.embedded.folding import fold_text
from redaction.embedded.ner import NerUnavailableError, SpacyFinder
from redaction.embedded.phones import language_regions
from redaction.entities import Entity

RECOGNIZER = EmbeddedRecognizer()


def spans(text: str, language: str = "en") -> list[tuple[str, str]]:
    return [(e.category, text[e.offset : e.end]) for e in RECOGNIZER.find_entities(text, language)]


def test_reference_example() -> None:
    found = RECOGNIZER.find_entities("My email is alice@example.com and my SSN is 123-45-6789")
    assert [(e.category, e.offset, e.end) for e in found] == [
        ("Email", 12, 29),
        ("USSocialSecurityNumber", 44, 55),
    ]


def test_categories_are_azure_names() -> None:
    assert RECOGNIZER.categories <= ALL_CATEGORIES
    assert {"Email", "PhoneNumber", "CreditCardNumber", "AzureSAS"} <= RECOGNIZER.categories


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 2223 0031 2200 3222", ("CreditCardNumber", "2223 0031 2200 3222")),
        ("card 2223 0031 2200 3223", None),  # Luhn fails
        (
            "IBAN GB82WEST12345698765432.",
            ("InternationalBankingAccountNumber", "GB82WEST12345698765432"),
        ),
        (  # a wrong check sum in a country's IBAN format: still masked whole, never in part
            "IBAN GB82WEST12345698765433.",
            ("InternationalBankingAccountNumber", "GB82WEST12345698765433"),
        ),
        ("code GB82WEST1234569876 done", None),  # too short for a GB IBAN
        ("go to https://example.org/x).", ("URL", "https://example.org/x")),
        ("host fe80::1ff:fe23:4567:890a up", ("IPAddress", "fe80::1ff:fe23:4567:890a")),
        ("ip 999.1.1.1", None),
        ("Ring +33 1 42 68 53 00 today", ("PhoneNumber", "+33 1 42 68 53 00")),
        ("order 4155552671", None),  # bare digits after "order" are not a phone
        ("at 2024-03-05T10:22:01Z", None),
    ],
)
def test_validation(text: str, expected: tuple[str, str] | None) -> None:
    assert spans(text) == ([expected] if expected else [])


def test_context_raises_and_lowers_scores() -> None:
    assert spans("routing 011000015") == [("ABARoutingNumber", "011000015")]
    assert spans("number 011000015") == []
    assert spans("passport 123456789") == [("USUKPassportNumber", "123456789")]
    assert spans("Born on 1984-03-05.") == [("DateOfBirth", "1984-03-05")]
    assert spans("Due on 1984-03-05.") == [("Date", "1984-03-05")]


def test_min_score_filters() -> None:
    text = "SWIFT DEUTDEFF and plain 415 555 2671"
    strict = EmbeddedRecognizer(min_score=0.95).find_entities(text)
    loose = EmbeddedRecognizer(min_score=0.0).find_entities(text)
    assert len(strict) < len(loose)
    assert all(entity.score >= 0.95 for entity in strict)


def test_language_picks_phone_regions() -> None:
    assert language_regions("de-AT", ("US",))[:2] == ("AT", "DE")
    assert language_regions("en", ("GB",))[0] == "US"
    national_de = "Ruf an: 030 901820"
    assert spans(national_de, "de") == [("PhoneNumber", "030 901820")]
    only_us = EmbeddedRecognizer(phone_regions=("US",))
    assert only_us.find_entities("See 030 901820", "en-US") == []
    # with a cue, a phone-shaped number is masked though no region read it as valid
    (cued,) = only_us.find_entities("Call 030 901820", "en-US")
    assert (cued.category, cued.score) == ("PhoneNumber", 0.8)


def test_offsets_are_code_points_around_emoji_and_other_scripts() -> None:
    labeled = parse_labeled(
        "🙂🙂 e\u0301 ⟦Email:zoë@example.com⟧ 電話 ⟦PhoneNumber:+81 3-1234-5678⟧ "
        "⟦USSocialSecurityNumber:\uff11\uff12\uff13\u2013\uff14\uff15\u2013\uff16\uff17\uff18\uff19⟧"
    )
    found = RECOGNIZER.find_entities(labeled.text, "ja")
    assert [(e.offset, e.length, e.category) for e in found] == [
        (e.offset, e.length, e.category) for e in labeled.expected
    ]


def test_fold_text_keeps_length() -> None:
    text = "٤١١١ \u2013 \uff14\uff15\u00a0x😀"
    folded = fold_text(text)
    assert folded == "4111 - 45 x😀"
    assert len(folded) == len(text)


def test_candidates_widen_anchored_shapes() -> None:
    text = "x bob@example.org y https://a.example/b z 2001:db8::1"
    shapes = [(c.shape, text[c.start : c.end]) for c in find_candidates(text)]
    assert ("email", "bob@example.org") in shapes
    assert ("url", "https://a.example/b") in shapes
    assert ("ipv6", "2001:db8::1") in shapes


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80))
def test_entities_are_well_formed_on_any_text(text: str) -> None:
    for entity in RECOGNIZER.find_entities(text):
        assert entity.length > 0
        assert 0 <= entity.offset < entity.end <= len(text)
        assert entity.category in RECOGNIZER.categories
        assert 0.0 <= entity.score <= 1.0


class _FakeNer:
    categories = frozenset({"Person"})

    def find_entities(self, text: str) -> list[Entity]:
        start = text.find("Ada")
        return [Entity(start, 3, "Person", 0.8)] if start >= 0 else []


def test_ner_finder_plugs_into_the_same_interface() -> None:
    recognizer = EmbeddedRecognizer(ner=_FakeNer())
    assert "Person" in recognizer.categories
    found = recognizer.find_entities("Ada wrote to bob@example.org")
    assert [(e.category, e.offset) for e in found] == [("Person", 0), ("Email", 13)]


def test_missing_ner_model_says_what_to_install() -> None:
    with pytest.raises(NerUnavailableError, match="ner"):
        EmbeddedRecognizer(ner_model="no_such_model_package")


@pytest.mark.skipif(importlib.util.find_spec("spacy") is None, reason="spaCy (the ner extra)")
def test_spacy_pipeline_maps_labels_and_offsets() -> None:
    import spacy

    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(
        [{"label": "PERSON", "pattern": "Zoë Müller"}, {"label": "ORG", "pattern": "Contoso"}]
    )
    text = "😀 Zoë Müller works at Contoso."
    found = SpacyFinder(nlp).find_entities(text)
    assert [(e.category, text[e.offset : e.end]) for e in found] == [
        ("Person", "Zoë Müller"),
        ("Organization", "Contoso"),
    ]
