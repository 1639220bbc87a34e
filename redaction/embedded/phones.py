"""Phone numbers: one parse per candidate with phonenumbers, regions from language and settings."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import phonenumbers

from redaction.embedded.context import Context, cues

CATEGORY = "PhoneNumber"
CUES = cues(
    "phone tel telephone call mobile cell cellphone fax whatsapp sms text ring reach dial "
    "contact handy telefon telefonnummer rufnummer mobil anrufen téléphone portable appeler "
    "appelez teléfono móvil llamar telefono cellulare chiamare telefoon bellen mobiel puhelin "
    "ring_me phone_number"
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
}

_INTERNATIONAL = 0.85
_FORMATTED = 0.65
_BARE = 0.4


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
    raw: str, regions: Sequence[str], context: Context, *, listed: bool = False
) -> float | None:
    """The confidence that ``raw`` is a phone number, or None if no region reads it as valid.

    ``listed``: the number stands amid other numbers (a list, a table), which a national
    number needs a cue word to stand out from.
    """
    if not _is_valid(raw, regions):
        return None
    if raw.startswith(("+", "00")):
        base = _INTERNATIONAL
    elif not listed and any(not char.isdigit() for char in raw):
        base = _FORMATTED
    else:
        base = _BARE
    return context.adjust(base, CUES)


def _is_valid(raw: str, regions: Sequence[str]) -> bool:
    tried = (None,) if raw.startswith("+") else regions
    for region in tried:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            return False
        if phonenumbers.is_valid_number(number):
            return True
    return False
