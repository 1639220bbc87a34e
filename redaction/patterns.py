"""Caller-written regular expressions: compiled with RE2, screened together, run within a budget.

Tenants' patterns are hostile input, so they run on RE2 (google-re2), not a backtracking engine:

- One search is linear in the text whatever the pattern; backreferences and lookarounds, the
  features that need backtracking, do not compile and are refused as a 400.
- ``re2.Set`` tells in one pass over a text which of all the patterns match in it, so a policy
  with 50 patterns costs one scan per text, plus ``finditer`` of the few that hit.

What RE2 still allows is a pattern that matches often but scans far ahead each time
(``a(?:.*Z)?`` on ``aaaa...``): ``finditer`` is then quadratic. ``compile_scan_pattern`` probes
each pattern for that growth and refuses it; ``PatternSet.find`` checks a budget between matches
and reports the text as not scanned when it runs out, so a miss of the probe costs time, never
coverage. Messages of ``PatternError`` never quote the pattern.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import re2  # type: ignore[import-untyped]

Clock = Callable[[], float]
Span = tuple[int, int]

PATTERN_MAX_MEM = 1 << 20
SET_MAX_MEM = 32 << 20
# Always matches: a Set answer without it means RE2's DFA gave up and the answer is unusable.
_SENTINEL = "(?s:.*)"

# RE2's error strings start with a fixed kind, then quote the pattern: only the kind is used.
_PROBLEMS = {
    "invalid perl operator": "uses lookaround, an atomic group or another construct RE2 refuses",
    "invalid escape sequence": "uses an unsupported escape (backreferences are not supported)",
    "pattern too large - compile failed": "compiles to a program larger than the limit",
    "invalid repetition size": "repeats more than 1000 times",
    "bad repetition operator": "has a misplaced repetition (no possessive quantifiers)",
    "missing )": "has unbalanced parentheses",
    "unexpected )": "has unbalanced parentheses",
    "missing ]": "has an unterminated character class",
    "trailing \\": "ends with a backslash",
    "invalid character class range": "has an invalid character class",
    "invalid character class": "has an invalid character class",
    "bad character class range": "has an invalid character class",
    "invalid named capture group": "has an invalid group name",
    "duplicate capture group name": "repeats a group name",
    "missing argument to repetition operator": "repeats nothing",
}


class PatternError(ValueError):
    """A pattern cannot be used; the message says why without quoting it."""


def compile_pattern(pattern: str) -> Any:
    """``pattern`` compiled by RE2 (no captures: only spans are used)."""
    if _has_byte_escape(pattern):
        raise PatternError(r"uses \C, which can split a character")
    try:
        return re2.compile(pattern, _options(PATTERN_MAX_MEM))
    except re2.error as error:
        raise PatternError(_problem(error)) from None


def compile_scan_pattern(pattern: str) -> Any:
    """A pattern for finding spans in text: it must not match empty text or scan ahead."""
    compiled = compile_pattern(pattern)
    if compiled.search("") is not None or any(
        m.start() == m.end() for m in _first_matches(compiled, "a1 -.", 16)
    ):
        raise PatternError("matches empty text")
    if scans_ahead(compiled, pattern):
        raise PatternError("takes time that grows with the text at every match (scans ahead)")
    return compiled


# ---- the scan-ahead probe ------------------------------------------------------------------

_PROBE_SEEDS = ("a", "A", "1", " ", "-", ".", "_", "@", "/", "\n", "aA1-. _@/")
_SHORT = 1_000
_LONG = 256_000
_MATCHES = 32
_TRIES = 3
_GROWTH = 10.0
_SLACK_S = 0.002
_LITERAL_RUN = re.compile(r"(?<!\\)[^\\.^$*+?()\[\]{}|\s]{1,16}")


def scans_ahead(compiled: Any, pattern: str, clock: Clock = time.perf_counter) -> bool:
    """True if reaching the first matches takes much longer in a long text than in a short one.

    A linear pattern finds its first few matches in the same time whatever follows them; one
    that looks far ahead at each match slows down with the text after it. Rechecked up to
    ``_TRIES`` times before refusing, so a pause of the machine alone does not refuse."""
    for seed in _probe_seeds(pattern):
        for _ in range(_TRIES):
            if not _grows(compiled, seed, clock):
                break
        else:
            return True
    return False


def _probe_seeds(pattern: str) -> list[str]:
    literals = _LITERAL_RUN.findall(pattern)[:8]
    return [*_PROBE_SEEDS, *dict.fromkeys(literals), "".join(literals)[:64] or "a"]


def _grows(compiled: Any, seed: str, clock: Clock) -> bool:
    short_time, short_count = _time_matches(compiled, seed * max(1, _SHORT // len(seed)), clock)
    if short_count < _MATCHES:  # few matches cannot add up to much scanning
        return False
    long_time, long_count = _time_matches(compiled, seed * max(1, _LONG // len(seed)), clock)
    return long_count >= _MATCHES and long_time > _GROWTH * short_time + _SLACK_S


def _time_matches(compiled: Any, text: str, clock: Clock) -> tuple[float, int]:
    started = clock()
    count = len(_first_matches(compiled, text, _MATCHES))
    return clock() - started, count


def _first_matches(compiled: Any, text: str, limit: int) -> list[Any]:
    found: list[Any] = []
    for match in compiled.finditer(text):
        found.append(match)
        if len(found) >= limit:
            break
    return found


# ---- running a set of patterns -------------------------------------------------------------


@dataclass(frozen=True)
class TextBudget:
    """Time for one text's pattern scan: ``per_text_s``, capped by what the request has left."""

    per_text_s: float
    request_ends: float
    clock: Clock = time.monotonic

    def ends(self) -> float:
        return min(self.clock() + self.per_text_s, self.request_ends)


class ScanTimeoutError(Exception):
    """The budget ran out before every match of a text was found."""


class PatternSet:
    """Patterns screened together with one ``re2.Set`` pass, then run one by one where they hit."""

    def __init__(self, compiled: Sequence[Any], patterns: Sequence[str]) -> None:
        self._compiled = tuple(compiled)
        self._screen = _build_set(patterns, re2.Set.SearchSet)

    def __len__(self) -> int:
        return len(self._compiled)

    def find(self, text: str, ends: float, clock: Clock) -> list[tuple[int, Span]]:
        """``(pattern index, span)`` of every non-empty match, leftmost first per pattern.

        Raises ``ScanTimeoutError`` when ``clock()`` passes ``ends`` first."""
        found: list[tuple[int, Span]] = []
        if not self._compiled:
            return found
        for index in self._hits(text):
            for match in self._compiled[index].finditer(text):
                if clock() > ends:
                    raise ScanTimeoutError
                if match.end() > match.start():
                    found.append((index, match.span()))
        return found

    def _hits(self, text: str) -> Iterable[int]:
        answer = self._screen.Match(text) or []
        if 0 not in answer:  # the DFA gave up: try every pattern, each search is still linear
            return range(len(self._compiled))
        return sorted(index - 1 for index in answer if index > 0)


class FullMatchSet:
    """Does a value match one of the patterns in full? One ``re2.Set`` pass per value."""

    def __init__(self, compiled: Sequence[Any], patterns: Sequence[str]) -> None:
        self._compiled = tuple(compiled)
        self._set = _build_set(patterns, re2.Set.FullMatchSet) if patterns else None

    def matches(self, value: str) -> bool:
        if self._set is None:
            return False
        answer = self._set.Match(value) or []
        if 0 not in answer:
            return any(c.fullmatch(value) is not None for c in self._compiled)
        return len(answer) > 1


def _build_set(patterns: Sequence[str], make: Callable[[Any], Any]) -> Any:
    """Index 0 is the sentinel; pattern ``i`` is index ``i + 1``."""
    screen = make(_options(SET_MAX_MEM))
    try:
        for pattern in (_SENTINEL, *patterns):
            screen.Add(pattern)
        screen.Compile()
    except re2.error:
        raise PatternError("together compile to a program larger than the limit") from None
    return screen


def _options(max_mem: int) -> Any:
    options = re2.Options()
    options.log_errors = False
    options.never_capture = True
    options.max_mem = max_mem
    return options


def _problem(error: Exception) -> str:
    raw = error.args[0] if error.args else b""
    message = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    kind = message.split(":", 1)[0].strip()
    return _PROBLEMS.get(kind, "is not a valid RE2 regular expression")


def _has_byte_escape(pattern: str) -> bool:
    escaped = False
    for char in pattern:
        if escaped and char == "C":
            return True
        escaped = not escaped and char == "\\"
    return False
