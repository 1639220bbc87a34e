"""Seams: a value split across chunks, parts or messages is whole in a seam document (pure)."""

from __future__ import annotations

from redaction.entities import Entity
from redaction.planning.documents import (
    SEAM_REACH,
    SEAM_WINDOW,
    Chunk,
    seam_chunks,
    split_chunks,
)


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


def test_no_seam_where_a_sentence_ends_or_starts() -> None:
    assert _seams(["Mail alice@example.com.", "Thanks"], [0, 0]) == []
    assert _seams(["Mail alice@example.com", "Thanks"], [0, 0]) == []
    assert _seams(["Done. ", "4111 1111 1111 1111"], [0, 0]) == []


def test_a_capital_after_a_digit_or_a_lower_case_letter_is_glued() -> None:
    [iban] = _seams(["my IBAN is NL91", "ABNA0417164300 thanks"], [0, 0])
    assert iban.text == "my IBAN is NL91ABNA0417164300 thanks"
    [address] = _seams(["mail jane.doe@e", "XAMPLE.COM now"], [0, 0])
    assert address.text == "mail jane.doe@eXAMPLE.COM now"
    assert _seams(["see https://example.com/a1", "Mijn BSN"], [0, 0]) == []
    assert _seams(["call 425 555 0100", "Hi, thanks"], [0, 0]) == []


def test_a_capital_that_starts_an_address_is_glued() -> None:
    [seam] = _seams(["mail john", "Doe@example.com please"], [0, 0])
    assert seam.text == "mail johnDoe@example.com please"


def test_a_seam_keeps_its_sentence_and_no_more() -> None:
    [seam] = _seams(["Hello there. My SSN is 536-22", "-8915. Bye now."], [0, 0])
    assert seam.text == "My SSN is 536-22-8915"


def test_every_chunk_cut_of_a_long_text_has_a_seam() -> None:
    text = "word " * 18 + "4111 1111 1111 1111 " + "word " * 30  # a cut falls inside the card
    chunks = split_chunks([text], 100)
    cuts = [c.start for c in chunks if c.start > 0]
    seams = seam_chunks([text], chunks, [None])
    assert len(seams) == len(cuts)
    for cut, seam in zip(cuts, seams, strict=True):
        assert seam.text == _whole_words(text, cut - SEAM_WINDOW, cut + SEAM_WINDOW)
    assert not any("4111 1111 1111 1111" in chunk.text for chunk in chunks)
    assert any("4111 1111 1111 1111" in seam.text for seam in seams)


def _whole_words(text: str, low: int, high: int) -> str:
    """``text[low:high]`` widened to the whole runs of non-whitespace at its edges."""
    while low > 0 and not text[low - 1].isspace():
        low -= 1
    while high < len(text) and not text[high].isspace():
        high += 1
    return text[low:high]


def test_a_long_address_across_a_cut_is_whole_in_its_seam() -> None:
    """An e-mail address of up to 254 characters, cut anywhere, with no whitespace near the cut
    (the seam's window edge falls inside the address or the run around it)."""
    address = "jane.doe@" + "a1." * 78 + "example.com"  # 254 characters
    fill = "lorem,ipsum," * 600
    for offset in (-250, -200, -145, -85, -10, -1):
        text = fill[: 5000 + offset - 1] + "," + address + "," + fill[:200]
        chunks = split_chunks([text], 5000)
        assert not any(address in chunk.text for chunk in chunks)
        assert any(address in seam.text for seam in seam_chunks([text], chunks, [None]))


def test_a_run_longer_than_the_reach_is_cut_at_the_reach() -> None:
    text = "x" * 12_000
    chunks = split_chunks([text], 5000)
    seams = seam_chunks([text], chunks, [None])
    assert [len(seam.text) for seam in seams] == [2 * SEAM_REACH, 2 * SEAM_REACH]


def test_a_window_spans_several_short_texts_and_is_not_repeated() -> None:
    texts = ["4111", " 1111", " 1111", " 1111"]
    seams = _seams(texts, [0, 0, 0, 0])
    assert [s.text for s in seams] == ["4111 1111 1111 1111"]
    assert [p.text_index for p in seams[0].pieces] == [0, 1, 2, 3]


def test_whitespace_only_seams_are_left_out() -> None:
    assert _seams([" ", "\n"], [0, 0]) == []
