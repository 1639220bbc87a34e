"""Scoring a detector against labeled text: recall and precision per category.

Labeled text marks each expected entity as ``⟦Category:value⟧`` (nesting allowed, for a URL that
holds a signature); one document per line, ``#`` starts a comment line. A detected entity matches
an expected one of the same category when their spans overlap by at least half of their union.

Run ``python -m redaction.embedded.evaluation FILE...`` for the full report.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from redaction.entities import Entity

OPEN, SEP, CLOSE = "⟦", ":", "⟧"
_MIN_OVERLAP = 0.5


@dataclass(frozen=True, slots=True)
class LabeledText:
    """A document without markup and the entities it is known to contain."""

    text: str
    expected: tuple[Entity, ...]


@dataclass(frozen=True, slots=True)
class CategoryScore:
    category: str
    expected: int
    found: int
    correct_found: int
    expected_hit: int

    @property
    def recall(self) -> float:
        return self.expected_hit / self.expected if self.expected else 1.0

    @property
    def precision(self) -> float:
        return self.correct_found / self.found if self.found else 1.0


@dataclass
class Tally:
    """Counts over many documents; ``scores`` turns them into per-category recall/precision."""

    expected: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)
    correct_found: Counter[str] = field(default_factory=Counter)
    expected_hit: Counter[str] = field(default_factory=Counter)
    misses: list[tuple[str, str]] = field(default_factory=list)
    false_alarms: list[tuple[str, str]] = field(default_factory=list)

    def add(self, labeled: LabeledText, found: Sequence[Entity]) -> None:
        text = labeled.text
        for entity in labeled.expected:
            self.expected[entity.category] += 1
            if any(_matches(entity, other) for other in found):
                self.expected_hit[entity.category] += 1
            else:
                self.misses.append((entity.category, text[entity.offset : entity.end]))
        for entity in found:
            self.found[entity.category] += 1
            if any(_matches(entity, other) for other in labeled.expected):
                self.correct_found[entity.category] += 1
            else:
                self.false_alarms.append((entity.category, _excerpt(text, entity)))

    def scores(self) -> list[CategoryScore]:
        names = sorted(set(self.expected) | set(self.found))
        return [
            CategoryScore(
                name,
                self.expected[name],
                self.found[name],
                self.correct_found[name],
                self.expected_hit[name],
            )
            for name in names
        ]


def parse_labeled(line: str) -> LabeledText:
    """Strips the markup from one line and returns the text with its expected entities."""
    out: list[str] = []
    stack: list[tuple[str, int]] = []
    expected: list[Entity] = []
    position = 0
    rest = line
    while rest:
        char, rest = rest[0], rest[1:]
        if char == OPEN:
            category, _, rest = rest.partition(SEP)
            stack.append((category, position))
        elif char == CLOSE:
            category, start = stack.pop()
            expected.append(Entity(start, position - start, category, 1.0))
        else:
            out.append(char)
            position += 1
    if stack:
        raise ValueError(f"unclosed {OPEN} in {line!r}")
    return LabeledText("".join(out), tuple(sorted(expected, key=lambda e: e.offset)))


def read_labeled(paths: Iterable[Path]) -> list[LabeledText]:
    """All documents of the given files, skipping blank and comment lines."""
    return [
        parse_labeled(line)
        for path in paths
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


def evaluate(documents: Iterable[LabeledText], detect: Callable[[str], Sequence[Entity]]) -> Tally:
    """Runs ``detect`` on every document and tallies the outcome."""
    tally = Tally()
    for labeled in documents:
        tally.add(labeled, detect(labeled.text))
    return tally


def format_report(tally: Tally, *, examples: int = 0) -> str:
    """A fixed-width table, and optionally some misses and false alarms."""
    rows = [f"{'category':<38} {'expected':>8} {'found':>6} {'recall':>7} {'precision':>9}"]
    rows += [
        f"{s.category:<38} {s.expected:>8} {s.found:>6} {s.recall:>7.3f} {s.precision:>9.3f}"
        for s in tally.scores()
    ]
    for title, items in (("missed", tally.misses), ("false alarms", tally.false_alarms)):
        if examples and items:
            rows.append(f"\n{title} ({len(items)}):")
            rows += [f"  {category}: {value!r}" for category, value in items[:examples]]
    return "\n".join(rows)


def _matches(one: Entity, other: Entity) -> bool:
    if one.category != other.category:
        return False
    overlap = min(one.end, other.end) - max(one.offset, other.offset)
    union = max(one.end, other.end) - min(one.offset, other.offset)
    return overlap > 0 and overlap / union >= _MIN_OVERLAP


def _excerpt(text: str, entity: Entity) -> str:
    before = text[max(0, entity.offset - 20) : entity.offset]
    return f"{before}[{text[entity.offset : entity.end]}]"


def main(argv: Sequence[str] | None = None) -> int:
    from redaction.embedded.recognizer import EmbeddedRecognizer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--language", default="en")
    parser.add_argument("--min-score", type=float, default=0.5)
    parser.add_argument("--examples", type=int, default=20, help="misses/false alarms to show")
    args = parser.parse_args(argv)
    recognizer = EmbeddedRecognizer(min_score=args.min_score)
    documents = read_labeled(args.files)
    tally = evaluate(documents, lambda text: recognizer.find_entities(text, args.language))
    print(format_report(tally, examples=args.examples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
