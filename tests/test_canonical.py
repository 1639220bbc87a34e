"""The canonical view detectors see, and the map from its spans back to the original text."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from redaction.planning.canonical import MAX_PASSES, CanonicalText, canonicalize

# (disguised as written, the plain value a detector must see)
DISGUISES = [
    ("john\u200b.doe@exa\u00admple.com", "john.doe@example.com"),
    ("jo\u2060hn\ufeff@ex\u200cam\u200dple.com", "john@example.com"),
    ("john\u202e@exam\ufe0fple\U000e007f.com", "john@example.com"),
    ("john\uff20example.com", "john@example.com"),
    (
        "\uff4a\uff4f\uff48\uff4e\uff20\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d",
        "john@example.com",
    ),
    ("\U0001d423\U0001d428\U0001d421\U0001d427@example.com", "john@example.com"),
    ("john%40example.com", "john@example.com"),
    ("jos%C3%A9@example.com", "jos\u00e9@example.com"),
    ("john&#64;example.com", "john@example.com"),
    ("john&#x40;example.com", "john@example.com"),
    ("john&commat;example.com", "john@example.com"),
    ("john&#0064example.com", "john@example.com"),
    ("john\\u0040example.com", "john@example.com"),
    ("john\\x40example.com", "john@example.com"),
    ("\\ud83d\\ude00 john", "\U0001f600 john"),
    ('\\"john\\" \\/ doe', '"john" / doe'),
    ("\u2460\u2461\u2462-\u2463\u2464-\u2465\u2466\u2467\u2468", "123-45-6789"),
    ("\u00b9\u00b2\u00b3-45-6789", "123-45-6789"),
    ("\u0661\u0662\u0663-\u0664\u0665-\u0666\u0667\u0668\u0669", "123-45-6789"),
    ("\u0967\u0968\u0969\u2013\u096a\u096b\u2212\u096c\u096d\u096e\u096f", "123-45-6789"),
    ("123\u201045\u20146789", "123-45-6789"),
    ("John\u00a0Smith\u2009Jr", "John Smith Jr"),
    ("\ufb01nn \ufb02ynn", "finn flynn"),
    ("john%2540example.com", "john@example.com"),
    ("john&amp;#64;example.com", "john@example.com"),
    ("john\\\\u0040example.com", "john@example.com"),
    ("john%\u200b40example.com", "john@example.com"),
    ("john&#8203;.doe&shy;@example.com", "john.doe@example.com"),
    ("john%E2%80%8B@example.com", "john@example.com"),
    ("john\uff05\uff14\uff10example.com", "john@example.com"),
]


@pytest.mark.parametrize(("disguised", "plain"), DISGUISES)
def test_planted_value_is_plain_and_maps_back_to_its_disguise(disguised: str, plain: str) -> None:
    canonical = canonicalize(f"Contact: {disguised} today")
    found = canonical.text.find(plain)
    assert canonical.text == f"Contact: {plain} today"
    start, end = canonical.to_original(found, found + len(plain))
    assert canonical.original[start:end] == disguised


def test_invisible_chars_at_the_edges_of_a_found_span_stay_outside() -> None:
    canonical = canonicalize("mail \u200bjohn@example.com\u2060 now")
    assert canonical.to_original(5, 21) == (6, 22)


def test_one_char_expanding_to_two_maps_each_to_itself() -> None:
    canonical = canonicalize("\ufb01ne")
    assert canonical.text == "fine"
    assert [canonical.to_original(i, i + 1) for i in range(4)] == [(0, 1), (0, 1), (1, 2), (2, 3)]


def test_an_escape_maps_each_decoded_char_to_the_whole_escape() -> None:
    canonical = canonicalize("a%C3%A9%41b")
    assert canonical.text == "a\u00e9Ab"
    assert [canonical.to_original(i, i + 1) for i in range(4)] == [
        (0, 1),
        (1, 7),
        (7, 10),
        (10, 11),
    ]


@pytest.mark.parametrize(
    ("written", "decoded"),
    [("\\\\", "\\"), ("\\/", "/"), ('\\"', '"')],
)
def test_json_escapes_are_decoded(written: str, decoded: str) -> None:
    assert canonicalize(f"a{written}b").text == f"a{decoded}b"


@pytest.mark.parametrize("written", ["\\n", "\\t", "\\r"])
def test_whitespace_escapes_stay_so_no_name_is_cut(written: str) -> None:
    assert canonicalize(f"C:{written}ancy").text == f"C:{written}ancy"
    assert canonicalize("C:\\\\Users\\\\nancy").text == "C:\\Users\\nancy"


@pytest.mark.parametrize(
    "kept",
    [
        "&unknown; &amp &lt",  # unknown named references; named ones need their ";"
        "100% & C:\\path\\q\\z",  # no escape at all
        "x\ufdfay",  # NFKC of U+FDFA is 18 chars: kept
    ],
)
def test_what_is_not_a_disguise_is_kept(kept: str) -> None:
    canonical = canonicalize(kept)
    assert canonical.text == kept
    assert canonical.identity


@pytest.mark.parametrize(
    ("kept", "escape"),
    [
        ("\\ud83d alone", "\\ud83d"),  # a lone surrogate escape stays as written
        ("\\ude00\\ud83d", "\\ude00"),  # a pair in the wrong order is two lone surrogates
        ("%FF and %e9", "%FF"),  # a byte >= 0x80 that starts no valid UTF-8 sequence
        ("%C0%80", "%C0"),  # overlong UTF-8
        ("C:\\path\\b\\f", "\\b"),  # JSON's control escapes stay as written
        ("\\u{110000}x", "\\u{110000}"),  # beyond Unicode
    ],
)
def test_an_escape_kept_as_written_is_masked_whole(kept: str, escape: str) -> None:
    canonical = canonicalize(kept)
    assert canonical.text == kept
    start = kept.index(escape)
    for inside in range(start, start + len(escape)):
        assert canonical.to_original(inside, inside + 1) == (start, start + len(escape))


def test_a_span_starting_inside_a_kept_escape_covers_the_escape() -> None:
    text = '{"\\udc00quokka.zeta@example.com": 1, "b": "\\nann.lee@example.com"}'
    canonical = canonicalize(text)
    assert canonical.text == text
    first, quote = text.index("udc00"), text.index('"', 3)
    assert canonical.to_original(first, quote) == (first - 1, quote)
    second = text.index("nann")
    assert canonical.to_original(second, second + 4) == (second - 1, second + 4)


def test_bytes_that_are_not_utf8_decode_only_below_0x80() -> None:
    assert canonicalize("%C3%28 %E2%82 %41").text == "%C3( %E2%82 A"


def test_numeric_references_decode_as_html_does() -> None:
    assert canonicalize("&#xD800;&#0;&#128;&#x1F600").text == "\ufffd\ufffd\u20ac\U0001f600"


def test_decoding_stops_after_max_passes() -> None:
    assert MAX_PASSES == 5
    assert canonicalize("%2525252540").text == "@"
    assert canonicalize("%252525252540").text == "%40"


def test_plain_ascii_is_the_identity() -> None:
    canonical = canonicalize("My email is alice@example.com, SSN 123-45-6789.")
    assert canonical.identity
    assert canonical.text is canonical.original
    assert canonical.to_original(12, 29) == (12, 29)


def test_text_that_needs_no_change_is_the_identity_off_the_fast_path() -> None:
    canonical = canonicalize("caf\u00e9 50% & friends \\ more")
    assert canonical.identity
    assert canonical.to_original(3, 4) == (3, 4)


def test_a_changed_text_is_not_the_identity() -> None:
    assert not canonicalize("a\u200bb").identity


def test_empty_spans_map_to_the_original_position() -> None:
    canonical = canonicalize("a%40b\u200b")
    assert canonical.text == "a@b"
    assert canonical.to_original(1, 1) == (1, 1)
    assert canonical.to_original(2, 1) == (4, 4)
    assert canonical.to_original(3, 3) == (6, 6)


def test_offsets_outside_the_text_are_clamped() -> None:
    canonical = canonicalize("a%40b")
    assert canonical.to_original(-5, 99) == (0, 5)


def test_text_of_only_invisible_chars_is_empty() -> None:
    canonical = canonicalize("\u200b\u00ad&zwj;")
    assert canonical.text == ""
    assert canonical.to_original(0, 0) == (7, 7)


def test_a_changed_text_needs_its_map() -> None:
    with pytest.raises(ValueError, match="offset map"):
        CanonicalText("a\u200bb", "ab")


BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{16}")
BRACKETED = re.compile(r"[\[({<] ?(?:at|dot) ?[\])}>]", re.IGNORECASE)


@pytest.mark.parametrize(
    ("written", "plain"),
    [
        ("\U000e006a\U000e006f\U000e0068\U000e006e@example.com", "john@example.com"),
        ("j\u0332o\u0332h\u0332n\u0332@example.com", "john@example.com"),
        ("1\u20e32\u20e33\u20e3-45-6789", "123-45-6789"),
        ("john\x00.doe\x1b@example.com", "john.doe@example.com"),
        ("quokka\u3002zeta@example\u3002com", "quokka.zeta@example.com"),
        ("mail john [at] example [dot] com now", "mail john@example.com now"),
        ("mail john (AT) example (DOT) com now", "mail john@example.com now"),
        ("mail john at example dot com now", "mail john@example.com now"),
        ("mail john @ example.com now", "mail john@example.com now"),
        ("b64 cXVva2thLnpldGFAZXhhbXBsZS5jb20= ok", "b64 quokka.zeta@example.com ok"),
        ("IBAN D\u0415\u0438 x j\u043ehn@example.com", "IBAN DE\u0438 x john@example.com"),
        ("card 4111/1111/1111/1111", "card 4111 1111 1111 1111"),
        ("DE89.3704.0044.0532.0130.00", "DE89 3704 0044 0532 0130 00"),
    ],
)
def test_what_a_model_reads_through_is_plain(written: str, plain: str) -> None:
    canonical = canonicalize(written)
    assert canonical.text == plain
    start = plain.index("@") - 4 if "@" in plain else 0
    first, last = canonical.to_original(start, len(plain))
    # The original span holds the disguised value from `start` on, and no more (a base64 run
    # decodes as a whole, so its span starts where the run does).
    value_start = plain.index("quokka") if written.startswith("b64 ") else start
    assert canonicalize(written[first:last]).text == plain[value_start:]
    assert last == len(written)


@pytest.mark.parametrize(
    "kept",
    [
        "look at this dot pattern",
        "meet at noon",
        "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "path /api/v1/users/abcdefghijkl",
        "card 4000000000000002 and 00000000000000 are numbers, not base64",
        "AKIAIOSFODNN7EXAMPLE internationalization",
        "v1.2.3 on 2024.01.15 at 10.0.0.1 in src/main/java/com",
        "\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440",
        "caf\u00e9 \u0928\u092e\u0938\u094d\u0924\u0947",
    ],
)
def test_ordinary_text_is_left_as_it_is(kept: str) -> None:
    assert canonicalize(kept).text == kept


# Fragments that form disguises, glued at random with random text.
FRAGMENTS = st.sampled_from(
    ["%", "%25", "%40", "%C3", "%A9", "&", "&amp;", "#64;", "&#x40;", "\\", "\\u0040", "u00",
     "\\ud83d", "\\ude00", "\\x", "41", "\u200b", "\u00ad", "\ufb01", "\uff20", "\u2460", "\u00a0",
     "\u0663", "\U000e0041", "\ufdfa", " ", "a", "@"]
)  # fmt: skip
TEXTS = st.one_of(
    st.text(max_size=40),
    st.lists(st.one_of(FRAGMENTS, st.text(max_size=3)), max_size=20).map("".join),
)


# Characters whose canonical form is known, to check the map char by char.
CHAR_FORMS = {
    "a": "a",
    "\u00e9": "\u00e9",
    "\u200b": "",
    "\u00ad": "",
    "\U000e0041": "A",
    "\U000e007f": "",
    "\uff20": "@",
    "\ufb01": "fi",
    "\u2460": "1",
    "\u0663": "3",
    "\u00a0": " ",
    "\u2014": "-",
    "\u33cf": "kt",
    "\ufdfa": "\ufdfa",
}


@settings(derandomize=True, database=None, max_examples=200)
@given(st.lists(st.sampled_from(sorted(CHAR_FORMS)), max_size=30))
def test_each_char_maps_back_to_the_char_that_produced_it(chars: list[str]) -> None:
    plain = "".join(CHAR_FORMS[char] for char in chars)
    assume(" @" not in plain and "@ " not in plain)  # spaces around "@" are joined
    canonical = canonicalize("".join(chars))
    expected = [(index, index + 1) for index, char in enumerate(chars) for _ in CHAR_FORMS[char]]
    assert canonical.text == "".join(CHAR_FORMS[char] for char in chars)
    assert [canonical.to_original(i, i + 1) for i in range(len(canonical.text))] == expected


@settings(derandomize=True, database=None, max_examples=200)
@given(TEXTS, st.data())
def test_spans_are_in_bounds_and_monotone(text: str, data: st.DataObject) -> None:
    canonical = canonicalize(text)
    size = len(canonical.text)
    starts = [canonical.to_original(i, i + 1)[0] for i in range(size)]
    assert starts == sorted(starts)
    start = data.draw(st.integers(0, size))
    end = data.draw(st.integers(0, size))
    first, last = canonical.to_original(start, end)
    assert 0 <= first <= last <= len(text)
    if start < end:
        assert (first, last) == (starts[start], canonical.to_original(end - 1, end)[1])
    else:
        assert first == last


@settings(derandomize=True, database=None, max_examples=200)
@given(TEXTS)
def test_the_whole_text_covers_every_original_char_but_removed_edges(text: str) -> None:
    canonical = canonicalize(text)
    if not canonical.text:
        return
    start, end = canonical.to_original(0, len(canonical.text))
    assert canonicalize(text[:start]).text == ""
    assert canonicalize(text[end:]).text == ""


@settings(derandomize=True, database=None, max_examples=200)
@given(TEXTS)
def test_a_canonical_ascii_text_is_its_own_canonical_form(text: str) -> None:
    canonical = canonicalize(text)
    # " @" made by decoding is joined only by a pass that scans around it again
    if canonical.text.isascii() and " @" not in canonical.text and "@ " not in canonical.text:
        again = canonicalize(canonical.text)
        assert again.text == canonical.text
        for index in range(len(again.text)):  # each char itself, or inside an escape kept whole
            start, end = again.to_original(index, index + 1)
            assert start <= index < end
            assert again.identity or end - start == 1 or again.text[start] in "%\\"


@settings(derandomize=True, database=None, max_examples=200)
@given(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="%&\\@")))
def test_ascii_without_escape_markers_is_the_identity(text: str) -> None:
    if BASE64_RUN.search(text) or BRACKETED.search(text) or " dot " in text.lower():
        return
    canonical = canonicalize(text)
    assert canonical.identity
    assert canonical.to_original(0, len(text)) == (0, len(text))
