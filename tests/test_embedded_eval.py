"""The labeled evaluation set: minimum recall and precision per category (report: make eval)."""

from __future__ import annotations

from pathlib import Path

import pytest

from redaction.embedded import EmbeddedRecognizer
from redaction.embedded.evaluation import (
    LabeledText,
    Tally,
    evaluate,
    format_report,
    parse_labeled,
    read_labeled,
)
from redaction.entities import Entity

EVAL = Path(__file__).with_name("eval")
MIN_PRECISION = 0.95
MIN_RECALL = 0.9


@pytest.fixture(scope="module")
def tally() -> Tally:
    documents = read_labeled(sorted(EVAL.glob("*.txt")))
    assert len(documents) > 500
    recognizer = EmbeddedRecognizer()
    return evaluate(documents, recognizer.find_entities)


def test_precision_per_category(tally: Tally) -> None:
    low = [s.category for s in tally.scores() if s.precision < MIN_PRECISION]
    assert not low, format_report(tally, examples=10)


def test_recall_per_category(tally: Tally) -> None:
    low = [s.category for s in tally.scores() if s.recall < MIN_RECALL]
    assert not low, format_report(tally, examples=10)


def test_traps_stay_quiet(tally: Tally) -> None:
    assert len(tally.false_alarms) <= 3, tally.false_alarms


def test_parse_labeled_handles_nesting() -> None:
    labeled = parse_labeled("go ⟦URL:https://x.example/?⟦AzureSAS:sig=abc⟧&a=1⟧ now")
    assert labeled.text == "go https://x.example/?sig=abc&a=1 now"
    assert [(e.category, labeled.text[e.offset : e.end]) for e in labeled.expected] == [
        ("URL", "https://x.example/?sig=abc&a=1"),
        ("AzureSAS", "sig=abc"),
    ]


def test_scorer_counts_misses_and_false_alarms() -> None:
    labeled = LabeledText("a 123 b 456", (Entity(2, 3, "X", 1.0), Entity(8, 3, "Y", 1.0)))
    tally = Tally()
    tally.add(labeled, [Entity(2, 3, "X", 0.9), Entity(8, 3, "X", 0.9)])
    scores = {s.category: s for s in tally.scores()}
    assert (scores["X"].recall, scores["X"].precision) == (1.0, 0.5)
    assert (scores["Y"].recall, scores["Y"].precision) == (0.0, 1.0)
