"""Placeholder assignment: same value same placeholder, different values never one, and restoring
is the exact inverse of pseudonymizing when no model touched the text."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from redaction.entities import Entity
from redaction.placeholders.pseudonyms import (
    PlaceholderIssuer,
    PseudonymScope,
    TokenBinding,
    body_strings,
    conversation_key,
    normalize,
    parse_placeholder,
    placeholder_spans,
    pseudonymize,
)
from redaction.placeholders.restore import Placeholders, restore_body, restore_text
from redaction.placeholders.sealing import Sealer
from redaction.planning.body import find_texts, replace_texts

SECRET = b"s" * 32
SCOPE = PseudonymScope(SECRET, "tenant-a", "conversation-1")


def entities_of(text: str, values: dict[str, str]) -> list[Entity]:
    """Every occurrence of each value in ``text`` as an entity of its category."""
    found = []
    for value, category in values.items():
        start = text.find(value)
        while start >= 0:
            found.append(Entity(start, len(value), category, 0.9))
            start = text.find(value, start + len(value))
    return found


def run(texts: list[str], values: dict[str, str], scope: PseudonymScope = SCOPE) -> Any:
    return pseudonymize(texts, [entities_of(text, values) for text in texts], scope)


def test_same_value_same_placeholder_across_texts() -> None:
    values = {"alice@example.com": "Email", "bob@example.com": "Email"}
    result = run(["mail alice@example.com", "cc bob@example.com, alice@example.com"], values)
    first, second = result.texts
    alice = first.removeprefix("mail ")
    assert parse_placeholder(alice) is not None
    assert alice.startswith("<Email_")
    assert second.endswith(alice)
    assert len(result.mapping) == 2
    assert set(result.mapping.values()) == set(values)


def test_normalized_spellings_share_a_placeholder_and_restore_the_first_spelling() -> None:
    values = {"Alice@Example.com": "Email", "alice@example.com": "Email"}
    result = run(["Alice@Example.com", "alice@example.com"], values)
    assert result.texts[0] == result.texts[1]
    assert list(result.mapping.values()) == ["Alice@Example.com"]
    assert normalize("PhoneNumber", "+1 (555) 010-0100") == normalize("PhoneNumber", "+15550100100")
    assert normalize("Person", "Ann  Lee") == normalize("Person", "ann lee")
    assert normalize("Person", "Ann-Lee") != normalize("Person", "AnnLee")


def test_numbers_are_stable_across_turns_and_keyed_by_tenant_and_conversation() -> None:
    values = {"alice@example.com": "Email", "bob@example.com": "Email"}
    turn_one = run(["alice@example.com"], values)
    turn_two = run(["bob@example.com then alice@example.com"], values)
    assert turn_two.texts[0].endswith(turn_one.texts[0])
    other_tenant = run(["alice@example.com"], values, PseudonymScope(SECRET, "tenant-b", "c"))
    other_chat = run(["alice@example.com"], values, PseudonymScope(SECRET, "tenant-a", "c2"))
    assert turn_one.texts != other_tenant.texts
    assert turn_one.texts != other_chat.texts


@dataclass(frozen=True)
class CollidingScope(PseudonymScope):
    """Every value hashes to the same number on its first probe."""

    def number(self, label: str, value: str, probe: int) -> int:
        return 100_000 + probe


def test_colliding_values_never_share_a_placeholder_and_the_first_seen_keeps_its_number() -> None:
    scope = CollidingScope(SECRET, "t", "c")
    values = {f"user{i}@example.com": "Email" for i in range(5)}
    result = run([" ".join(values)], values, scope)
    assert len(set(result.mapping)) == 5
    assert result.mapping["<Email_100000>"] == "user0@example.com"
    later = run([" ".join(values) + " new@example.com"], {**values, "new@example.com": "Email"})
    assert len(later.mapping) == 6


def test_placeholder_like_text_in_the_request_is_never_assigned() -> None:
    scope = CollidingScope(SECRET, "t", "c")
    texts = ["see <email_100000> and Email 100001 for alice@example.com"]
    result = pseudonymize(texts, [entities_of(texts[0], {"alice@example.com": "Email"})], scope)
    assert list(result.mapping) == ["<Email_100002>"]
    assert restore_text(result.texts[0], Placeholders(result.mapping))[0] == texts[0]


def test_placeholders_in_unscanned_strings_are_reserved_too() -> None:
    scope = CollidingScope(SECRET, "t", "c")
    result = pseudonymize(
        ["alice@example.com"],
        [[Entity(0, 17, "Email", 0.9)]],
        scope,
        context=["system prompt mentions <Email_100000>"],
    )
    assert list(result.mapping) == ["<Email_100001>"]


def test_a_placeholder_that_would_join_the_text_before_it_is_renumbered() -> None:
    scope = CollidingScope(SECRET, "t", "c")
    # "Email_10000" + "0" in the source reserves nothing usable; after replacing the phone
    # number the text would read "Email_100000<...>", which restoring would take for a placeholder.
    text = "Email_1000005550100 alice@example.com"
    entities = [Entity(12, 7, "PhoneNumber", 0.9), Entity(20, 17, "Email", 0.9)]
    result = pseudonymize([text], [entities], scope)
    assert "<Email_100000>" not in result.mapping
    assert restore_text(result.texts[0], Placeholders(result.mapping))[0] == text


def test_overlapping_entities_become_one_placeholder_named_for_the_longest() -> None:
    text = "call +1 555 0100 now"
    spans = placeholder_spans(
        text, [Entity(5, 11, "PhoneNumber", 0.8), Entity(8, 3, "Organization", 0.99)]
    )
    assert spans == [(5, 16, "PhoneNumber")]


def test_conversation_key_comes_from_the_id_or_the_first_user_message() -> None:
    turn_one = {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"}]}
    turn_two = {"messages": [*turn_one["messages"], {"role": "user", "content": "more"}]}
    assert conversation_key(SECRET, turn_one, None) == conversation_key(SECRET, turn_two, None)
    assert "hi" not in conversation_key(SECRET, turn_one, None)
    assert conversation_key(SECRET, turn_one, "conv-7") == "id:conv-7"
    assert conversation_key(SECRET, {"input": "hi"}, None) == conversation_key(
        SECRET, turn_one, None
    )


def test_issuer_seals_the_mapping_for_the_tenant_and_request() -> None:
    sealer = Sealer(b"k" * 32)
    issuer = PlaceholderIssuer(SECRET, sealer)
    body = {"messages": [{"role": "user", "content": "mail alice@example.com"}]}
    texts = ["mail alice@example.com"]
    binding = TokenBinding("tenant", "req-1", None)
    masked, token = issuer.issue(body, texts, [[Entity(5, 17, "Email", 0.9)]], binding)
    assert token is not None
    assert "alice" not in token
    mapping = sealer.open(token, "tenant", "req-1")
    assert restore_text(masked[0], Placeholders(mapping))[0] == texts[0]
    assert issuer.issue(body, texts, [[]], binding) == (texts, None)


# --- the model-free round trip, as a property ---------------------------------------------------

CATEGORIES = ["Person", "Email", "PhoneNumber", "PersonType", "URL"]
# Text around values: letters, digits, brackets, separators and placeholder-like fragments.
FILLER = st.text(
    alphabet=st.sampled_from(list("ab PersonEmail_<>[]-0123456789 \n\"'{}é😀")), max_size=12
)
VALUE = st.text(alphabet=st.sampled_from(list('abcXY 019-_<>"\\\n')), min_size=1, max_size=8)


@st.composite
def texts_with_entities(draw: st.DrawFn) -> tuple[list[str], list[list[Entity]]]:
    """Texts built from filler and values; each distinct value keeps one spelling and category."""
    pool = draw(st.lists(st.tuples(VALUE, st.sampled_from(CATEGORIES)), min_size=1, max_size=6))
    spelled: dict[str, tuple[str, str]] = {}
    for value, category in pool:
        spelled.setdefault(normalize(category, value), (value, category))
    choices = list(spelled.values())
    texts, entities = [], []
    for _ in range(draw(st.integers(1, 4))):
        text, found = draw(FILLER), []
        for _ in range(draw(st.integers(0, 4))):
            value, category = draw(st.sampled_from(choices))
            found.append(Entity(len(text), len(value), category, 0.9))
            text += value + draw(FILLER)
        texts.append(text)
        entities.append(found)
    return texts, entities


@settings(max_examples=300, deadline=None)
@given(texts_with_entities())
def test_restore_is_the_exact_inverse_of_pseudonymize(
    case: tuple[list[str], list[list[Entity]]],
) -> None:
    texts, entities = case
    result = pseudonymize(texts, entities, SCOPE)
    placeholders = Placeholders(result.mapping)
    assert [restore_text(text, placeholders)[0] for text in result.texts] == texts
    identities = {
        (e.category, normalize(e.category, text[e.offset : e.end]))
        for text, found in zip(texts, entities, strict=True)
        for e in found
    }
    assert len(result.mapping) == len(identities)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from(["alice@example.com", "bob@example.com", "+1 555 0100"]), max_size=4),
    st.text(alphabet=st.sampled_from(list('ab <>_{}"')), max_size=10),
)
def test_round_trip_through_a_chat_body_with_tool_arguments(values: list[str], filler: str) -> None:
    arguments = json.dumps({"to": values, "note": filler + " ".join(values)})
    body = {
        "model": "m",
        "messages": [
            {"role": "system", "content": filler},
            {"role": "user", "content": [{"type": "text", "text": filler + " ".join(values)}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "c", "function": {"name": "send", "arguments": arguments}}],
            },
        ],
    }
    fields = find_texts(body, ["user", "assistant", "tool"])
    known = {"alice@example.com": "Email", "bob@example.com": "Email", "+1 555 0100": "PhoneNumber"}
    entities = [entities_of(field.text, known) for field in fields]
    result = pseudonymize([f.text for f in fields], entities, SCOPE, body_strings(body))
    redacted = replace_texts(body, fields, result.texts)
    for value in values:
        assert value not in json.dumps(redacted)
    call = redacted["messages"][2]["tool_calls"][0]["function"]
    json.loads(call["arguments"])
    restored, _ = restore_body(redacted, Placeholders(result.mapping))
    restored_call = restored["messages"][2]["tool_calls"][0]["function"]
    assert json.loads(restored_call.pop("arguments")) == json.loads(arguments)
    original_call = body["messages"][2]["tool_calls"][0]["function"]  # type: ignore[index]
    assert restored_call == {k: v for k, v in original_call.items() if k != "arguments"}
    restored["messages"][2]["tool_calls"][0]["function"]["arguments"] = arguments
    assert restored == body
