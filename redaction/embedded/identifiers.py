"""Numbers and codes that python-stdnum validates: cards, bank, tax and national identifiers.

Each rule has a shape (how the number is written), a validator from python-stdnum, a score
without context, and the cue words that raise it. Numbers that have no check digit or no shape
of their own (bank accounts, passports, licences) score below any sensible minimum unless a cue
word is near.
"""

from __future__ import annotations

import re
import re._parser as sre_parse  # type: ignore[import-not-found]
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from string import ascii_uppercase

from stdnum import bic, iban, luhn
from stdnum.be import nn as be_nn
from stdnum.br import cpf
from stdnum.ca import sin
from stdnum.ch import ssn as ch_ssn
from stdnum.de import idnr
from stdnum.dk import cpr
from stdnum.es import dni, nie
from stdnum.eu import vat
from stdnum.fi import hetu
from stdnum.fr import nif as fr_nif
from stdnum.fr import nir
from stdnum.gb import nhs
from stdnum.in_ import aadhaar, pan
from stdnum.it import codicefiscale
from stdnum.nl import bsn
from stdnum.no import fodselsnummer
from stdnum.pl import nip, pesel
from stdnum.se import personnummer
from stdnum.us import itin, rtn, ssn

from redaction.embedded.context import cues


@dataclass(frozen=True, slots=True)
class Rule:
    """One way a category is written, how it is checked, and how sure a match makes us."""

    category: str
    shape: re.Pattern[str]
    is_valid: Callable[[str], bool]
    base: float
    cues: frozenset[str]


class RuleSet:
    """Rules indexed by the lengths their shape can match, so a value meets only those that
    could hold it."""

    __slots__ = ("_by_length",)

    def __init__(self, rules: tuple[Rule, ...]) -> None:
        widths = [_width(r.shape) for r in rules]
        longest = max(high for _, high in widths)
        self._by_length = [
            tuple(r for r, (low, high) in zip(rules, widths, strict=True) if low <= n <= high)
            for n in range(longest + 1)
        ]

    def of_length(self, length: int) -> tuple[Rule, ...]:
        return self._by_length[length] if length < len(self._by_length) else ()


def _width(shape: re.Pattern[str]) -> tuple[int, int]:
    return _pattern_width(shape.pattern)


@cache
def _pattern_width(pattern: str) -> tuple[int, int]:
    low, high = sre_parse.parse(pattern).getwidth()
    return low, min(high, _LONGEST_VALUE)


_LONGEST_VALUE = 128


def rule(
    category: str, shape: str, is_valid: Callable[[str], bool], base: float, words: str = ""
) -> Rule:
    return Rule(category, re.compile(shape), _never_raising(is_valid), base, cues(words))


def _never_raising(is_valid: Callable[[str], bool]) -> Callable[[str], bool]:
    """A validator that answers False where the library raises (python-stdnum 2.2's cn.ric
    raises KeyError for a birth place its table lists without a county): one bad check must
    not fail the scan of a whole text."""

    def checked(value: str) -> bool:
        try:
            return is_valid(value)
        except Exception:  # noqa: BLE001 - any failure of a third-party check is a "no"
            return False

    return checked


# Without a check digit, a number is only taken when a cue word says what it is.
CONTEXT_ONLY = 0.2


def any_value(_value: str) -> bool:
    return True


# Issuer (IIN) prefixes of the card schemes in use and their lengths; Luhn is checked separately.
_CARD_SCHEMES: tuple[tuple[str, tuple[int, ...]], ...] = (
    (r"4", (13, 16, 19)),  # Visa
    (r"5[1-5]|2(?:2(?:2[1-9]|[3-9]\d)|[3-6]\d\d|7(?:[01]\d|20))", (16,)),  # Mastercard
    (r"3[47]", (15,)),  # American Express
    (r"6(?:011|4[4-9]|5)", (16, 17, 18, 19)),  # Discover
    (r"35(?:2[89]|[3-8]\d)", (16, 17, 18, 19)),  # JCB
    (r"3(?:0[0-5]|095|[689])", (14, 15, 16, 17, 18, 19)),  # Diners Club
    (r"62", (16, 17, 18, 19)),  # UnionPay
    (r"5[06-9]|6\d", (12, 13, 14, 15, 16, 17, 18, 19)),  # Maestro
    (r"220[0-4]", (16, 17, 18, 19)),  # Mir
    (r"60|65|81|82|508", (16,)),  # RuPay
    (r"9792", (16,)),  # Troy
    (r"1", (15,)),  # UATP
)
_CARD_PREFIXES = tuple((re.compile(prefix), lengths) for prefix, lengths in _CARD_SCHEMES)


def is_card_number(value: str) -> bool:
    """A Luhn-valid number with the prefix and length of a card scheme."""
    digits = "".join(char for char in value if char.isdigit())
    if not luhn.is_valid(digits):
        return False
    return any(
        len(digits) in lengths and prefix.match(digits) for prefix, lengths in _CARD_PREFIXES
    )


def _dashed(is_valid: Callable[[str], bool]) -> Callable[[str], bool]:
    """A validator that reads "123 45 6789" and "123.45.6789" as "123-45-6789" (python-stdnum
    strips dashes only)."""
    return lambda value: is_valid(value.replace(" ", "-").replace(".", "-"))


def is_nino(value: str) -> bool:
    """UK National Insurance number (python-stdnum has none): HMRC's prefix and suffix rules."""
    compact = value.replace(" ", "")
    if len(compact) != 9 or compact[:2] in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}:
        return False
    return compact[0] not in "DFIQUV" and compact[1] not in "DFIOQUV" and compact[8] in "ABCD"


CARD = "CreditCardNumber"
_CARD = "card credit debit visa mastercard amex cc kreditkarte karte carte tarjeta carta"
CARD_CUES = cues(_CARD)
_SSN = "ssn social_security social_security_number ss#"
_ITIN = "itin taxpayer tin tax_id"
_ROUTING = "routing aba rtn transit routing_number"
_ACCOUNT = "account acct checking savings bank account_number kontonummer konto compte cuenta"
_PASSPORT = "passport reisepass passeport pasaporte passaporto paspoort"
_LICENSE = "driver driver's drivers license licence dl driving"
_DE_IDNR = "steuer steuerid steuer-id idnr steueridentifikationsnummer identifikationsnummer tax_id"

SSN = "USSocialSecurityNumber"
_PLAIN_CARD = rule(CARD, r"\d{12,19}", is_card_number, 0.85, _CARD)
_PLAIN_SSN = rule(SSN, r"\d{9}", ssn.is_valid, 0.2, _SSN)
# A plain run of digits with letters glued after it ("4111111111111111x", "52824753556AF") is
# mostly a code: it is read as a value only where a check makes a chance match rare, as a card
# number (Luhn, a scheme's prefix and length) or, beside its cue word, as an SSN. True: the rule
# needs its cue.
BEFORE_LETTERS_RULES: tuple[tuple[Rule, bool], ...] = ((_PLAIN_CARD, False), (_PLAIN_SSN, True))

NUMERIC_RULES: tuple[Rule, ...] = (
    _PLAIN_CARD,
    rule(CARD, r"\d{4}(?:(?:[ .-]| - )\d{4}){2}(?:[ .-]| - )\d{1,7}", is_card_number, 0.9, _CARD),
    rule(CARD, r"\d{4}([ .-])\d{6}\1\d{4,5}", is_card_number, 0.9, _CARD),
    # Any other grouping ("4539 14880343 6467"): the check and the scheme's prefix and length;
    # amid other numbers (a list), only with a cue.
    rule(CARD, r"\d{4,8}(?:[ .-]\d{1,8}){1,5}", is_card_number, 0.55, _CARD),
    rule(SSN, r"\d{3}([ .-])\d{2}\1\d{4}", _dashed(ssn.is_valid), 0.85, _SSN),
    _PLAIN_SSN,
    rule(
        "USIndividualTaxpayerIdentification",
        r"9\d\d([ -])\d{2}\1\d{4}",
        _dashed(itin.is_valid),
        0.8,
        _ITIN,
    ),
    rule("USIndividualTaxpayerIdentification", r"9\d{8}", itin.is_valid, 0.2, _ITIN),
    # One check digit: bare, only alone or with a cue; written in its own 4-4-1 shape, taken.
    rule("ABARoutingNumber", r"\d{9}", rtn.is_valid, 0.45, _ROUTING),
    rule("ABARoutingNumber", r"\d{4}-\d{4}-\d", rtn.is_valid, 0.5, _ROUTING),
    rule("USBankAccountNumber", r"\d{8,17}", any_value, CONTEXT_ONLY, _ACCOUNT),
    rule("USUKPassportNumber", r"\d{9}", any_value, CONTEXT_ONLY, _PASSPORT),
    rule("USDriversLicenseNumber", r"\d{7,12}", any_value, CONTEXT_ONLY, _LICENSE),
    rule(
        "UKNationalHealthNumber",
        r"\d{3}([ -]?)\d{3}\1\d{4}",
        nhs.is_valid,
        0.45,
        "nhs nhs_number health_service",
    ),
    rule(
        "DETaxIdentificationNumber", r"\d{11}|\d{2} \d{3} \d{3} \d{3}", idnr.is_valid, 0.4, _DE_IDNR
    ),
    # ... and, beside its own cue word, one whose check fails (mistyped, or made up as an example)
    rule("DETaxIdentificationNumber", r"[1-9]\d{10}", any_value, CONTEXT_ONLY, _DE_IDNR),
    rule("PLNationalID", r"\d{11}", pesel.is_valid, 0.55, "pesel"),
    rule(
        "PLTaxIdentificationNumber",
        r"\d{10}|\d{3}-\d{3}-\d{2}-\d{2}|\d{3}-\d{2}-\d{2}-\d{3}",
        nip.is_valid,
        0.35,
        "nip",
    ),
    rule(
        "FRSocialSecurityNumber",
        r"[12]\d{14}",
        nir.is_valid,
        0.6,
        "nir insee sécurité_sociale securite_sociale",
    ),
    rule(
        "FRSocialSecurityNumber",
        r"[12] \d\d \d\d \d\d \d{3} \d{3} \d\d",
        nir.is_valid,
        0.85,
        "nir insee sécurité_sociale securite_sociale",
    ),
    rule(
        "FRTaxIdentificationNumber",
        r"[0-3]\d{12}|[0-3]\d \d\d \d{3} \d{3} \d{3}",
        fr_nif.is_valid,
        0.4,
        "fiscal spi nif numéro_fiscal",
    ),
    rule(
        "NLCitizensServiceNumber",
        r"\d{9}|\d{4}\.\d\d\.\d{3}",
        bsn.is_valid,
        0.3,
        "bsn burgerservicenummer sofinummer",
    ),
    rule(
        "SENationalID",
        r"(?:\d\d)?\d{6}[-+]\d{4}",
        personnummer.is_valid,
        0.7,
        "personnummer personnr",
    ),
    rule(
        "DKPersonalIdentificationNumber",
        r"\d{6}-\d{4}",
        cpr.is_valid,
        0.6,
        "cpr cpr-nummer cpr-nr personnummer",
    ),
    rule(
        "FINationalID",
        r"\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]",
        hetu.is_valid,
        0.8,
        "henkilötunnus hetu sotu",
    ),
    rule(
        "BENationalNumber",
        r"\d\d\.\d\d\.\d\d-\d{3}\.\d\d",
        be_nn.is_valid,
        0.8,
        "rijksregisternummer national_number numéro_national",
    ),
    rule(
        "BENationalNumber",
        r"\d{11}",
        be_nn.is_valid,
        0.3,
        "rijksregisternummer national_number numéro_national",
    ),
    rule(
        "NOIdentityNumber",
        r"\d{6} ?\d{5}",
        fodselsnummer.is_valid,
        0.5,
        "fødselsnummer fodselsnummer personnummer",
    ),
    rule(
        "CHSocialSecurityNumber",
        r"756\.\d{4}\.\d{4}\.\d\d|756\d{10}",
        ch_ssn.is_valid,
        0.85,
        "ahv avs ahv-nummer",
    ),
    rule(
        "CASocialInsuranceNumber",
        r"\d{3}([ -])\d{3}\1\d{3}",
        sin.is_valid,
        0.5,
        "sin social_insurance nas",
    ),
    rule("CASocialInsuranceNumber", r"\d{9}", sin.is_valid, 0.45, "sin social_insurance nas"),
    rule("BRCPFNumber", r"\d{3}\.\d{3}\.\d{3}-\d\d", cpf.is_valid, 0.85, "cpf"),
    rule("BRCPFNumber", r"\d{11}", cpf.is_valid, 0.3, "cpf"),
    rule(
        "INUniqueIdentificationNumber",
        r"\d{4}([ -]?)\d{4}\1\d{4}",
        aadhaar.is_valid,
        0.55,
        "aadhaar uidai",
    ),
    rule("ESDNI", r"\d{8}-?[A-Z]", dni.is_valid, 0.8, "dni"),
)

_VAT = "vat ust ustid ust-idnr umsatzsteuer tva iva btw mwst moms alv vat_number"
_VAT_CATEGORIES = {
    "AT": "ATValueAddedTaxNumber",
    "BE": "BEValueAddedTaxNumber",
    "DE": "DEValueAddedNumber",
    "FR": "FRValueAddedTaxNumber",
    "HU": "HUValueAddedNumber",
    "IT": "ITValueAddedTaxNumber",
    "NL": "NLValueAddedTaxNumber",
}
VAT_CATEGORIES = frozenset([*_VAT_CATEGORIES.values(), "EUTaxIdentificationNumber"])


def vat_category(value: str) -> str:
    """The Azure category of a valid EU VAT number: per country where Azure has one."""
    return _VAT_CATEGORIES.get(value[:2].upper(), "EUTaxIdentificationNumber")


_BASE36_LETTERS = {ord(letter): str(number) for number, letter in enumerate(ascii_uppercase, 10)}


def is_iban(value: str) -> bool:
    """python-stdnum's IBAN check, answered at once where its first step fails: the mod-97
    check of an ASCII IBAN (most IBAN-shaped codes are none), done here without its generic
    clean-up of the characters; the rest (format and length of the country) is left to it."""
    number = value.replace(" ", "").replace("-", "").replace(".", "").upper()
    if number.isascii() and number.isalnum():
        rearranged = number[4:] + number[:4]
        if int(rearranged.translate(_BASE36_LETTERS)) % 97 != 1:
            return False
    return iban.is_valid(value)


IBAN_RULE = rule(
    "InternationalBankingAccountNumber",
    r"[A-Za-z]{2} ?\d\d(?:[ -]?[A-Za-z0-9]){8,40}",
    is_iban,
    0.9,
    "iban account bank",
)


def is_iban_shaped(value: str) -> bool:
    """A country's IBAN format (length, letters and digits in place) whatever its check digits."""
    number = iban.compact(value)
    if not (number.isascii() and number.isalnum()):
        return False  # "...3000ü": python-stdnum's check raises on a letter outside ASCII
    if len(number) < _SHORTEST_IBAN or not number[:2].isalpha() or not number[2:4].isdigit():
        return False
    fixed = number[:2] + iban.calc_check_digits(number) + number[4:]
    return iban.is_valid(fixed, check_country=False)


_SHORTEST_IBAN = 15  # Norway
_LONGEST_IBAN = 34
_IBAN_START = re.compile(r"[A-Za-z]{2}\d\d")
_IBAN_TAIL = re.compile(rf"(?:[ -]?[A-Za-z0-9]){{1,{_LONGEST_IBAN - 4}}}")


def glued_iban(text: str, start: int, end: int) -> tuple[int, int] | None:
    """An IBAN glued to letters before or after it ("IBANDE89...", "DE89 ... 0130 00x"): from a
    country code inside ``text[start:end]``, the longest span, maybe running on past ``end``,
    that passes mod-97 and its country's length and format, after a letter or before one, and
    never before a digit."""
    for head in _IBAN_START.finditer(text, start, end):
        first = head.start()
        tail = _IBAN_TAIL.match(text, head.end())
        last = tail.end() if tail else head.end()
        after_letter = first > 0 and text[first - 1].isalpha()
        for stop in range(last, first + _SHORTEST_IBAN - 1, -1):
            if _iban_end(text, stop, after_letter) and IBAN_RULE.is_valid(text[first:stop]):
                return first, stop
    return None


def _iban_end(text: str, stop: int, after_letter: bool) -> bool:
    if not text[stop - 1].isalnum() or (stop < len(text) and text[stop].isdigit()):
        return False
    return after_letter or (stop < len(text) and text[stop].isalpha())


CODE_RULES: tuple[Rule, ...] = (
    IBAN_RULE,
    rule(
        "EUTaxIdentificationNumber",
        r"[A-Z]{2}(?:[A-Z0-9 ]{7,14}|(?: ?[.-] ?| )?\d{2,4}(?:[ .-]\d{2,4}){1,4})",
        vat.is_valid,
        0.75,
        _VAT,
    ),
    rule(
        "ITFiscalCode",
        r"[A-Z]{6}[0-9LMNP-V]{2}[A-Z][0-9LMNP-V]{2}[A-Z][0-9LMNP-V]{3}[A-Z]",
        codicefiscale.is_valid,
        0.85,
        "codice_fiscale fiscale cf",
    ),
    rule("ESTaxIdentificationNumber", r"[XYZ]-?\d{7}-?[A-Z]", nie.is_valid, 0.8, "nie"),
    rule("INPermanentAccount", r"[A-Z]{5}\d{4}[A-Z]", pan.is_valid, 0.6, "pan"),
    rule(
        "UKNationalInsuranceNumber",
        r"[A-Z]{2} ?\d\d ?\d\d ?\d\d ?[A-D]",
        is_nino,
        0.75,
        "national_insurance ni nino ni_number insurance",
    ),
    rule("USUKPassportNumber", r"[A-Z]\d{8}", any_value, CONTEXT_ONLY, _PASSPORT),
    rule("USDriversLicenseNumber", r"[A-Z]{1,2}\d{4,14}", any_value, CONTEXT_ONLY, _LICENSE),
)

_SWIFT = "swift bic swift_code bank wire transfer"
SWIFT_RULES: tuple[Rule, ...] = (
    rule("SWIFTCode", r"[A-Z]{6}[A-Z0-9]{2}(?:XXX)?", bic.is_valid, 0.35, _SWIFT),
    rule(
        "SWIFTCode",
        r"[A-Z]{6}(?:[A-Z0-9]{2}[A-Z0-9]{3}|[A-Z0-9]?\d[A-Z0-9]*)",
        bic.is_valid,
        0.6,
        _SWIFT,
    ),
)

CATEGORIES = (
    frozenset(rule.category for rule in NUMERIC_RULES + CODE_RULES + SWIFT_RULES) | VAT_CATEGORIES
)
