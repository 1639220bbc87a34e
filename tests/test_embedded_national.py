"""National identifiers of more countries: found bare when they carry a check digit, with a cue
word when they do not, and not at all when the check digit is wrong.

Values are made here with python-stdnum's own check-digit functions (or by hand for formats it
has not), never copied from the third-party evaluation set.
"""

from __future__ import annotations

import pytest

from redaction.embedded import EmbeddedRecognizer

RECOGNIZER = EmbeddedRecognizer()


def found(text: str, language: str = "en") -> list[tuple[str, str]]:
    return [(e.category, text[e.offset : e.end]) for e in RECOGNIZER.find_entities(text, language)]


# A message that is just the number: found without any cue word.
BARE = [
    ("TRNationalIdentificationNumber", "31415926562"),
    ("EEPersonalIdentificationCode", "38507120241"),
    ("ZAIdentificationNumber", "8507125091088"),
    ("THPopulationIdentificationCode", "5102700123450"),
    ("THPopulationIdentificationCode", "5-1027-00123-45-0"),
    ("AUBusinessNumber", "18 123 456 789"),
    ("BGUniformCivilNumber", "8507121239"),
    ("SIUniqueMasterCitizenNumber", "1207985500123"),
    ("JPMyNumberCorporate", "4271828182845"),
    ("KRResidentRegistrationNumber", "850712-1234567"),
    ("SENationalID", "198507126780"),
    ("FINationalID", "131052A308T"),
    ("FINationalID", "131052+308T"),
    ("SGNationalRegistrationIdentityCardNumber", "S1234567D"),
    ("DrugEnforcementAgencyNumber", "AB1234563"),
    ("IEPersonalPublicServiceNumber", "1234567T"),
    ("INUniqueIdentificationNumber", "3123-4567-8909"),
    ("NZBankAccountNumber", "01-0274-0139683-00"),
    ("CZPersonalIdentityNumber", "850712/1238"),
    ("CNResidentIdentityCardNumber", "11010519491231002X"),
    ("CNResidentIdentityCardNumber", "11010519491231002x"),
    ("THPopulationIdentificationCode", "51027 0012 3450"),
    ("NZBankAccountNumber", "01 0274 0139683 00"),
    ("NZBankAccountNumber", "01 - 0274 - 0139 683 - 00"),
    ("BankAccountNumber", "2718281808/0800"),
    ("BankAccountNumber", "19-2718281808/0800"),
    ("IEPersonalPublicServiceNumber", "7654321JH"),
    ("EUTaxIdentificationNumber", "181/815/08155"),
    ("CASocialInsuranceNumber", "271 828 188"),
    ("CreditCardNumber", "112345678901236"),
]

# No check digit (or one that a tenth of all numbers pass): in a sentence, found only with a cue.
CUED = [
    ("EUPassportNumber", "Mi pasaporte es XQ1234567", "XQ1234567"),
    ("ITDriversLicenseNumber", "patente U1K711J11M", "U1K711J11M"),
    ("AUTaxFileNumber", "my TFN is 876543210", "876543210"),
    ("PLREGONNumber", "REGON 123456785", "123456785"),
]


@pytest.mark.parametrize(("category", "value"), BARE)
def test_a_checked_number_is_found_bare(category: str, value: str) -> None:
    assert found(value) == [(category, value)]
    assert found(f"Please use {value} for the form.") == [(category, value)]


@pytest.mark.parametrize(("category", "text", "value"), CUED)
def test_an_unchecked_number_needs_its_cue(category: str, text: str, value: str) -> None:
    assert found(text) == [(category, value)]
    assert found(f"See {value} today.") == []


@pytest.mark.parametrize(
    ("category", "value"),
    [
        ("AUTaxFileNumber", "876543210"),
        ("PLREGONNumber", "123456785"),
        ("UKUniqueTaxpayerNumber", "1955839661"),
        ("ABARoutingNumber", "021000021"),
        ("CASocialInsuranceNumber", "271828188"),
        ("EUTaxIdentificationNumber", "3181081508155"),
    ],
)
def test_a_weakly_checked_number_alone_is_found(category: str, value: str) -> None:
    assert found(value) == [(category, value)]
    assert found(f"{value} ") == [(category, value)]


def test_an_unchecked_code_alone_is_not_found() -> None:
    assert found("XQ1234567") == []
    assert found("U1K711J11M") == []


@pytest.mark.parametrize(
    "value", ["31415926563", "38507120245", "8507125091089", "S1234567E", "AB1234564"]
)
def test_a_wrong_check_digit_is_not_found(value: str) -> None:
    assert found(value) == []


def test_a_grouped_number_that_is_also_a_phone_is_masked_either_way() -> None:
    assert [value for _, value in found("314 159 263")] == ["314 159 263"]
    assert found("ACN 314 159 263") == [("AUCompanyNumber", "314 159 263")]


def test_a_business_word_or_a_list_keeps_weak_numbers_out() -> None:
    assert found("order 31415926562 shipped") == []
    assert found("ids 314 159 263 271 828 182 845") == []


def test_the_new_categories_are_claimed() -> None:
    for category, _ in BARE:
        assert category in RECOGNIZER.categories


def test_a_validator_that_raises_is_a_no_not_a_failed_scan() -> None:
    """python-stdnum's cn.ric raises KeyError for a birth place listed without a county; the
    scan goes on and finds what else the text holds."""
    text = "ids 110007198001010013 and card 4111 1111 1111 1111"
    assert found(text) == [("CreditCardNumber", "4111 1111 1111 1111")]
