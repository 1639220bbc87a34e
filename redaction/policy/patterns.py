"""Caller-written regular expressions: compiled with RE2, screened together, run within a budget.

Tenants' patterns are hostile input, so they run on RE2 (google-re2), not a backtracking engine:

- One search is linear in the text whatever the pattern; backreferences and lookarounds, the
  features that need backtracking, do not compile and are refused as a 400.
- ``re2.Set`` tells in one pass over a text which of all the patterns match in it, so a policy
  with 50 patterns costs one scan per text, plus ``finditer`` of the few that hit.

What RE2 still allows is a pattern that matches often but scans far ahead each time
(``a(?:.*Z)?`` on ``aaaa...``): ``finditer`` is then quadratic. ``compile_scan_pattern`` refuses
such patterns by a static check of the pattern's automaton (``scans_ahead``), so whether a pattern
is accepted never depends on the machine or its load; ``PatternSet.find`` checks a budget between
matches and reports the text as not scanned when it runs out, so a pattern the check lets through
costs time, never coverage. Messages of ``PatternError`` never quote the pattern.
"""

from __future__ import annotations

import importlib
import re
import time
import warnings
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
    if scans_ahead(pattern):
        raise PatternError(
            "takes time that grows with the text at every match (scans ahead);"
            " bound the repeat that follows a possible match end, e.g. {0,64}"
        )
    return compiled


# ---- the scan-ahead check ------------------------------------------------------------------
#
# After a match RE2 reads on while a longer or preferred match is still possible. When the pattern
# can keep reading without reaching another match end, over characters that also start matches
# (``a(?:.*Z)?`` on ``aaaa...``), every match reads to the end of the text: quadratic over
# ``finditer``. That is decided on the pattern's automaton, the same on every machine and load.
# It reads the pattern with Python's regex parser (RE2-only syntax is translated first); what the
# parser cannot read is refused rather than guessed.

_PARSER: Any = importlib.import_module("re._parser")
_OPS: Any = importlib.import_module("re._constants")
_ANY_CHAR = "\ue000"  # stands for a class Python cannot read (\pL, [:alpha:]): any character
_MAX_STATES = 100_000
_DOTALL, _IGNORECASE = int(re.DOTALL), int(re.IGNORECASE)
# Characters the overlap of two classes is decided on, with every character of the pattern.
_SAMPLES = frozenset(map(chr, range(0x250))) | frozenset(
    "\u0130\u0131\u017f\u03a9\u2028\u212a\u3000\u65e5\U0001d518\U0001f600"
)
_CATEGORIES = {
    name: re.compile(expression).fullmatch
    for name, expression in [
        ("CATEGORY_DIGIT", r"\d"),
        ("CATEGORY_NOT_DIGIT", r"\D"),
        ("CATEGORY_SPACE", r"\s"),
        ("CATEGORY_NOT_SPACE", r"\S"),
        ("CATEGORY_WORD", r"\w"),
        ("CATEGORY_NOT_WORD", r"\W"),
    ]
}
Test = Callable[[str], bool]


def scans_ahead(pattern: str) -> bool:
    """True if, after a match, the pattern can loop without ending another match over characters
    that begin matches: the automaton has such a cycle reachable from a match end."""
    parsed = _parse(pattern)
    if parsed.getwidth()[1] < _OPS.MAXREPEAT - 1:  # bounded: nothing reads on without limit
        return False
    automaton = _Automaton.of(parsed)
    accepting = automaton.accepting()
    region = automaton.reachable(accepting & automaton.after_a_character())
    loops = automaton.loop_tests(region - accepting)
    if not loops:
        return False
    first = automaton.first_tests()
    starts = [c for c in _SAMPLES | set(pattern) if any(test(c) for test in first)]
    return any(test(c) for test in loops for c in starts)


def _parse(pattern: str) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _PARSER.parse(_python_syntax(pattern))
    except (re.error, ValueError, RecursionError, OverflowError):
        raise PatternError("uses syntax the cost check cannot read") from None


class _Automaton:
    """A Thompson automaton of the pattern: empty moves, and moves on a character test."""

    def __init__(self) -> None:
        self.empty: list[list[int]] = []
        self.moves: list[list[tuple[Test, int]]] = []
        self.final = 0

    @classmethod
    def of(cls, parsed: Any) -> _Automaton:
        automaton = cls()
        try:
            start = automaton.state()
            automaton.final = automaton.build(list(parsed), start, parsed.state.flags)
        except RecursionError:
            raise PatternError("uses syntax the cost check cannot read") from None
        return automaton

    def state(self) -> int:
        if len(self.empty) >= _MAX_STATES:
            raise PatternError("compiles to a program larger than the limit")
        self.empty.append([])
        self.moves.append([])
        return len(self.empty) - 1

    def build(self, items: list[Any], start: int, flags: int) -> int:
        """Adds ``items`` from ``start``; returns the state they end in."""
        for op, argument in items:
            start = self._item(op, argument, start, flags)
        return start

    def _item(self, op: Any, argument: Any, start: int, flags: int) -> int:
        if op is _OPS.AT:  # anchors and word boundaries read nothing
            return start
        if op is _OPS.SUBPATTERN:
            _, add, remove, items = argument
            return self.build(list(items), start, (flags | add) & ~remove)
        if op is _OPS.BRANCH:
            return self._branch(argument[1], start, flags)
        if op in (_OPS.MAX_REPEAT, _OPS.MIN_REPEAT):
            low, high, items = argument
            return self._repeat(low, high, items, start, flags)
        end = self.state()
        self.moves[start].append((_character_test(op, argument, flags), end))
        return end

    def _branch(self, alternatives: list[Any], start: int, flags: int) -> int:
        end = self.state()
        for alternative in alternatives:
            self.empty[self.build(list(alternative), start, flags)].append(end)
        return end

    def _repeat(self, low: int, high: int, items: Any, start: int, flags: int) -> int:
        for _ in range(low):
            start = self.build(list(items), start, flags)
        if high == _OPS.MAXREPEAT:
            loop = self.state()
            self.empty[start].append(loop)
            self.empty[self.build(list(items), loop, flags)].append(loop)
            return loop
        end = self.state()
        for _ in range(high - low):
            self.empty[start].append(end)
            start = self.build(list(items), start, flags)
        self.empty[start].append(end)
        return end

    def accepting(self) -> set[int]:
        """States from which the match can end without reading more."""
        back: list[list[int]] = [[] for _ in self.empty]
        for source, targets in enumerate(self.empty):
            for target in targets:
                back[target].append(source)
        return _closure({self.final}, lambda state: back[state])

    def after_a_character(self) -> set[int]:
        """States reached from the start by reading at least one character."""
        before = _closure({0}, lambda state: self.empty[state])
        return self.reachable({t for s in before for _, t in self.moves[s]})

    def reachable(self, states: set[int]) -> set[int]:
        return _closure(states, self._next)

    def first_tests(self) -> list[Test]:
        before = _closure({0}, lambda state: self.empty[state])
        return [test for state in before for test, _ in self.moves[state]]

    def loop_tests(self, states: set[int]) -> list[Test]:
        """Tests of the character moves on a cycle that stays inside ``states``."""
        component = _components(states, lambda s: [t for t in self._next(s) if t in states])
        return [
            test
            for source in states
            for test, target in self.moves[source]
            if target in states and component[source] == component[target]
        ]

    def _next(self, state: int) -> list[int]:
        return [*self.empty[state], *(target for _, target in self.moves[state])]


def _closure(states: set[int], step: Callable[[int], Iterable[int]]) -> set[int]:
    seen, todo = set(states), list(states)
    while todo:
        for following in step(todo.pop()):
            if following not in seen:
                seen.add(following)
                todo.append(following)
    return seen


def _components(states: set[int], step: Callable[[int], list[int]]) -> dict[int, int]:
    """Strongly connected components (Kosaraju, iterative): state -> component number."""
    order: list[int] = []
    visited: set[int] = set()
    for root in sorted(states):
        if root in visited:
            continue
        visited.add(root)
        stack = [(root, iter(step(root)))]
        while stack:
            state, following = stack[-1]
            target = next((t for t in following if t not in visited), None)
            if target is None:
                order.append(state)
                stack.pop()
            else:
                visited.add(target)
                stack.append((target, iter(step(target))))
    back: dict[int, list[int]] = {state: [] for state in states}
    for state in states:
        for target in step(state):
            back[target].append(state)
    component: dict[int, int] = {}
    for root in reversed(order):
        if root not in component:
            for state in _closure({root}, lambda s: (t for t in back[s] if t not in component)):
                component[state] = root
    return component


def _character_test(op: Any, argument: Any, flags: int) -> Test:
    if op in (_OPS.LITERAL, _OPS.NOT_LITERAL) and chr(argument) == _ANY_CHAR:
        return lambda c: True  # [\pL] and [^\pL] are read as a single (negated) literal
    if op is _OPS.LITERAL:
        return _cased(lambda c: c == chr(argument), flags)
    if op is _OPS.NOT_LITERAL:
        return _cased(lambda c: c != chr(argument), flags)
    if op is _OPS.ANY:
        return (lambda c: True) if flags & _DOTALL else (lambda c: c != "\n")
    if op is _OPS.IN:
        return _class_test(argument, flags)
    # backreferences, lookarounds, atomic groups: RE2 refused them before this point
    raise PatternError("uses a construct the cost check cannot read")


def _class_test(items: list[tuple[Any, Any]], flags: int) -> Test:
    negate = bool(items) and items[0][0] is _OPS.NEGATE
    literals: set[str] = set()
    ranges: list[tuple[int, int]] = []
    categories: list[Callable[[str], Any]] = []
    for op, argument in items[1:] if negate else items:
        if op is _OPS.LITERAL and chr(argument) != _ANY_CHAR:
            literals.add(chr(argument))
        elif op is _OPS.RANGE:
            ranges.append(argument)
        elif op is _OPS.CATEGORY and str(argument) in _CATEGORIES:
            categories.append(_CATEGORIES[str(argument)])
        else:  # a class Python cannot read, negated or not: any character
            return lambda c: True

    def member(c: str) -> bool:
        return (
            c in literals
            or any(low <= ord(c) <= high for low, high in ranges)
            or any(category(c) is not None for category in categories)
        )

    inside = _cased(member, flags)
    return (lambda c: not inside(c)) if negate else inside


def _cased(test: Test, flags: int) -> Test:
    if not flags & _IGNORECASE:
        return test
    return lambda c: test(c) or test(c.lower()) or test(c.upper())


_FLAG_GROUP = re.compile(r"\(\?([imsU]*)(?:-([imsU]*))?([:)])")


def _python_syntax(pattern: str) -> str:
    """``pattern`` in Python's syntax with the same shape. RE2-only escapes become classes;
    ``(?U)`` is dropped; flag groups such as ``a(?i)b`` (Python wants them first) are dropped and
    their ``i``/``s`` apply to the whole pattern, which can only widen what a class matches."""
    out: list[str] = []
    widened: set[str] = set()
    index, items_from = 0, -1  # where the open class's items begin; -1 outside a class
    while index < len(pattern):
        char, in_class = pattern[index], items_from >= 0
        if char == "\\":
            piece, index = _escape(pattern, index, in_class)
        elif in_class and pattern.startswith("[:", index) and ":]" in pattern[index + 2 :]:
            piece, index = _ANY_CHAR, pattern.index(":]", index + 2) + 2
        elif in_class:
            items_from = -1 if char == "]" and index > items_from else items_from
            piece, index = char, index + 1
        elif char == "[":
            items_from = index + 1 + pattern.startswith("^", index + 1)
            piece, index = pattern[index:items_from], items_from
        elif pattern.startswith("(?", index):
            piece, index = _group_opening(pattern, index, widened)
        else:
            piece, index = char, index + 1
        out.append(piece)
    prefix = f"(?{''.join(sorted(widened))})" if widened else ""
    return prefix + "".join(out)


def _escape(pattern: str, index: int, in_class: bool) -> tuple[str, int]:
    kind = pattern[index + 1 : index + 2]
    if kind in ("p", "P"):
        braced = pattern.startswith("{", index + 2)
        end = pattern.find("}", index) + 1 if braced else index + 3
        return (_ANY_CHAR if in_class else f"[{_ANY_CHAR}]"), end if end > 0 else len(pattern)
    if kind == "Q":
        end = pattern.find("\\E", index + 2)
        end = len(pattern) if end < 0 else end
        return re.escape(pattern[index + 2 : end]), end + 2
    if kind == "z":
        return "\\Z", index + 2
    if kind == "x" and pattern.startswith("{", index + 2):
        end = pattern.index("}", index)
        return re.escape(chr(int(pattern[index + 3 : end], 16))), end + 1
    return pattern[index : index + 2], index + 2


def _group_opening(pattern: str, index: int, widened: set[str]) -> tuple[str, int]:
    if pattern.startswith("(?<", index) and not pattern.startswith(("(?<=", "(?<!"), index):
        return "(?P<", index + 3
    group = _FLAG_GROUP.match(pattern, index)
    if group is None:
        return "(?", index + 2
    on, off = group[1].replace("U", ""), (group[2] or "").replace("U", "")
    if group[3] == ")":
        widened.update(set(on) & {"i", "s"})
        return "", group.end()
    if not on and not off:
        return "(?:", group.end()
    return f"(?{on}{'-' + off if off else ''}:", group.end()


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
