"""Phone numbers: one parse per candidate with phonenumbers, regions from language and settings."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

import phonenumbers

from redaction.embedded.context import Context, cues

CATEGORY = "PhoneNumber"
CUES = cues(
    "phone tel telephone call mobile cell cellphone fax whatsapp sms text ring reach dial "
    "contact handy telefon telefonnummer rufnummer mobil anrufen téléphone portable appeler "
    "appelez teléfono móvil llamar telefono cellulare chiamare telefoon bellen mobiel puhelin "
    "ring_me phone_number telefone celular ligar ligue contato telefonu cep ara\u0131n arayin "
    "फोन फ़ोन मोबाइल संपर्क 电话 電話 手机 手機 号码 號碼 联系 聯絡 传真 傳真 携帯 でんわ "
    "전화 휴대폰 연락처 โทร เบอร์"
)
DEFAULT_REGIONS = ("US", "GB", "DE", "FR", "CA", "IN", "BR", "IL")

# Where speakers of a language most likely live; the first region is tried first.
_LANGUAGE_REGIONS: dict[str, tuple[str, ...]] = {
    "en": ("US", "GB", "CA", "AU", "IE", "NZ", "IN"),
    "de": ("DE", "AT", "CH"),
    "fr": ("FR", "BE", "CH", "CA"),
    "es": ("ES", "MX", "AR", "CO"),
    "it": ("IT", "CH"),
    "nl": ("NL", "BE"),
    "pt": ("PT", "BR"),
    "pl": ("PL",),
    "sv": ("SE",),
    "fi": ("FI",),
    "da": ("DK",),
    "nb": ("NO",),
    "no": ("NO",),
    "he": ("IL",),
    "ja": ("JP",),
    "zh": ("CN", "TW", "HK", "SG"),
    "ko": ("KR",),
    "tr": ("TR",),
    "hi": ("IN",),
    "th": ("TH",),
    "vi": ("VN",),
    "id": ("ID",),
    "ms": ("MY",),
    "tl": ("PH",),
    "ru": ("RU",),
    "uk": ("UA",),
    "ar": ("SA", "EG", "AE"),
    "cs": ("CZ",),
    "sk": ("SK",),
    "hu": ("HU",),
    "ro": ("RO",),
    "el": ("GR",),
    "bg": ("BG",),
}

_INTERNATIONAL = 0.85
_FORMATTED = 0.65
_BARE = 0.4
_SHAPED = 0.6  # written as a phone number, though no numbering plan we know assigns it
_CUED = 0.45  # any other run of 7 to 15 digits: only with a cue
_MOBILE = 0.5  # a bare mobile number, here or in a populous country
_NANP_SHAPE = re.compile(r"(?:1[ .-]?)?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}")
# Digits, spaces, dashes and parentheses, or groups split by two dots or slashes or more
# ("971.4.123.4567", "3333/2/6666"; one is a decimal or a fraction).
_PHONE_SHAPE = re.compile(r"[\d ()-]+|\d+(?:\.\d+){2,}|\d+(?:/\d+){2,}")
# An extension after a dash ("+86 20 6130-2222-8866"), after a number of eight digits or more.
_PHONE_CHARACTERS = re.compile(r"[\d ()-]+")
_INTERNATIONAL_DIGITS = (11, 13)  # a country code and a national number of 8 digits or more
_DASH_EXTENSION = re.compile(r"(.+\d)-\d{2,5}")
_SHORTEST_EXTENDED = 8
_LONGEST = 15  # digits of an E.164 number
_LONGEST_PARSED = 17  # phonenumbers.parse raises for a longer national number
# What phonenumbers.parse may read as (the start of) an extension, or an RFC 3966 parameter.
_EXTENSION_START = re.compile(r"[^\d\s()./+-]")
_MOBILE_DIGITS = (10, 11)
# Only numbers that are certainly mobile: in North America every number is "fixed line or
# mobile", and a bare ten-digit number there needs a cue as before.
_MOBILE_TYPE = phonenumbers.PhoneNumberType.MOBILE
# Where most of the world's mobile numbers are (regions of the defaults left out), and whether
# a bare national mobile number there is written with the national prefix ("0917...") or may go
# without ("138...", "532...", "916...").
_WORLD_REGIONS = (
    ("CN", False),
    ("ID", True),
    ("PK", True),
    ("NG", True),
    ("BD", True),
    ("RU", False),
    ("JP", True),
    ("PH", True),
    ("VN", True),
    ("TR", False),
    ("KR", True),
)


# Where a mobile number is written without the trunk prefix.
_PREFIX_OPTIONAL = frozenset(region for region, required in _WORLD_REGIONS if not required)


def language_regions(language: str, configured: Sequence[str]) -> tuple[str, ...]:
    """Regions to read a national number in, most likely first, one per country calling code."""
    return _language_regions(language, tuple(configured))


@lru_cache(maxsize=64)
def _language_regions(language: str, configured: tuple[str, ...]) -> tuple[str, ...]:
    base, _, region = language.replace("_", "-").partition("-")
    ordered = [region.upper()] if region else []
    ordered += [*_LANGUAGE_REGIONS.get(base.lower(), ()), *(r.upper() for r in configured)]
    seen_codes: set[int] = set()
    regions: list[str] = []
    for name in ordered:
        code = phonenumbers.country_code_for_region(name)
        if code and code not in seen_codes:
            seen_codes.add(code)
            regions.append(name)
    return tuple(regions)


def phone_score(
    raw: str,
    regions: Sequence[str],
    context: Context,
    *,
    listed: bool = False,
    whole: bool = True,
) -> float | None:
    """The confidence that ``raw`` is a phone number, or None if it is not one.

    Valid in a region of the text's language or the settings: scored by how it is written (a
    bare mobile number is enough, a bare fixed-line number needs a cue). Otherwise a redactor
    leans to recall, and a *phone-shaped* number is masked too: written with a country code
    (``+45 12 34 56 78``, ``(0045) ...``; after a bare ``00`` it must be valid) that
    phonenumbers finds possible; in the North American shape (``(123) 456-7890``) whatever its
    area code; any run of 7 to 15 digits, spaces, dashes and parentheses with a phone cue; a
    bare mobile number of a populous country (``0917...``, ``532...``).

    ``listed``: the number stands amid other numbers (a list, a table), which a national
    number needs a cue word to stand out from. ``whole``: ``raw`` is its whole run of digit
    groups; only then is a phone-shaped number taken (never a few groups out of a longer run).
    """
    if len(set(_digits(raw))) == 1:
        return None  # "999 999 999", "000-0000": one digit repeated is a placeholder
    number = _international(raw)
    valid = _valid_number(number, regions)
    if valid is None and whole:
        valid = _with_extension(number, regions)
    if valid is not None:
        if number.startswith("+"):
            base = _INTERNATIONAL
        elif not listed and any(not char.isdigit() for char in raw):
            base = _FORMATTED
        elif not listed and (
            phonenumbers.number_type(valid) == _MOBILE_TYPE or _is_mobile_elsewhere(raw)
        ):
            base = _MOBILE
        else:
            base = _BARE
    elif not whole:
        return None
    elif raw.startswith(("+", "(+", "(00")):
        if not _is_possible(number):
            return None
        base = _SHAPED
    elif _NANP_SHAPE.fullmatch(raw):
        base = _SHAPED
    elif not listed and _is_international_without_plus(raw):
        base = _MOBILE
    elif listed or not _PHONE_SHAPE.fullmatch(raw):
        return None  # "0.000000012", "16/04/2010": a decimal or a date, not a phone
    elif context.has(CUES):
        base = _CUED
    elif _is_mobile_elsewhere(raw):
        base = _MOBILE
    elif not raw.isdigit() and _valid_number(raw, regions, as_written=False) is not None:
        base = _SHAPED  # "130 692 545": valid only with a trunk prefix it lacks, yet phone-shaped
    else:
        return None
    return context.adjust(base, CUES)


def highest_score(raw: str, context: Context) -> float:
    """The most that phone_score can give ``raw`` in this context, without a parse: what a
    reading that scores better already has no need to ask."""
    national = max(_FORMATTED, _SHAPED, _MOBILE, _CUED, _BARE)
    return context.adjust(_INTERNATIONAL if _international(raw).startswith("+") else national, CUES)


def _is_international_without_plus(raw: str) -> bool:
    """A number written with its country code but no "+" or "00" ("353861234567",
    "55 (17) 6332-2155"): valid once a "+" is put before it, and either a mobile number or
    written with the country code as a group of its own."""
    digits = _digits(raw)
    if not _INTERNATIONAL_DIGITS[0] <= len(digits) <= _INTERNATIONAL_DIGITS[1]:
        return False
    if digits.startswith("0") or not _PHONE_CHARACTERS.fullmatch(raw):
        return False
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return False
    if not _is_valid(number):
        return False
    code = str(number.country_code)
    if raw.startswith(code) and not raw[len(code) : len(code) + 1].isdigit():
        return True
    return phonenumbers.number_type(number) == _MOBILE_TYPE


def _international(raw: str) -> str:
    """``raw`` with its country code written as ``+``: "(+45) ..." and "0045 ..." read "+45 ..."."""
    if raw.startswith("("):
        inner = raw[1:]
        if inner.startswith(("+", "00")):
            raw = inner.replace(")", "", 1)
    if raw.startswith("00") and not raw.startswith("000"):
        return "+" + raw[2:]
    return raw


def _valid_number(
    raw: str, regions: Sequence[str], *, as_written: bool = True
) -> phonenumbers.PhoneNumber | None:
    """The number ``raw`` is in the first region where it is valid; ``as_written``: and
    written as that region writes it (_written_as_in)."""
    if raw.startswith("+"):
        try:
            number = phonenumbers.parse(raw, None)
        except phonenumbers.NumberParseException:
            return None
        return number if _is_valid(number) else None
    digits = _digits(raw)
    plain = _plain(raw, digits)
    for region in regions:
        if as_written and not _written_as_in(digits, region):
            continue
        if plain and _valid_nowhere(digits, region):
            continue
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            return None
        if _is_valid(number) and (not as_written or _prefix_left_out_as_in(number, digits, region)):
            return number
    return None


def _is_valid(number: phonenumbers.PhoneNumber) -> bool:
    """phonenumbers.is_valid_number, answered at once for a national number of a length that
    no region of its country code has (is_valid_number asks each region for it in turn)."""
    lengths = _valid_lengths(number.country_code)
    if lengths and len(phonenumbers.national_significant_number(number)) not in lengths:
        return False
    return phonenumbers.is_valid_number(number)


@cache
def _valid_lengths(country_code: int) -> frozenset[int]:
    """The lengths of the valid national numbers of a country code (empty: not known)."""
    lengths: set[int] = set()
    for region in phonenumbers.region_codes_for_country_code(country_code):
        metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
            country_code, region
        )
        general = metadata.general_desc if metadata else None
        possible = general.possible_length if general else None
        if not possible or -1 in possible:
            return frozenset()
        lengths.update(possible)
    return frozenset(lengths)


def _plain(raw: str, digits: str) -> bool:
    """ASCII digits, and no character that phonenumbers may read as the start of an extension."""
    return digits.isascii() and _EXTENSION_START.search(raw) is None


def _valid_nowhere(digits: str, region: str) -> bool:
    """Whether ``phonenumbers.parse(raw, region)`` can only give a number that is valid nowhere,
    without raising, for a plain ``raw`` (ASCII digits, and no character that may start an
    extension) with these ``digits``. Its national number is the digits, or fewer once a
    national prefix or the country code is taken off; so it is known invalid if there are fewer
    digits than the country's shortest valid number, or, where the digits do not start with the
    country code, if no reading of its national prefix (none, or the prefix taken off as parse
    takes it off) fits a region of the country code (is_valid_number's first test). Never said
    of digits after the region's international prefix (any country's number)."""
    rules = _parse_rules(region)
    if rules is None or rules.international.match(digits):
        return False
    if len(digits) < rules.shortest:
        return True
    if digits.startswith(rules.code):
        return False
    return all(
        len(national) <= _LONGEST_PARSED and not rules.fits(national)
        for national in rules.readings(digits)
    )


@dataclass(frozen=True, slots=True)
class _ParseRules:
    """What phonenumbers.parse does with a region's national numbers, as _valid_nowhere needs it."""

    code: str  # the country code, which parse may take off a number that starts with it
    lengths: frozenset[int]  # of the valid national numbers of that code
    general: re.Pattern[str]  # any valid national number of that code fits it
    shortest: int  # 0 where a national prefix rule may add digits ("268\\1" in Antigua)
    international: re.Pattern[str]
    national_prefix: re.Pattern[str]
    transform: str  # how the national prefix is rewritten, if it is ("" where it is taken off)

    def fits(self, national: str) -> bool:
        return len(national) in self.lengths and self.general.fullmatch(national) is not None

    def readings(self, digits: str) -> tuple[str, ...]:
        """The national numbers parse may make of ``digits`` (with no country code taken off),
        as phonenumbers' _maybe_strip_national_prefix_carrier_code makes them."""
        prefix = self.national_prefix.match(digits)
        if prefix is None:
            return (digits,)
        if not self.transform or not prefix.groups() or prefix.groups()[-1] is None:
            return digits, digits[prefix.end() :]
        return digits, self.national_prefix.sub(self.transform, digits, count=1)


@cache
def _parse_rules(region: str) -> _ParseRules | None:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or not metadata.country_code:
        return None
    lengths = _valid_lengths(metadata.country_code)
    if not lengths:
        return None
    main = phonenumbers.PhoneMetadata.metadata_for_region(
        phonenumbers.region_code_for_country_code(metadata.country_code)
    )
    adds = any(
        m is None or _may_add_digits(m.national_prefix_transform_rule) for m in (metadata, main)
    )
    return _ParseRules(
        str(metadata.country_code),
        lengths,
        _general_pattern(metadata.country_code),
        0 if adds else min(lengths),
        re.compile(metadata.international_prefix or "(?!)"),
        re.compile(metadata.national_prefix_for_parsing or "(?!)"),
        metadata.national_prefix_transform_rule or "",
    )


def _general_pattern(country_code: int) -> re.Pattern[str]:
    """The general patterns of all regions of a country code, as one."""
    patterns = []
    for region in phonenumbers.region_codes_for_country_code(country_code):
        metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
            country_code, region
        )
        general = metadata.general_desc if metadata else None
        if general is None or general.national_number_pattern is None:
            return re.compile(r"\d*")  # not known: anything may fit
        patterns.append(f"(?:{general.national_number_pattern})")
    return re.compile("|".join(patterns))


def _may_add_digits(transform: str | None) -> bool:
    """A national prefix rule that writes more than one group of its match back ("9\\1")."""
    return bool(transform) and re.fullmatch(r"\\[1-9]", transform or "") is None


def has_phone_length(raw: str, digits: int) -> bool:
    """7 to 15 digits (E.164), or up to 15 followed by a dash extension."""
    if 7 <= digits <= _LONGEST:
        return True
    extended = _DASH_EXTENSION.fullmatch(raw)
    return extended is not None and len(_digits(extended[1])) <= _LONGEST


def _with_extension(raw: str, regions: Sequence[str]) -> phonenumbers.PhoneNumber | None:
    """The valid number before a dash extension that ends ``raw``, if it has one."""
    extended = _DASH_EXTENSION.fullmatch(raw)
    if extended is None or len(_digits(extended[1])) < _SHORTEST_EXTENDED:
        return None
    return _valid_number(extended[1], regions)


def _written_as_in(digits: str, region: str) -> bool:
    """Whether a national number may be written this way in ``region``: a number without the
    trunk prefix its country dials ("4159/0710" for 04159 0710, "130 692 545" in Ireland) is
    some other number, unless the country writes numbers of that kind without it (service
    numbers such as 1800..., every number in North America, mobiles in _PREFIX_OPTIONAL)."""
    prefix, without_prefix = _prefix_rules(region)
    if not prefix or digits.startswith(prefix) or region in _PREFIX_OPTIONAL:
        return True
    return without_prefix is not None and without_prefix.match(digits) is not None


def _prefix_left_out_as_in(number: phonenumbers.PhoneNumber, digits: str, region: str) -> bool:
    """Whether a valid number written without its region's trunk prefix is one that region
    writes so: its national format has no prefix either, or it is a mobile in _PREFIX_OPTIONAL."""
    prefix = _prefix_rules(region)[0]
    if not prefix or digits.startswith(prefix):
        return True
    if region in _PREFIX_OPTIONAL and phonenumbers.number_type(number) == _MOBILE_TYPE:
        return True
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return not _digits(national).startswith(prefix) or _digits(national) == digits


@cache
def _prefix_rules(region: str) -> tuple[str, re.Pattern[str] | None]:
    """A region's trunk prefix, and the leading digits of its numbers written without it."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        return "", None
    prefix = metadata.national_prefix or ""
    if not metadata.number_format:
        return prefix, re.compile("")
    leads = [
        f"(?:{f.leading_digits_pattern[0] if f.leading_digits_pattern else ''})"
        for f in metadata.number_format
        if prefix not in (f.national_prefix_formatting_rule or "")
    ]
    return prefix, re.compile("|".join(leads)) if leads else None


def _digits(raw: str) -> str:
    return "".join(char for char in raw if char.isdigit())


def _is_possible(raw: str) -> bool:
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(raw, None))
    except phonenumbers.NumberParseException:
        return False


def _is_mobile_elsewhere(raw: str) -> bool:
    """A bare mobile number of one of the most populous countries, by their mobile patterns
    (with or without the national prefix; no parse, which would cost one per country)."""
    digits = _digits(raw)
    if not _MOBILE_DIGITS[0] <= len(digits) <= _MOBILE_DIGITS[1]:
        return False
    for prefix, required, pattern in _world_mobiles():
        if prefix and digits.startswith(prefix):
            national = digits[len(prefix) :]
        elif required:
            continue
        else:
            national = digits
        if pattern.fullmatch(national):
            return True
    return False


@lru_cache(maxsize=1)
def _world_mobiles() -> tuple[tuple[str, bool, re.Pattern[str]], ...]:
    patterns = []
    for region, required in _WORLD_REGIONS:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        mobile = metadata.mobile.national_number_pattern if metadata and metadata.mobile else None
        if metadata is not None and mobile:
            prefix = metadata.national_prefix or ""
            patterns.append((prefix, required and bool(prefix), re.compile(mobile)))
    return tuple(patterns)
