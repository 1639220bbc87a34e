"""Deciding which documents a detector really scanned.

A document counts as covered only if it came back exactly once, without an error, with entities
whose offsets lie inside its text. Everything else is unscanned, with a reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from redaction.detectors.detector import BatchResult
from redaction.entities import Document, Entity
from redaction.reasons import FailureReason

MISSING = FailureReason.INCOMPLETE_COVERAGE
INVALID = FailureReason.INVALID_RESPONSE
DOCUMENT_ERROR = FailureReason.DOCUMENT_ERROR


@dataclass(frozen=True)
class Coverage:
    covered: dict[str, tuple[Entity, ...]]
    unscanned: dict[str, str]

    @property
    def complete(self) -> bool:
        return not self.unscanned


def verify_coverage(documents: Sequence[Document], result: BatchResult) -> Coverage:
    texts = {document.id: document.text for document in documents}
    counts = Counter(item.id for item in result.documents)
    unknown = [doc_id for doc_id in counts if doc_id not in texts]
    covered: dict[str, tuple[Entity, ...]] = {}
    unscanned: dict[str, str] = {}
    for item in result.documents:
        if item.id not in texts:
            continue
        if counts[item.id] > 1 or unknown or not _inside(item.entities, len(texts[item.id])):
            unscanned[item.id] = INVALID
        elif item.id in result.errors:
            unscanned[item.id] = DOCUMENT_ERROR
        else:
            covered[item.id] = item.entities
    for doc_id in texts:
        if doc_id not in covered and doc_id not in unscanned:
            unscanned[doc_id] = DOCUMENT_ERROR if doc_id in result.errors else MISSING
    return Coverage(covered, unscanned)


def _inside(entities: Sequence[Entity], length: int) -> bool:
    return all(e.offset >= 0 and e.length > 0 and e.end <= length for e in entities)


def coverage_of(documents: Sequence[Document], result: BatchResult) -> Coverage:
    """The batch's coverage: the one the detector verified on this answer for its retry
    decision, or else verified now. Either way ``verify_coverage`` decides it, once."""
    return result.coverage if result.coverage is not None else verify_coverage(documents, result)
