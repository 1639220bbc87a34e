"""First cut of the embedded recognizer (the detector issue replaces its internals, not its API)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence

import phonenumbers
import regex
from stdnum import iban, luhn
from stdnum.us import ssn

from redaction.entities import Entity

_PATTERN = regex.compile(
    r"""
    (?P<Email>(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+)
  | (?P<URL>\b(?:https?://|www\.)[^\s<>"']+[^\s<>"'.,;:!?)\]])
  | (?P<USSocialSecurityNumber>(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-]))
  | (?P<CreditCardNumber>(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-]))
  | (?P<InternationalBankingAccountNumber>\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b)
  | (?P<IPAddress>(?<![\w.:])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])|(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:]))
  | (?P<PhoneNumber>(?<![\w+])\+?\(?\d[\d ().-]{6,18}\d(?!\w))
    """,
    regex.VERBOSE,
)


def _valid_ssn(value: str) -> bool:
    return bool(ssn.is_valid(value))


def _valid_card(value: str) -> bool:
    digits = regex.sub(r"\D", "", value)
    return 13 <= len(digits) <= 19 and bool(luhn.is_valid(digits))


def _valid_iban(value: str) -> bool:
    return bool(iban.is_valid(value))


def _valid_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _always(_value: str) -> bool:
    return True


_VALIDATORS: dict[str, Callable[[str], bool]] = {
    "Email": _always,
    "URL": _always,
    "USSocialSecurityNumber": _valid_ssn,
    "CreditCardNumber": _valid_card,
    "InternationalBankingAccountNumber": _valid_iban,
    "IPAddress": _valid_ip,
}

_SCORES: dict[str, float] = {
    "Email": 0.8, "URL": 0.8, "USSocialSecurityNumber": 0.85, "CreditCardNumber": 0.9,
    "InternationalBankingAccountNumber": 0.9, "IPAddress": 0.8, "PhoneNumber": 0.75,
}


class EmbeddedRecognizer:
    """Finds structured personal data offline; names categories as Azure AI Language does."""

    categories: frozenset[str] = frozenset(_SCORES)

    def __init__(self, *, phone_regions: Sequence[str] = ("US", "GB", "DE", "FR")) -> None:
        self._phone_regions = tuple(phone_regions)

    def find_entities(self, text: str, language: str = "en") -> list[Entity]:
        found: list[Entity] = []
        for match in _PATTERN.finditer(text):
            category = match.lastgroup
            if category is None:
                continue
            value = match.group()
            if self._is_valid(category, value):
                found.append(Entity(match.start(), len(value), category, _SCORES[category]))
        return found

    def _is_valid(self, category: str, value: str) -> bool:
        if category == "PhoneNumber":
            return self._is_phone(value)
        return _VALIDATORS[category](value)

    def _is_phone(self, value: str) -> bool:
        regions = (None,) if value.startswith("+") else self._phone_regions
        for region in regions:
            try:
                number = phonenumbers.parse(value, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                return True
        return False
