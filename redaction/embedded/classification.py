"""From candidate to entity: validate a candidate's text and score it in its context."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from redaction.embedded import azure_secrets, dates, identifiers, national, network, phones
from redaction.embedded.candidates import MIN_GLUED_DIGITS, Candidate, cased_token, numeric_at
from redaction.embedded.context import Context, read_context
from redaction.embedded.identifiers import RuleSet
from redaction.entities import Entity

GPS = "EUGPSCoordinates"
_GPS_SCORE = 0.8
_GPS_PARTS = re.compile(r"([-+]?\d+\.\d+)°? ?([NS]?), ?([-+]?\d+\.\d+)°? ?([EW]?)")
_SSN_SHAPE = re.compile(r"\d{3}-\d\d-\d{4}")
# Groups of four split by spaces, or all by dashes or all by dots ("4012-8888-8888-1882").
_GROUPED = (
    r"\d{4}(?:(?:\s|\r\n)\d{4}){2,}(?:(?:\s|\r\n)\d{1,4})?"
    r"|\d{4}(?P<sep>[.-])\d{4}(?:(?P=sep)\d{4})+(?:(?P=sep)\d{1,4})?"
)
_GROUPS_OF_FOUR = re.compile(_GROUPED)
# ... with a group glued before or after them ("2/4111 1111 1111 1111", "... 1111/2"): read
# whole too, the glued groups left out.
_GLUED_GROUPS_OF_FOUR = re.compile(
    rf"(?:\d{{1,4}}[-/.])??(?P<core>{_GROUPED})(?:[-/.]\d+)*[^\W\d_]{{0,2}}"
)
_FOUR_GROUPS = re.compile(r"\d{4}(?:(?:\s|\r\n)\d{4}){3}|\d{4}([.-])\d{4}(?:\1\d{4}){2}")
_SPREAD = re.compile(r"[\t\r\n]")
_SPREAD_CARD = re.compile(r"\d{4}(?:\s+\d{4}){2}\s+\d{1,7}")
# Another group of four joined by a tab or a break: a column of numbers, not one number.
_SPREAD_BEFORE = re.compile(r"(?<!\d)\d{4}[\t\r\n]+\Z")
_SPREAD_AFTER = re.compile(r"[\t\r\n]+\d{4}(?!\d)")
_CARD_SCORE = 0.9
_CIDR = re.compile(r"(\d{1,3}(?:\.\d{1,3}){3})/\d{1,2}")
# A BIC of letters only is any upper-case word with a country code inside ("QUESTION"); only
# alone (a message that is just "DEUTDEFF") is it taken without a cue.
_ALONE_SWIFT_SCORE = 0.55
_WORD_CHARACTER = re.compile(r"[^\W_]")
_EXTENSION = re.compile(r" ?(?:x|ext\.?|extension) ?\d{1,6}(?![^\W_])", re.IGNORECASE)
_IBAN_SHAPED_SCORE = 0.6
# Pieces of a run: split at spaces, and around a parenthesis unless it closes on its piece.
_PIECE = re.compile(r"\([^\s()]*\)[^\s(]*|[^\s()]+\)?|[()]")
_MAX_PIECES = 8  # per window: enough for "2 95 10 99 126 111 93"
_MAX_WINDOW = 40
_MAX_CODE_WINDOW = 48  # the longest IBAN printed in groups of four
_MAX_CODE_PIECES = 10
_MIN_DIGITS = 6  # the shortest numeric value is a date such as 1/2/2024
_MIN_RUN_DIGITS = 4  # ... or an IP address such as 1.2.3.4
_OPEN_PAREN = re.compile(r"\(\d+(?:[\s.-]|$)")  # not "(415) 555..."
_IBAN_HEAD = re.compile(r"[A-Za-z]{2} ?\d\d")
_MAX_DIGITS = 19  # the longest is a card number
_HEX_TOKEN = 24
_HEX_DIGITS = "0123456789abcdefABCDEF-"
_HEX_RUN = re.compile(r"[0-9A-Fa-f-]*")
# Bytes written in hexadecimal, two digits a group ("00 10 00 31 46 D9 E9 11"): four groups or
# more, the digit groups among them; see _in_hex_bytes.
_HEX_BYTE_BEFORE = re.compile(r"(?:[0-9A-Fa-f]{2} )+\Z")
_HEX_BYTES = re.compile(r"[0-9A-Fa-f]{2}(?: [0-9A-Fa-f]{2})+(?![0-9A-Za-z])")
_HEX_BYTE_GROUPS = 4
# What no such dump holds anywhere (a character other than a hex digit or a space, three hex
# digits in a row, two spaces): a run that holds one is in none (most runs).
_NOT_HEX_BYTES = re.compile(r"[^0-9A-Fa-f ]|[0-9A-Fa-f]{3}|  ")
_BASE64_TOKEN = 32
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]*")
_BASE64_TAIL = re.compile(r"[A-Za-z0-9+/]+\Z")
_BASE64_LETTERS = 8  # of 32 characters or more: random base64 holds some 26
_TEXT_AFTER = 8
# A national phone number amid this many other numbers of its run is likely a list of numbers.
_LIST_PIECES = 2
_LISTED_SCORE = 0.6
# A number whose check digit holds is named by it, unless a cue or a "+" makes it a phone.
_CHECKED_MARGIN = 0.1  # ... and so does a number with one check digit and no cue

_DECIMALS = re.compile(r"(?<=\d{5})\.\d{1,2}\Z")  # after a whole part of five digits or more
# Groups glued after a value ("0100/1", "8915.5", "8915x"): the value may end before them.
_GLUED_SUFFIX = re.compile(r"(?<=\d)(?:(?:[/.]\d+)+(?:[^\W\d_]+)?|[^\W\d_]+)\Z")
_GLUED_GROUP = re.compile(r"(?<=\d)[/.]\d+\Z")  # ... or before the last of them only
_THOUSANDS = re.compile(r"\d{1,3}(?:[ ,']\d{3})+")  # "924 120 002": before decimals, a sum
_GLUE_HINT = re.compile(r"[/.]|[^\W\d_]\Z")  # a piece that may hold such groups
_GLUED_PREFIX = re.compile(r"\d([-/.])(?=\d)")  # a group glued before a value ("2/4111...")
_DATE_SHAPES = frozenset({"day_month_year", "day_year"})
# Values glued together by "/", "." or "-" ("4111.../5500...", "536-22-8915/536-22-8915"): each
# window between such separators is read on its own, kept only as a checked card number or SSN.
_GLUE_SEPARATOR = re.compile(r"(?<=\d)[-/.](?=\d)")
_MAX_GLUE_SEPARATORS = 8  # per piece: 81 windows at most
_GLUED_VALUE_DIGITS = (9, _MAX_DIGITS)  # an SSN .. the longest card number
_GLUED_VALUE_CATEGORIES = frozenset({identifiers.CARD, identifiers.SSN})
_WHOLE_PART = re.compile(r"\d+\Z")
# A message that is just one number: digit groups split by spaces, dots, dashes or slashes.
_BARE_NUMBER = re.compile(r"[\W_]*?(\d[\d\t ./-]*\d)[\W_]*")
_BARE_SEPARATORS = re.compile(r"[\t ./-]+")
_MAX_BARE_GROUPS = 8  # as many as a window of a run may have (_MAX_PIECES)
_DIGITS = re.compile(r"\d")
_CENTS = re.compile(r"\d{1,2}[-/]")
_NUMERIC_RULES = RuleSet(identifiers.NUMERIC_RULES + national.NUMERIC_RULES)
_CODE_RULES = RuleSet(identifiers.CODE_RULES + national.CODE_RULES)
_NINO_RULES = RuleSet(identifiers.CODE_RULES)
_SWIFT_RULES = RuleSet(identifiers.SWIFT_RULES)
_HETU_RULES = RuleSet(tuple(r for r in identifiers.NUMERIC_RULES if r.category == "FINationalID"))

CATEGORIES = (
    identifiers.CATEGORIES
    | national.CATEGORIES
    | azure_secrets.CATEGORIES
    | {GPS, dates.DATE, dates.DATE_OF_BIRTH, phones.CATEGORY}
    | {network.EMAIL, network.URL, network.IP}
)


@dataclass(frozen=True, slots=True)
class Scan:
    """What stays the same for every candidate of one text."""

    text: str  # folded (``folding``): what shapes are matched in
    regions: Sequence[str]
    min_score: float
    raw: str = ""  # as written: what context words are read in (CJK cues are folded away)

    @property
    def words(self) -> str:
        return self.raw or self.text


@dataclass(slots=True)  # not frozen: one is made per reading, and frozen makes that slower
class _Verdict:
    category: str
    score: float


class _Around:
    """What surrounds a window: the words near its run (read once, when first needed) and the
    run's pieces."""

    __slots__ = ("_context", "_end", "_start", "_text", "pieces")

    def __init__(self, text: str, start: int, end: int, pieces: list[tuple[int, int]]) -> None:
        self._text, self._start, self._end = text, start, end
        self._context: Context | None = None
        self.pieces = pieces

    @property
    def context(self) -> Context:
        if self._context is None:
            self._context = read_context(self._text, self._start, self._end)
        return self._context

    def cut_before_letters(self, text: str, end: int) -> bool:
        """Whether the window ends inside the run, right before a letter ("...1111|AB")."""
        return end < self._end and text[end].isalpha()

    def is_whole(self, start: int, end: int) -> bool:
        """Whether the window is the whole run."""
        return start == self._start and end == self._end

    def others(self, start: int, end: int) -> int:
        """How many pieces of the run lie outside the window."""
        return sum(1 for first, last in self.pieces if last <= start or first >= end)


_Judge = Callable[[Scan, int, int, _Around], "_Verdict | None"]


def classify(candidate: Candidate, scan: Scan) -> Iterator[Entity]:
    """The entities a candidate holds: usually none or one, two for a URL with a signature."""
    start, end = candidate.start, candidate.end
    if candidate.shape == "numeric":
        found = _classify_numeric(scan, candidate)
        yield from _bare_number(scan, candidate, found) or found
    elif candidate.shape in ("code", "iban"):
        yield from _classify_code(scan, candidate)
    elif candidate.shape == "cased_code":
        yield from _cased_code(scan, start, end)
    elif candidate.shape == "url":
        yield from _classify_url(scan, start, end)
    elif candidate.shape == "domain":
        end = network.url_end(scan.text, start, end)
        if network.is_bare_domain(scan.text[start:end]):
            yield Entity(start, end - start, network.URL, network.DOMAIN_SCORE)
    elif candidate.shape == "swift" and (iban := identifiers.glued_iban(scan.text, start, end)):
        yield from _glued_iban_entities(scan, *iban)  # "IBANDE89 3704 ...": no BIC
    else:
        verdict = _single_verdict(candidate.shape, scan, start, end)
        if verdict is not None and verdict.score >= scan.min_score:
            yield Entity(start, end - start, verdict.category, verdict.score)
        elif candidate.shape in _DATE_SHAPES:
            yield from _classify_after_date(scan, candidate)


def _bare_number(scan: Scan, candidate: Candidate, found: list[Entity]) -> list[Entity]:
    """A message that is just one number in digit groups spaced any way ("3   451  000  50
    5414", "4111 1111  1111 1111"): where the groups as read find nothing over the whole run,
    its digits are read together, as a number with a strong check only (no phone, no number
    that one in ten passes by chance)."""
    if _WORD_CHARACTER.search(scan.text, 0, candidate.start):
        return []
    bare = _BARE_NUMBER.fullmatch(scan.text)
    if bare is None or bare.start(1) != candidate.start:
        return []
    start, end = bare.span(1)
    if any(e.offset <= start and end <= e.end for e in found):
        return []
    if not 2 <= len(_BARE_SEPARATORS.split(bare[1])) <= _MAX_BARE_GROUPS:
        return []
    digits = "".join(_DIGITS.findall(bare[1]))
    context = _context(scan, start, end)
    for rule in _NUMERIC_RULES.of_length(len(digits)):
        if rule.base < national.CHECKED or not rule.shape.fullmatch(digits):
            continue
        if rule.is_valid(digits):
            return [Entity(start, end - start, rule.category, context.adjust(rule.base, rule.cues))]
    return []


def _classify_after_date(scan: Scan, candidate: Candidate) -> list[Entity]:
    """A date shape that holds no date ("use 01 0274 0139683 00": "use" is no month) gives
    its digits back: the run of digit groups from its first digit is read as numbers are."""
    digit = next((i for i in range(candidate.start, candidate.end) if scan.text[i].isdigit()), -1)
    numeric = numeric_at(scan.text, digit) if digit >= 0 else None
    return _classify_numeric(scan, numeric) if numeric is not None else []


def _single_verdict(shape: str, scan: Scan, start: int, end: int) -> _Verdict | None:
    value = scan.text[start:end]
    if shape == "email":
        return _Verdict(network.EMAIL, network.EMAIL_SCORE)
    if shape in ("day_month_year", "day_year"):
        return _date_verdict(
            dates.words_date_score(value, _context(scan, start, end)), scan, start, end
        )
    if shape == "hetu":
        return _best_rule(_HETU_RULES, value.upper(), _context(scan, start, end))
    if shape in ("nino", "swift"):
        rules = _NINO_RULES if shape == "nino" else _SWIFT_RULES
        verdict = _best_rule(rules, value, _context(scan, start, end))
        if shape == "swift" and verdict is not None and _alone(scan.text, start, end):
            return _Verdict(verdict.category, max(verdict.score, _ALONE_SWIFT_SCORE))
        return verdict
    if shape == "ipv6":
        if network.is_ip_address(value):
            context = _context(scan, start, end)
            return _Verdict(network.IP, context.adjust(network.IP_SCORE, network.IP_CUES))
        if network.is_unspecified_address(value):
            return _unspecified_verdict(scan, start, end, _context(scan, start, end))
        return None
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
    if end - start > len("www.") + 2 and network.is_url(scan.text[start:end]):
        yield Entity(start, end - start, network.URL, network.URL_SCORE)
    signature = network.sas_signature(scan.text[start:end])
    if signature is not None:
        sig_start, sig_end = signature
        yield Entity(
            start + sig_start, sig_end - sig_start, azure_secrets.SAS, azure_secrets.SECRET_SCORE
        )


def _classify_numeric(scan: Scan, candidate: Candidate) -> list[Entity]:
    start, end = candidate.start, candidate.end
    if scan.text.startswith("(", start) and _OPEN_PAREN.match(scan.text, start, end):
        start += 1  # "(4111 1111 1111 1111)": the parenthesis is not part of the number
    cidr = _CIDR.fullmatch(scan.text, start, end)
    if cidr is not None and network.is_ip_address(cidr[1]):  # "10.1.2.0/24": the address
        context = _context(scan, start, end)
        score = context.adjust(network.IP_SCORE, network.IP_CUES)
        return [Entity(start, len(cidr[1]), network.IP, score)] if score >= scan.min_score else []
    if candidate.glued:
        token = cased_token(scan.text, start)
        found = (_cased_code(scan, *token) if token else []) or _classify_glued_run(
            scan, start, end
        )
    elif _in_hex_bytes(scan.text, start, end):
        return []
    else:
        found = _classify_run(scan, start, end, _numeric_verdict)
    return [_with_extension(scan.text, entity, end) for entity in found]


def _with_extension(text: str, entity: Entity, end: int) -> Entity:
    """A phone number that ends its run takes its extension along ("...1482 ext. 63888")."""
    if entity.category != phones.CATEGORY or entity.end != end:
        return entity
    extension = _EXTENSION.match(text, end)
    if extension is None:
        return entity
    return Entity(entity.offset, extension.end() - entity.offset, entity.category, entity.score)


def _classify_glued_run(scan: Scan, start: int, end: int) -> list[Entity]:
    """A digit run glued to a word ("id_4111...", "a0 123-45-6789", "电话..." is not glued)."""
    to_letter = start > 0 and scan.text[start - 1].isalnum()
    fewest = MIN_GLUED_DIGITS if to_letter else _MIN_RUN_DIGITS  # "-10.0.0.1-" may be an IP
    if _digit_count(scan.text, start, end) < fewest or _in_hex_token(scan.text, start):
        return []

    def judge(scan: Scan, w_start: int, w_end: int, around: _Around) -> _Verdict | None:
        if w_start != start:
            return _numeric_verdict(scan, w_start, w_end, around)
        verdict = _numeric_verdict(scan, w_start, w_end, around, glued=to_letter)
        if to_letter and w_end > around.pieces[0][1]:  # "a0 123-45-6789", "x4539 1488..."
            # a token glued to a letter is read with the pieces after it only as a checked
            # card number or SSN
            return verdict if verdict and verdict.category in _GLUED_VALUE_CATEGORIES else None
        return verdict

    return _classify_run(scan, start, end, judge)


def _classify_code(scan: Scan, candidate: Candidate) -> list[Entity]:
    """A code (IBAN, VAT, fiscal code...); an IBAN with a wrong check sum is masked whole."""
    start, end = candidate.start, candidate.end
    if candidate.glued and _in_encoded_token(scan.text, start):
        return []
    token = cased_token(scan.text, start) if candidate.glued else None
    if token is not None and (cased := _cased_code(scan, *token)):
        return cased
    found = _classify_first(scan, start, end, _code_verdict)
    if not found and not candidate.glued and _IBAN_HEAD.match(scan.text, start):
        found = _classify_first(scan, start, end, _iban_shaped_verdict)
    if found:
        return found
    iban = identifiers.glued_iban(scan.text, start, end)
    if iban is not None:
        return _glued_iban_entities(scan, *iban)
    digit = next((i for i in range(start, end) if scan.text[i].isdigit()), end)
    if _digit_count(scan.text, digit, end) < _MIN_RUN_DIGITS or _in_hex_bytes(
        scan.text, digit, end
    ):
        return []
    if candidate.shape == "iban":  # lower case: what the digit run alone would have been
        return _classify_glued_run(scan, digit, end)
    return _classify_run(scan, digit, _run_end(scan.text, digit, end), _numeric_verdict)


def _cased_code(scan: Scan, start: int, end: int) -> list[Entity]:
    """A code written in lower or mixed case ("aaa123456", "AaA123456"), read as its upper case
    and taken only beside a cue word of its category ("Mi pasaporte es aaa123456")."""
    value = scan.text[start:end].upper()
    rules = [rule for rule in _CODE_RULES.of_length(len(value)) if rule.shape.fullmatch(value)]
    if not rules:
        return []
    context = _context(scan, start, end)
    for rule in rules:
        if rule.cues and context.has(rule.cues) and rule.is_valid(value):
            score = context.adjust(rule.base, rule.cues)
            if score >= scan.min_score:
                return [Entity(start, end - start, _code_category(rule, value), score)]
    return []


def _run_end(text: str, digit: int, end: int) -> int:
    """Where the digit run of a failed code ends: past the code where its last group has a
    letter glued after it ("AB4111 1111 1111 1111x": the code shape stops before "1111x")."""
    numeric = numeric_at(text, digit)
    if numeric is None or numeric.end <= end or not text[numeric.end - 1].isalpha():
        return end
    return numeric.end


def _glued_iban_entities(scan: Scan, start: int, end: int) -> list[Entity]:
    """An IBAN glued to letters ("IBANDE89...", "...0130 00x"), its check and length held."""
    rule = identifiers.IBAN_RULE
    score = _context(scan, start, end).adjust(rule.base, rule.cues)
    return [Entity(start, end - start, rule.category, score)] if score >= scan.min_score else []


def _classify_first(scan: Scan, start: int, end: int, judge: _Judge) -> list[Entity]:
    """The longest window that starts at ``start`` and holds, if any."""
    pieces = _pieces(scan.text, start, end)
    around = _Around(scan.words, start, end, pieces)
    ends = sorted(_ends(scan.text, pieces, 0, _MAX_CODE_WINDOW, _MAX_CODE_PIECES), reverse=True)
    for w_end in ends:
        verdict = judge(scan, start, w_end, around)
        if verdict is not None and verdict.score >= scan.min_score:
            return [Entity(start, w_end - start, verdict.category, verdict.score)]
    return []


def _classify_run(scan: Scan, start: int, end: int, judge: _Judge) -> list[Entity]:
    """Windows of space-separated pieces that hold, longest first, none overlapping another.

    The longest plausible reading wins, so that a number is masked whole rather than partly
    as something shorter.
    """
    if _digit_count(scan.text, start, end) < _MIN_RUN_DIGITS:
        return []
    pieces = _pieces(scan.text, start, end)
    if _GROUPS_OF_FOUR.fullmatch(scan.text, start, end):
        return _classify_grouped(scan, start, end, judge)
    glued = _GLUED_GROUPS_OF_FOUR.fullmatch(scan.text, start, end)
    if glued is not None:
        return _classify_grouped(scan, glued.start("core"), glued.end("core"), judge)
    around = _Around(scan.words, start, end, pieces)
    found: list[Entity] = []
    # longest first, then leftmost: (start - end, start) sorts as the windows are read
    for _, w_start, w_end in sorted((s - e, s, e) for s, e in _windows(scan.text, pieces)):
        if found and any(w_start < entity.end and entity.offset < w_end for entity in found):
            continue
        verdict = judge(scan, w_start, w_end, around)
        if verdict is not None and verdict.score >= scan.min_score:
            found.append(Entity(w_start, w_end - w_start, verdict.category, verdict.score))
    if _GLUE_SEPARATOR.search(scan.text, start, end):  # else no piece holds glued values
        for piece in pieces:
            found.extend(_glued_values(scan, piece, around, judge, found))
    if len(found) > 1:
        found.sort(key=lambda entity: entity.offset)
    return found


def _glued_values(
    scan: Scan, piece: tuple[int, int], around: _Around, judge: _Judge, found: list[Entity]
) -> list[Entity]:
    """Values glued together in one piece ("4111.../5500.../4539..."): the windows that start
    after a glue separator (or at the piece) and end before one (or at its end), longest first,
    kept only as a checked card number or SSN and overlapping nothing already found."""
    p_start, p_end = piece
    seps = [m.start() for m in _GLUE_SEPARATOR.finditer(scan.text, p_start, p_end)]
    if not seps or len(seps) > _MAX_GLUE_SEPARATORS:
        return []
    starts = [p_start, *(sep + 1 for sep in seps if not _starts_decimals(scan.text, sep, piece))]
    ends = [*seps, p_end]
    windows = sorted(
        ((s, e) for s in starts for e in ends if s < e and (s, e) != piece),
        key=lambda w: (w[0] - w[1], w[0]),
    )
    fewest, most = _GLUED_VALUE_DIGITS
    taken: list[Entity] = []
    for w_start, w_end in windows:
        if any(w_start < e.end and e.offset < w_end for e in (*found, *taken)):
            continue
        if not fewest <= _digit_count(scan.text, w_start, w_end) <= most:
            continue
        verdict = judge(scan, w_start, w_end, around)
        if (
            verdict is not None
            and verdict.category in _GLUED_VALUE_CATEGORIES
            and verdict.score >= scan.min_score
        ):
            taken.append(Entity(w_start, w_end - w_start, verdict.category, verdict.score))
    return taken


def _classify_grouped(scan: Scan, start: int, end: int, judge: _Judge) -> list[Entity]:
    """A number printed in groups of four (a card) is read whole, never split up; only a stray
    group after the fourth ("4111 1111 1111 1111 7") may be left out."""
    around = _Around(scan.words, start, end, [(start, end)])
    four = _FOUR_GROUPS.match(scan.text, start, end)
    for w_end in (end, four.end()) if four and four.end() < end else (end,):
        verdict = judge(scan, start, w_end, around)
        if verdict is not None and verdict.score >= scan.min_score:
            return [Entity(start, w_end - start, verdict.category, verdict.score)]
    return []


def _pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _PIECE.finditer(text, start, end)]


def _windows(text: str, pieces: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """Runs of whole pieces, and each one started after a group glued before its first piece
    (``_prefix_cut``), so that a prefix ("7-4477.2323...", "2/4111...") does not hide the value
    after it."""
    for first, (w_start, w_end) in enumerate(pieces):
        for end in _ends(text, pieces, first, _MAX_WINDOW, _MAX_PIECES):
            yield w_start, end
        cut = _prefix_cut(text, w_start, w_end, last=first == len(pieces) - 1)
        if cut:
            for end in _ends(
                text, [(cut, w_end), *pieces[first + 1 :]], 0, _MAX_WINDOW, _MAX_PIECES
            ):
                yield cut, end


def _prefix_cut(text: str, start: int, end: int, *, last: bool) -> int:
    """Where a piece goes on after a glued group before its value ("7-", "2/", "1." before
    "4111 ..."): after the first dash or slash between digits, or after a dot between digits
    unless what follows is dotted ("1.10.1.2.3": a version), in the run's last piece plain
    digits ("3.14159": a decimal), or cents before a dash or slash; 0 if none."""
    glue = _GLUED_PREFIX.search(text, start, end)
    if glue is None or (glue[1] == "." and _decimal_after_dot(text[glue.end() : end], last=last)):
        return 0
    return glue.end()


def _decimal_after_dot(rest: str, *, last: bool) -> bool:
    """Whether the dot is a decimal point: a version's dots follow, plain digits end the run, or
    one or two digits (cents) come before a dash or slash ("34894.84/90015072")."""
    return "." in rest or (last and rest.isdigit()) or _CENTS.match(rest) is not None


def _ends(
    text: str, pieces: list[tuple[int, int]], first: int, longest: int, most: int
) -> Iterator[int]:
    """Where windows from piece ``first`` end: after a whole piece, at the last dash of that
    piece, so that a suffix ("2671-5", "6789-R") does not hide the value before it, or before
    the decimals that end it ("536228915.25": a number written as a JSON float)."""
    w_start = pieces[first][0]
    for last_start, w_end in pieces[first : first + most]:
        if w_end - w_start > longest:
            break
        yield w_end
        last = max(w_start, last_start)
        cut = text.rfind("-", last, w_end)
        if cut > w_start and text[cut - 1].isdigit():
            yield cut
        # decimals end the piece: their dot is one of its last three characters
        dot = text.find(".", max(last, w_end - 3), w_end)
        decimals = _DECIMALS.search(text, last, w_end) if dot >= 0 else None
        if decimals is not None and decimals.start() > w_start:
            yield decimals.start()
        if _GLUE_HINT.search(text, last, w_end):
            yield from _suffix_cuts(text, w_start, last, w_end)


def _suffix_cuts(text: str, w_start: int, last_start: int, w_end: int) -> Iterator[int]:
    """Where a window ends before groups glued after its value ("0100/1", "8915.25", "8915x"):
    before all of them, or before the last; never where a dot would leave a dotted or
    thousands-grouped number ("10.1.2.3.5", "924 120 002.56") or a plain run of digits. A plain
    run cut before letters is read only as a checked value (``_before_letters_verdict``)."""
    for pattern in (_GLUED_SUFFIX, _GLUED_GROUP):
        suffix = pattern.search(text, last_start, w_end)
        if suffix is None or suffix.start() <= w_start:
            continue
        head, glue = text[w_start : suffix.start()], text[suffix.start()]
        if glue == "." and head.isdigit():
            continue  # "12345678.125": decimals
        if glue == "." and ("." in head or _THOUSANDS.fullmatch(head)):
            continue
        yield suffix.start()


def _starts_decimals(text: str, sep: int, piece: tuple[int, int]) -> bool:
    """Whether a separator is the dot of a decimal: plain digits after it to the piece's end,
    and a whole part shorter than a value before it ("0.4111111111111111", "pi 3.14159")."""
    if text[sep] != "." or not text[sep + 1 : piece[1]].isdigit():
        return False
    whole = _WHOLE_PART.search(text, piece[0], sep)
    return whole is not None and len(whole[0]) < _GLUED_VALUE_DIGITS[0]


def _digit_count(text: str, start: int, end: int) -> int:
    return sum(map(str.isdigit, text[start:end]))


def _in_encoded_token(text: str, start: int) -> bool:
    """A code glued inside a long base64 token (a key, a blob) is not a value of its own; a run
    of digits with a letter or two glued in ("4111...xy5500...") is values glued together:
    an encoded token is mostly letters."""
    head = _BASE64_TAIL.search(text, max(0, start - _BASE64_TOKEN), start)
    tail = _BASE64_RUN.match(text, start)
    lead = start - head.start() if head else 0
    if tail is None or lead + tail.end() - start < _BASE64_TOKEN:
        return False
    token = text[start - lead : tail.end()]
    return sum(map(str.isalpha, token)) >= _BASE64_LETTERS


def _in_hex_token(text: str, start: int) -> bool:
    """A digit run inside a long hexadecimal token (a hash, a UUID) is not a value of its own."""
    head = text[max(0, start - _HEX_TOKEN) : start]
    lead = len(head) - len(head.rstrip(_HEX_DIGITS))
    tail = _HEX_RUN.match(text, start)
    return tail is not None and lead + tail.end() - start >= _HEX_TOKEN


def _in_hex_bytes(text: str, start: int, end: int) -> bool:
    """Digit groups that belong to a dump of bytes in hexadecimal (a packet, a register), which
    a group with a letter after them gives away, or two before them (one may be a word: "DE 06
    12 34 56 78")."""
    if _NOT_HEX_BYTES.search(text, start, end):
        return False  # the dump would cover the run
    head = _HEX_BYTE_BEFORE.search(text, max(0, start - 3 * _MAX_PIECES), start)
    begin = head.start() if head else start
    dump = _HEX_BYTES.match(text, begin)
    if dump is None or dump.end() < end or (begin > 0 and text[begin - 1].isalnum()):
        return False
    if len(dump.group().split(" ")) < _HEX_BYTE_GROUPS:
        return False
    before = sum(not group.isdigit() for group in text[begin:start].split())
    after = sum(not group.isdigit() for group in text[end : dump.end()].split())
    return after > 0 or before >= 2


def _numeric_verdict(
    scan: Scan, start: int, end: int, around: _Around, *, glued: bool = False
) -> _Verdict | None:
    """What a window of digit groups is; one glued to a letter is never a date or an IP address."""
    value = scan.text[start:end]
    if around.cut_before_letters(scan.text, end) and value.isdigit():
        return _before_letters_verdict(value, around.context)
    digits = _digit_count(scan.text, start, end)
    if not _MIN_DIGITS <= digits <= _MAX_DIGITS:
        if glued or digits < 4 or value.count(".") != 3:
            return None  # no IP address either (_ip_verdict): no need to read the context
        return _ip_verdict(value, around.context) or _unspecified_verdict(
            scan, start, end, around.context
        )
    context = around.context
    if _SPREAD.search(value):
        return _spread_card_verdict(scan.text, start, end, context)
    if not glued:
        if dates.is_timestamp(value, scan.text[end : end + _TEXT_AFTER]):
            return None
        dated = _ip_verdict(value, context) or _date_verdict(
            dates.numeric_date_score(value, context), scan, start, end, context
        )
        if dated is not None:
            return dated
    if network.is_dotted_quad(value):
        return None  # "137.132.10.01", "0.256.0.256": shaped as an IP address, and not one
    # A reading scored below the floor is never kept, raised (alone) or weighed against a
    # phone reading otherwise than no reading at all: its check need not run.
    floor = min(national.SHORT, scan.min_score - _CHECKED_MARGIN)
    best = _best_rule(_NUMERIC_RULES, value, context, floor)
    alone_short = best is not None and national.SHORT <= best.score < scan.min_score
    if best is not None and alone_short and _alone(scan.text, start, end):
        best = _Verdict(best.category, scan.min_score)  # a message that is just the number
    listed = around.others(start, end) >= _LIST_PIECES
    if best is not None and best.score < _LISTED_SCORE and listed:
        best = None  # amid other numbers, a weakly checked number needs a cue
    if (
        phones.has_phone_length(value, digits)
        and not _SSN_SHAPE.fullmatch(value)
        and (best is None or best.score < 0.8)
        and not any(char.isalpha() for char in value)
    ):
        if listed and not value.startswith(("+", "00")) and not context.has(phones.CUES):
            return best  # a bare national number needs a cue: no need to parse it
        highest = phones.highest_score(value, context)
        if highest < scan.min_score or (
            best is not None and highest <= best.score + _CHECKED_MARGIN
        ):
            return best  # no phone reading could be kept, or outscore the checked number
        score = phones.phone_score(
            value, scan.regions, context, listed=listed, whole=around.is_whole(start, end)
        )
        if score is not None and (best is None or score > best.score + _CHECKED_MARGIN):
            return _Verdict(phones.CATEGORY, score)
    return best


def _before_letters_verdict(value: str, context: Context) -> _Verdict | None:
    """A plain run of digits cut from the letters glued after it ("4111111111111111AB"): a
    card number, or an SSN beside its cue; a code such as "52824753556AF" otherwise."""
    for rule, needs_cue in identifiers.BEFORE_LETTERS_RULES:
        if not rule.shape.fullmatch(value) or not rule.is_valid(value):
            continue
        if not needs_cue or context.has(rule.cues):
            return _Verdict(rule.category, context.adjust(rule.base, rule.cues))
    return None


def _ip_verdict(value: str, context: Context) -> _Verdict | None:
    if value.count(".") == 3 and network.is_ip_address(value):
        return _Verdict(network.IP, context.adjust(network.IP_SCORE, network.IP_CUES))
    return None


def _unspecified_verdict(scan: Scan, start: int, end: int, context: Context) -> _Verdict | None:
    """The unspecified address ("0.0.0.0", "::") where the words call it an IP address ("my
    IP is 0.0.0.0", "IPv6 地址是 ::") or it is the whole message; a server's "listening on
    0.0.0.0:8080" is left alone."""
    value = scan.text[start:end]
    if not network.is_unspecified_address(value):
        return None
    if network.names_an_address(context.window) or _alone(scan.text, start, end):
        return _Verdict(network.IP, network.IP_SCORE)
    return None


def _spread_card_verdict(text: str, start: int, end: int, context: Context) -> _Verdict | None:
    """Digit groups split by tabs or line breaks: only a card number in groups of four counts,
    and only where no more groups follow or precede it that way (a column of numbers)."""
    value = text[start:end]
    if _SPREAD_BEFORE.search(text, max(0, start - 7), start) or _SPREAD_AFTER.match(text, end):
        return None
    if _SPREAD_CARD.fullmatch(value) and identifiers.is_card_number(value):
        return _Verdict(identifiers.CARD, context.adjust(_CARD_SCORE, identifiers.CARD_CUES))
    return None


def _iban_shaped_verdict(scan: Scan, start: int, end: int, around: _Around) -> _Verdict | None:
    if not identifiers.is_iban_shaped(scan.text[start:end]):
        return None
    rule = identifiers.IBAN_RULE
    return _Verdict(rule.category, around.context.adjust(_IBAN_SHAPED_SCORE, rule.cues))


def _code_verdict(scan: Scan, start: int, end: int, around: _Around) -> _Verdict | None:
    return _best_rule(_CODE_RULES, scan.text[start:end], around.context)


def _best_rule(rules: RuleSet, value: str, context: Context, floor: float = 0.0) -> _Verdict | None:
    """The highest-scoring rule whose shape and check hold (the first listed among equals);
    checks are run best score first and stop at the first that holds, or at a score below
    ``floor`` (None then: the caller treats such a reading as none)."""
    shaped = [
        (context.adjust(rule.base, rule.cues), rule)
        for rule in rules.of_length(len(value))
        if rule.shape.fullmatch(value)
    ]
    if len(shaped) > 1:  # a stable sort: the first listed among equals stays first
        shaped.sort(key=lambda scored: -scored[0])
    for score, rule in shaped:
        if score < floor:
            return None
        if rule.is_valid(value):
            return _Verdict(_code_category(rule, value), score)
    return None


def _code_category(rule: identifiers.Rule, value: str) -> str:
    """The rule's category; a VAT number's is named by its country."""
    if rule.category == "EUTaxIdentificationNumber":
        return identifiers.vat_category(value)
    return rule.category


def _date_verdict(
    score: float | None, scan: Scan, start: int, end: int, context: Context | None = None
) -> _Verdict | None:
    if score is None:
        return None
    context = context or _context(scan, start, end)
    return _Verdict(dates.birth_category(context), score)


def _alone(text: str, start: int, end: int) -> bool:
    """Nothing but spaces and punctuation shares the text with ``text[start:end]``."""
    return not _WORD_CHARACTER.search(text, 0, start) and not _WORD_CHARACTER.search(text, end)


def _is_coordinate_pair(value: str) -> bool:
    parts = _GPS_PARTS.fullmatch(value)
    if parts is None:
        return False
    latitude, longitude = float(parts[1]), float(parts[3])
    return abs(latitude) <= 90 and abs(longitude) <= 180


def _context(scan: Scan, start: int, end: int) -> Context:
    return read_context(scan.words, start, end)
