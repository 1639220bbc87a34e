"""Seams: a value split across chunks, parts or messages is whole in a seam document (pure)."""

from __future__ import annotations

from redaction.documents import SEAM_WINDOW, Chunk, seam_chunks, split_chunks
from redaction.entities import Entity


def _seams(texts: list[str], flows: list[int | None], max_chars: int = 5000) -> list[Chunk]:
    return seam_chunks(texts, split_chunks(texts, max_chars), flows)


def test_texts_of_one_flow_are_joined_as_the_model_reads_them() -> None:
    texts = ["my card is 4111 1111", " 1111 1111 thanks"]
    [seam] = _seams(texts, [0, 0])
    assert seam.text == "my card is 4111 1111 1111 1111 thanks"
    start = seam.text.index("4111")
    placed = list(seam.place([Entity(start, 19, "CreditCardNumber", 1.0)]))
    assert placed == [
        (0, Entity(11, 9, "CreditCardNumber", 1.0)),
        (1, Entity(0, 10, "CreditCardNumber", 1.0)),
    ]


def test_texts_without_a_shared_flow_get_no_seam() -> None:
    assert _seams(["john.smith", "@example.com"], [None, None]) == []
    assert _seams(["john.smith", "@example.com"], [0, 1]) == []
    assert [s.text for s in _seams(["john.smith", "@example.com"], [0, 0])] == [
        "john.smith@example.com"
    ]


def test_a_sentence_end_or_a_new_sentence_is_a_line_break() -> None:
    [seam] = _seams(["Mail alice@example.com.", "Thanks"], [0, 0])
    assert seam.text == "Mail alice@example.com.\nThanks"
    [seam] = _seams(["Mail alice@example.com", "Thanks"], [0, 0])
    assert seam.text == "Mail alice@example.com\nThanks"
    placed = list(seam.place([Entity(len(seam.text) - 6, 6, "X", 1.0)]))
    assert placed == [(1, Entity(0, 6, "X", 1.0))]


def test_every_chunk_cut_of_a_long_text_has_a_seam() -> None:
    text = "word " * 18 + "4111 1111 1111 1111 " + "word " * 30  # a cut falls inside the card
    chunks = split_chunks([text], 100)
    cuts = [c.start for c in chunks if c.start > 0]
    seams = seam_chunks([text], chunks, [None])
    assert len(seams) == len(cuts)
    for cut, seam in zip(cuts, seams, strict=True):
        assert seam.text == text[cut - SEAM_WINDOW : cut + SEAM_WINDOW]
    assert not any("4111 1111 1111 1111" in chunk.text for chunk in chunks)
    assert any("4111 1111 1111 1111" in seam.text for seam in seams)


def test_a_window_spans_several_short_texts_and_is_not_repeated() -> None:
    texts = ["4111", " 1111", " 1111", " 1111"]
    seams = _seams(texts, [0, 0, 0, 0])
    assert [s.text for s in seams] == ["4111 1111 1111 1111"]
    assert [p.text_index for p in seams[0].pieces] == [0, 1, 2, 3]


def test_whitespace_only_seams_are_left_out() -> None:
    assert _seams([" ", "\n"], [0, 0]) == []
