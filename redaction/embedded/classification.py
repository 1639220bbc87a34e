"""From candidate to entity: validate a candidate's text and score it in its context."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from redaction.embedded import azure_secrets, dates, identifiers, network, phones
from redaction.embedded.candidates import Candidate
from redaction.embedded.context import Context, read_context
from redaction.embedded.identifiers import Rule
from redaction.entities import Entity

GPS = "EUGPSCoordinates"
_GPS_SCORE = 0.8
_GPS_PARTS = re.compile(r"([-+]?\d+\.\d+)°? ?([NS]?), ?([-+]?\d+\.\d+)°? ?([EW]?)")
_SSN_SHAPE = re.compile(r"\d{3}-\d\d-\d{4}")
_GROUPS_OF_FOUR = re.compile(r"\d{4}(?: \d{4}){2,}(?: \d{1,4})?")
_PIECE = re.compile(r"\S+")
_MAX_PIECES = 12
_MAX_WINDOW = 40
_TEXT_AFTER = 8

CATEGORIES = (
    identifiers.CATEGORIES
    | azure_secrets.CATEGORIES
    | {GPS, dates.DATE, dates.DATE_OF_BIRTH, phones.CATEGORY}
    | {network.EMAIL, network.URL, network.IP}
)


@dataclass(frozen=True, slots=True)
class Scan:
    """What stays the same for every candidate of one text."""

    text: str
    regions: Sequence[str]
    min_score: float


@dataclass(frozen=True, slots=True)
class _Verdict:
    category: str
    score: float


_Judge = Callable[[Scan, int, int, Context], "_Verdict | None"]


def classify(candidate: Candidate, scan: Scan) -> Iterator[Entity]:
    """The entities a candidate holds: usually none or one, two for a URL with a signature."""
    start, end = candidate.start, candidate.end
    if candidate.shape == "numeric":
        yield from _classify_run(scan, start, end, _numeric_verdict)
    elif candidate.shape == "code":
        yield from _classify_code(scan, start, end)
    elif candidate.shape == "url":
        yield from _classify_url(scan, start, end)
    else:
        verdict = _single_verdict(candidate.shape, scan, start, end)
        if verdict is not None and verdict.score >= scan.min_score:
            yield Entity(start, end - start, verdict.category, verdict.score)


def _single_verdict(shape: str, scan: Scan, start: int, end: int) -> _Verdict | None:
    value = scan.text[start:end]
    if shape == "email":
        return _Verdict(network.EMAIL, network.EMAIL_SCORE)
    if shape in ("day_month_year", "day_year"):
        return _date_verdict(
            dates.words_date_score(value, _context(scan, start, end)), scan, start, end
        )
    if shape in ("nino", "swift"):
        rules = identifiers.CODE_RULES if shape == "nino" else identifiers.SWIFT_RULES
        return _best_rule(rules, value, _context(scan, start, end))
    if shape == "ipv6":
        if not network.is_ip_address(value):
            return None
        return _Verdict(
            network.IP, _context(scan, start, end).adjust(network.IP_SCORE, network.IP_CUES)
        )
    if shape == "gps":
        return _Verdict(GPS, _GPS_SCORE) if _is_coordinate_pair(value) else None
    return _secret_verdict(shape, value, scan, start, end)


def _secret_verdict(shape: str, value: str, scan: Scan, start: int, end: int) -> _Verdict | None:
    if shape == "connection":
        category = azure_secrets.connection_category(value)
    elif shape == "redis":
        category = azure_secrets.REDIS
    elif shape == "sas":
        category = azure_secrets.SAS
    elif shape == "base64_key":
        category = azure_secrets.storage_key_category(_context(scan, start, end))
    else:
        category = None
    return _Verdict(category, azure_secrets.SECRET_SCORE) if category else None


def _classify_url(scan: Scan, start: int, end: int) -> Iterator[Entity]:
    end = network.url_end(scan.text, start, end)
    if end - start > len("www.") + 2:
        yield Entity(start, end - start, network.URL, network.URL_SCORE)
    signature = network.sas_signature(scan.text[start:end])
    if signature is not None:
        sig_start, sig_end = signature
        yield Entity(
            start + sig_start, sig_end - sig_start, azure_secrets.SAS, azure_secrets.SECRET_SCORE
        )


def _classify_code(scan: Scan, start: int, end: int) -> Iterator[Entity]:
    found = list(_classify_run(scan, start, end, _code_verdict, from_first_only=True))
    if found:
        yield from found
        return
    digit = next((i for i in range(start, end) if scan.text[i].isdigit()), end)
    yield from _classify_run(scan, digit, end, _numeric_verdict)


def _classify_run(
    scan: Scan, start: int, end: int, judge: _Judge, *, from_first_only: bool = False
) -> Iterator[Entity]:
    """Tries windows of space-separated pieces, longest first, and keeps the first that holds."""
    pieces = [(m.start() + start, m.end() + start) for m in _PIECE.finditer(scan.text[start:end])]
    pieces = pieces[:_MAX_PIECES]
    if _GROUPS_OF_FOUR.fullmatch(scan.text, start, end):
        pieces = [(start, end)]  # one number printed in groups (a card): never split it up
    context = _context(scan, start, end)
    first = 0
    while first < len(pieces):
        hit = _longest_window(scan, pieces, first, judge, context)
        if hit is not None:
            yield hit
            first = next(i for i, piece in enumerate(pieces) if piece[1] == hit.end) + 1
        elif from_first_only:
            return
        else:
            first += 1


def _longest_window(
    scan: Scan, pieces: list[tuple[int, int]], first: int, judge: _Judge, context: Context
) -> Entity | None:
    start = pieces[first][0]
    for last in range(len(pieces) - 1, first - 1, -1):
        end = pieces[last][1]
        if end - start > _MAX_WINDOW:
            continue
        verdict = judge(scan, start, end, context)
        if verdict is not None and verdict.score >= scan.min_score:
            return Entity(start, end - start, verdict.category, verdict.score)
    return None


def _numeric_verdict(scan: Scan, start: int, end: int, context: Context) -> _Verdict | None:
    value = scan.text[start:end]
    if value.count(".") == 3 and network.is_ip_address(value):
        return _Verdict(network.IP, context.adjust(network.IP_SCORE, network.IP_CUES))
    if dates.is_timestamp(value, scan.text[end : end + _TEXT_AFTER]):
        return None
    date_verdict = _date_verdict(
        dates.numeric_date_score(value, context), scan, start, end, context
    )
    if date_verdict is not None:
        return date_verdict
    best = _best_rule(identifiers.NUMERIC_RULES, value, context)
    digits = sum(char.isdigit() for char in value)
    if 7 <= digits <= 15 and not _SSN_SHAPE.fullmatch(value) and (best is None or best.score < 0.8):
        score = phones.phone_score(value, scan.regions, context)
        if score is not None and (best is None or score > best.score):
            return _Verdict(phones.CATEGORY, score)
    return best


def _code_verdict(scan: Scan, start: int, end: int, context: Context) -> _Verdict | None:
    return _best_rule(identifiers.CODE_RULES, scan.text[start:end], context)


def _best_rule(rules: Sequence[Rule], value: str, context: Context) -> _Verdict | None:
    best: _Verdict | None = None
    for rule in rules:
        if not rule.shape.fullmatch(value) or not rule.is_valid(value):
            continue
        score = context.adjust(rule.base, rule.cues)
        if best is None or score > best.score:
            category = rule.category
            if category == "EUTaxIdentificationNumber":
                category = identifiers.vat_category(value)
            best = _Verdict(category, score)
    return best


def _date_verdict(
    score: float | None, scan: Scan, start: int, end: int, context: Context | None = None
) -> _Verdict | None:
    if score is None:
        return None
    context = context or _context(scan, start, end)
    return _Verdict(dates.birth_category(context), score)


def _is_coordinate_pair(value: str) -> bool:
    parts = _GPS_PARTS.fullmatch(value)
    if parts is None:
        return False
    latitude, longitude = float(parts[1]), float(parts[3])
    return abs(latitude) <= 90 and abs(longitude) <= 180


def _context(scan: Scan, start: int, end: int) -> Context:
    return read_context(scan.text, start, end)
