"""Street addresses in US and UK formats, offline: street-type words, states and postal codes.

An address is a house number (``221B``, ``185-187``, ``No. 22``), one to four capitalised words
(or ordinals, ``7th``) and a street type (``Street``, ``St.``, ``Ave``, ``Parkway``: the USPS list
of usaddress, 588 types and abbreviations), optionally a direction (``NE``) and a unit (``Apt 4``,
``Suite 1500``, ``Flat 3``), then optionally a city or town with a US state (``Springfield, IL
62704``) or a UK postcode (``London SW1A 2AA``). A UK street without a number counts when a valid
postcode follows (``Marlborough Rd, St. James's, London SW1A 1BQ``).

Postal codes are validated by libraries: a US ZIP code must exist (zipcodes, the USPS database)
and lie in the state written before it; a UK postcode must have the shape of one and an area that
exists (Faker's list of the 124 UK postcode areas). A code that fails is left out of the span.
Scores: 0.85 with a valid postal code, a state or a unit; 0.65 for a number, name and street type.
Read from three packages of the ``[addresses]`` extra (usaddress, zipcodes, Faker), once per
process; nothing is downloaded.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from functools import lru_cache

from redaction.entities import Entity

CATEGORY = "Address"
STRONG = 0.85
STREET_ONLY = 0.65

# Two-letter USPS abbreviations that read as street types in running text; others (``is``, ``la``,
# ``mi``, ``ex``) are common words or states.
_SHORT_TYPES = frozenset({"st", "rd", "dr", "ln", "ct", "pl", "sq", "av", "wy", "pk", "hl"})
_UNIT = (
    r"(?i:apt|apartment|suite|ste|unit|flat|fl|floor|room|rm|bldg|building|studio|dept|#)"
    r"\.?[ \t]*#?[ \t]*[A-Za-z0-9][A-Za-z0-9-]{0,5}\b"
)
_NUMBER = r"(?:(?i:no)\.?[ \t]*)?\d{1,6}(?:[-\u2013]\d{1,6})?[A-Za-z]?"
_DIRECTION = r"(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West|NORTH|SOUTH|EAST|WEST)\.?"
_NAME_WORD = r"(?:[A-Z][A-Za-z'\u2019.-]*|\d{1,4}(?:st|nd|rd|th|ST|ND|RD|TH)?)"
_PLACE_WORD = r"[A-Z][A-Za-z'\u2019.-]+"
_SEP = r"(?:[ \t]*,[ \t]*\n?[ \t]*|[ \t]*\n[ \t]*|[ \t]+)"
_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}\b"
_ZIP = r"\d{5}(?:-\d{4})?\b"
_DIGIT = re.compile(r"\d")
_POSTCODE_ANYWHERE = re.compile(_POSTCODE)
_COUNTRY = (
    r"(?:,?[ \t]*(?:USA|U\.S\.A\.|U\.S\.|United States|UK|U\.K\.|United Kingdom|England|Scotland"
    r"|Wales|Northern Ireland|Great Britain)\b\.?)?"
)
_YEAR_BEFORE = re.compile(
    r"\b(?:in|since|by|of|from|until|till|to|before|after|around)[ \t]+$", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class AddressData:
    """Street types, states and postcode areas, lower-case where words."""

    street_types: frozenset[str]
    state_codes: frozenset[str]
    state_names: frozenset[str]
    postcode_areas: frozenset[str]


@lru_cache(maxsize=1)
def load_address_data() -> AddressData:
    """Reads the lists of the installed packages once per process."""
    usaddress = importlib.import_module("usaddress")
    us = importlib.import_module("faker.providers.address.en_US").Provider
    gb = importlib.import_module("faker.providers.address.en_GB").Provider
    return AddressData(
        street_types=frozenset(
            t for t in usaddress.STREET_NAMES if len(t) > 2 or t in _SHORT_TYPES
        ),
        state_codes=frozenset(us.states_abbr),
        state_names=frozenset(s.lower() for s in us.states),
        postcode_areas=frozenset(gb.POSTAL_ZONES),
    )


def _pattern(data: AddressData, unnumbered_too: bool) -> re.Pattern[str]:
    """The address pattern; without ``unnumbered_too`` its second branch fails at once (a street
    without a number needs a postcode, and most texts have none)."""
    types = "|".join(sorted(data.street_types, key=len, reverse=True))
    states = "|".join(sorted(data.state_codes, key=len, reverse=True))
    names = "|".join(
        re.escape(n).replace(r"\ ", r"[ \t]+") for n in sorted(data.state_names, key=len)[::-1]
    )
    street_type = rf"(?P<type>(?i:{types}))\b\.?"
    place = rf"(?:{_PLACE_WORD}[ \t]+){{0,2}}{_PLACE_WORD}"
    state = rf"(?P<state>\b(?:{states})\b|(?i:{names})\b)"
    tail = (
        rf"(?:{_SEP}(?P<city>{place}){_SEP}{state}(?:[ \t]*,?[ \t]+(?P<zip>{_ZIP}))?"
        rf"|{_SEP}(?P<town>(?:{place}{_SEP}){{0,2}})(?P<postcode>{_POSTCODE})"
        rf"|{_SEP}(?P<zip_only>{_ZIP})(?=[ \t]*(?:$|[\n.;!?)]))"
        rf"){_COUNTRY}"
    )
    numbered = (
        rf"(?P<number>{_NUMBER})[ \t]+(?:{_DIRECTION}[ \t]+)?"
        rf"(?P<name>(?:{_NAME_WORD}[ \t]+){{1,4}}?){street_type}"
        rf"(?:[ \t]+{_DIRECTION}(?![\w']))?(?P<unit>,?[ \t]*{_UNIT})?(?:{tail})?"
    )
    unnumbered = (
        rf"(?P<bare>(?:{_NAME_WORD}[ \t]+){{1,3}}(?i:{types})\b\.?)"
        rf"{_SEP}(?P<bare_town>(?:{place}{_SEP}){{0,2}})(?P<bare_postcode>{_POSTCODE})"
    )
    off = "" if unnumbered_too else "(?!)"
    return re.compile(rf"(?<![\w.,/@-])(?:{numbered}|{off}{unnumbered})")


def _upper_or_title(word: str) -> bool:
    return word[:1].isupper()


class AddressFinder:
    """Finds US and UK street addresses; ``find_entities`` as the NER plug-in point."""

    categories = frozenset({CATEGORY})

    def __init__(self, data: AddressData | None = None) -> None:
        self._data = data if data is not None else load_address_data()
        self._with_postcode = _pattern(self._data, unnumbered_too=True)
        self._numbered = _pattern(self._data, unnumbered_too=False)
        self._zipcodes = importlib.import_module("zipcodes")

    def find_entities(self, text: str) -> list[Entity]:
        found: list[Entity] = []
        if not _DIGIT.search(text):  # every address has a house number or a postal code
            return found
        pattern = self._with_postcode if _POSTCODE_ANYWHERE.search(text) else self._numbered
        for match in pattern.finditer(text):
            entity = self._judge(text, match)
            if entity is not None:
                found.append(entity)
        return found

    def _judge(self, text: str, match: re.Match[str]) -> Entity | None:
        if match.group("bare") is not None:
            if not self._postcode_ok(match.group("bare_postcode")):
                return None
            return Entity(match.start(), match.end() - match.start(), CATEGORY, STRONG)
        number = match.group("number")
        digits = number.lstrip("Nno. \t")
        if not digits.strip("0-\u2013"):  # house number 0 or 000
            return None
        if (
            len(digits) == 4
            and digits.isdigit()
            and 1800 <= int(digits) <= 2099
            and _YEAR_BEFORE.search(text[max(0, match.start() - 12) : match.start()])
        ):
            return None
        end, strong = self._tail_end(match)
        if not (strong or _upper_or_title(match.group("type"))):
            return None
        score = STRONG if strong else STREET_ONLY
        return Entity(match.start(), end - match.start(), CATEGORY, score)

    def _tail_end(self, match: re.Match[str]) -> tuple[int, bool]:
        """Where the address ends, and whether a unit, state or valid postal code holds it."""
        street_end = match.end("unit") if match.group("unit") else match.end("type")
        strong = match.group("unit") is not None
        if match.group("postcode") is not None:
            if self._postcode_ok(match.group("postcode")):
                return match.end(), True
            return street_end, strong
        if match.group("state") is not None:
            zip_code = match.group("zip")
            if zip_code is None:
                return match.end(), True
            if self._zip_ok(zip_code, match.group("state")):
                return match.end(), True
            return match.end("state"), True
        if match.group("zip_only") is not None and self._zip_ok(match.group("zip_only"), None):
            return match.end(), True
        return max(street_end, self._direction_end(match)), strong

    @staticmethod
    def _direction_end(match: re.Match[str]) -> int:
        """The end of the street with a trailing direction (``Avenue NW``) but nothing after."""
        text = match.string[match.end("type") : match.end()]
        direction = re.match(rf"[ \t]+{_DIRECTION}(?![\w'])", text)
        return match.end("type") + (direction.end() if direction else 0)

    def _postcode_ok(self, postcode: str) -> bool:
        area = re.match(r"[A-Z]+", postcode)
        return area is not None and area.group() in self._data.postcode_areas

    def _zip_ok(self, zip_code: str, state: str | None) -> bool:
        try:
            places = self._zipcodes.matching(zip_code)
        except (TypeError, ValueError):
            return False
        if not places:
            return False
        if state is None:
            return True
        # A full state name is read only as a state; the code is checked against the ZIP.
        return state.strip().upper() in {str(p.get("state", "")) for p in places} or (
            state.strip().lower() in self._data.state_names
        )
