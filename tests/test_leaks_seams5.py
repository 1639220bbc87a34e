"""Leak corpus, round 5, seams and the canonical view (an outside tester's findings, over real
HTTP on both detectors: the served app on the embedded detector, and the Azure path through the
emulator).

- ``seam``: a value split over two content parts or two messages where the second piece starts
  with a capital after a digit or a lower-case letter (``NL91`` + ``ABNA0417164300``) got no
  seam: the join was taken for a sentence start.
- ``blanks``: digit groups split by two spaces, ``\\r`` or a table's ``|`` inside a sentence.
- ``defanged``: ``jane.doe[@]example[.]com``.
- ``names``: with person names on, ``Jennifer\\u200bMartinez`` was one unknown word.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.test_leaks import chat, is_ok, part, user
from tests.test_leaks_round3 import Case, assert_masked_in_an_ok_answer


def parts(*texts: str) -> dict[str, Any]:
    return chat(user([part(text) for text in texts]))


def messages(*texts: str) -> dict[str, Any]:
    return chat(*(user(text) for text in texts))


SEAMS = [
    ("NL91", "ABNA0417164300 thanks", "0417164300"),
    ("GB82", "WEST12345698765432 thanks", "12345698765432"),
]
CASES = [
    *(
        Case(f"seam/parts-{left}", parts(f"my IBAN is {left}", right), (fragment,))
        for left, right, fragment in SEAMS
    ),
    *(
        Case(f"seam/messages-{left}", messages(f"my IBAN is {left}", right), (fragment,))
        for left, right, fragment in SEAMS
    ),
    Case(
        "seam/address-lower-then-capital", parts("mail jane.doe@e", "XAMPLE.COM now"), ("jane.doe",)
    ),
    Case(
        "blanks/card-two-spaces",
        chat(user("my card is 4111  1111  1111  1111 thanks")),
        ("1111  1111",),
    ),
    Case("blanks/card-end", chat(user("card 4111  1111  1111  1111")), ("1111  1111",)),
    Case("blanks/ssn", chat(user("ssn 536  22  8915 thanks")), ("8915",)),
    Case("blanks/phone", chat(user("phone +1  425  555  0100")), ("0100",)),
    Case("blanks/carriage-return", chat(user("card 4111\r1111\r1111\r1111")), ("1111\r1111",)),
    Case("blanks/crlf", chat(user("card 4111\r\n1111\r\n1111\r\n1111")), ("1111\r\n1111",)),
    Case("blanks/table-row", chat(user("| card | 4111 | 1111 | 1111 | 1111 |")), ("1111 | 1111",)),
    Case("defanged/both", chat(user("mail jane.doe[@]example[.]com")), ("jane.doe",)),
    Case("defanged/dot", chat(user("mail jane.doe@example[.]com")), ("jane.doe",)),
    Case("defanged/parentheses", chat(user("mail jane.doe(@)example(.)com")), ("jane.doe",)),
]


@pytest.mark.server
@pytest.mark.parametrize("leak", CASES, ids=[c.id for c in CASES])
async def test_no_fragment_readable_in_an_ok_answer(
    service: tuple[str, TestClient[Any, Any]], leak: Case, caplog: pytest.LogCaptureFixture
) -> None:
    await assert_masked_in_an_ok_answer(service, leak, caplog)


@pytest.mark.server
async def test_an_address_ending_a_message_does_not_run_on(
    service: tuple[str, TestClient[Any, Any]],
) -> None:
    """A whole address, then a capitalised word in the next message: the word stays."""
    _, client = service
    response = await client.post(
        "/redact", json={"body": messages("mail alice@example.com", "Thanks a lot")}
    )
    result = await response.json()
    assert is_ok(response.status, result)
    sent = [m["content"] for m in result["redacted_body"]["messages"]]
    assert "alice" not in sent[0]
    assert sent[1] == "Thanks a lot"


@pytest.mark.server
@pytest.mark.parametrize("joiner", ["\u200b", "\u2060"], ids=["ZWSP", "WJ"])
async def test_an_invisible_break_between_names_hides_nothing(
    make_service: Any, joiner: str
) -> None:
    client = await make_service(pii_detector="local", pii_embedded_names=True)
    text = f"Please call Jennifer{joiner}Martinez today."
    response = await client.post("/redact", json={"body": messages(text)})
    result = await response.json()
    assert is_ok(response.status, result)
    content = result["redacted_body"]["messages"][0]["content"]
    assert "Martinez" not in content.replace(joiner, "")
    assert "Jennifer" not in content
