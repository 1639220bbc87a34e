"""Calendar dates, checked with ``datetime``; a cue such as "born" or "DOB" makes a DateOfBirth."""

from __future__ import annotations

import re
from datetime import date

from redaction.embedded.context import Context, cues

DATE = "Date"
DATE_OF_BIRTH = "DateOfBirth"
BIRTH_CUES = cues(
    "born dob d.o.b birthday birthdate date_of_birth birth_date geboren geburtsdatum "
    "geburtstag né née naissance date_de_naissance nacimiento fecha_de_nacimiento nato nata "
    "geboortedatum"
)
_NUMERIC_SCORE = 0.75
_WORDS_SCORE = 0.85
_BIRTH_SCORE = 0.9

_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)|(\d{4})/(\d\d)/(\d\d)")
_DAY_FIRST = re.compile(r"(\d{1,2})([./-])(\d{1,2})\2(\d{4})")
_STAMP = re.compile(r"(\d{4}-\d\d-\d\d|\d{1,2}[./-]\d{1,2}[./-]\d{4})( \d{1,2})?")
_TIME_AFTER = re.compile(r"T\d|,? \d{1,2}:\d\d")
_WORDS = re.compile(
    r"(?:(\d{1,2})(?:st|nd|rd|th)?\.? ([^\W\d_]+)|([^\W\d_]+)\.? (\d{1,2})"
    r"(?:st|nd|rd|th)?),? (\d{4})"
)

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            "january jan januar janvier enero gennaio januari",
            "february feb februar février fevrier febrero febbraio februari",
            "march mar märz maerz mars marzo maart",
            "april apr avril abril aprile",
            "may mai mayo maggio mei",
            "june jun juni juin junio giugno",
            "july jul juli juillet julio luglio",
            "august aug août aout agosto augustus",
            "september sep sept septembre septiembre settembre",
            "october oct oktober octobre octubre ottobre",
            "november nov novembre noviembre",
            "december dec dezember décembre decembre diciembre dicembre",
        ),
        start=1,
    )
    for name in names.split()
}


def is_timestamp(value: str, text_after: str) -> bool:
    """A date followed by a time: a timestamp (logs, records), not personal data on its own.

    ``value`` may already hold the hour ("2024-03-05 10"), with the minutes in ``text_after``.
    """
    stamp = _STAMP.fullmatch(value)
    if stamp is None or not _is_numeric_date(stamp[1]):
        return False
    if stamp[2]:
        return text_after.startswith(":")
    return _TIME_AFTER.match(text_after) is not None


def numeric_date_score(value: str, context: Context) -> float | None:
    """Score of a date written in digits (ISO, day-first or US month-first), None if not one."""
    if not _is_numeric_date(value):
        return None
    return _scored(_NUMERIC_SCORE, context)


def words_date_score(value: str, context: Context) -> float | None:
    """Score of a date with a month name ("5 March 1984", "March 5, 1984"), None if not one."""
    match = _WORDS.fullmatch(value)
    if match is None:
        return None
    day, month_name = (match[1], match[2]) if match[1] else (match[4], match[3])
    month = _MONTHS.get(month_name.lower())
    if month is None or not _exists(int(match[5]), month, int(day)):
        return None
    return _scored(_WORDS_SCORE, context)


def birth_category(context: Context) -> str:
    return DATE_OF_BIRTH if context.has(BIRTH_CUES) else DATE


def _scored(base: float, context: Context) -> float:
    return _BIRTH_SCORE if context.has(BIRTH_CUES) else context.adjust(base, frozenset())


def _is_numeric_date(value: str) -> bool:
    iso = _ISO.fullmatch(value)
    if iso:
        year, month, day = (int(part) for part in iso.groups() if part)
        return _exists(year, month, day)
    parts = _DAY_FIRST.fullmatch(value)
    if parts is None:
        return False
    first, second, year = int(parts[1]), int(parts[3]), int(parts[4])
    return _exists(year, second, first) or (parts[2] != "." and _exists(year, first, second))


def _exists(year: int, month: int, day: int) -> bool:
    if not 1900 <= year <= 2100:
        return False
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True
