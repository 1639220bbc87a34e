"""Scanning a request's texts: documents, batches, concurrent detector calls inside the deadline,
coverage, and entities mapped back to the texts they came from."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

from redaction.batching import plan_batches
from redaction.coverage import Coverage, verify_coverage
from redaction.deadline import Deadline
from redaction.detector import AttemptStats, DetectionContext, Detector
from redaction.documents import PlannedDocument, map_entities, plan_documents
from redaction.entities import Entity
from redaction.errors import DetectorError

logger = logging.getLogger("pii_redaction")


@dataclass(frozen=True)
class Limits:
    max_doc_chars: int = 5000
    docs_per_batch: int = 5
    max_batches: int = 15
    batch_concurrency: int = 5


@dataclass(frozen=True)
class ScanScope:
    """Who and what a scan is for: the language and the ids telemetry carries."""

    deadline: Deadline
    language: str = "en"
    correlation_id: str | None = None
    tenant_id: str | None = None


@dataclass
class ScanReport:
    """Entities per text (text offsets), and what could not be scanned. Never holds text."""

    entities: list[list[Entity]]
    unscanned: dict[int, str] = field(default_factory=dict)
    documents: int = 0
    unscanned_documents: int = 0
    batches: int = 0
    characters: int = 0
    failure_reason: str | None = None
    stats: AttemptStats = field(default_factory=AttemptStats)


class Scanner:
    def __init__(
        self, detector: Detector, limits: Limits, instance_gate: asyncio.Semaphore
    ) -> None:
        self.detector = detector
        self._limits = limits
        self._instance_gate = instance_gate

    async def scan(self, texts: Sequence[str], scope: ScanScope) -> ScanReport:
        """Raises ``PayloadTooLargeError``, before any detector call, when batches would not fit."""
        planned = plan_documents(texts, self._limits.max_doc_chars)
        batches = plan_batches(planned, self._limits.docs_per_batch, self._limits.max_batches)
        report = ScanReport(
            entities=[[] for _ in texts],
            documents=len(planned),
            batches=len(batches),
            characters=sum(len(p.document.text) for p in planned),
        )
        request_gate = asyncio.Semaphore(self._limits.batch_concurrency)
        outcomes = await asyncio.gather(
            *(
                self._scan_batch(batch, request_gate, _context(scope, index, report.stats))
                for index, batch in enumerate(batches)
            )
        )
        for batch, outcome in zip(batches, outcomes, strict=True):
            for planned_document in batch:
                _record(report, planned_document, outcome)
        return report

    async def _scan_batch(
        self,
        batch: Sequence[PlannedDocument],
        request_gate: asyncio.Semaphore,
        context: DetectionContext,
    ) -> Coverage | str:
        """The batch's coverage, or the reason it could not be scanned at all."""
        documents = [planned.document for planned in batch]
        try:
            async with asyncio.timeout(context.deadline.remaining()), AsyncExitStack() as gates:
                await gates.enter_async_context(request_gate)
                await gates.enter_async_context(self._instance_gate)
                result = await self.detector.detect(documents, context)
        except TimeoutError:
            return "deadline"
        except DetectorError as error:
            return error.reason
        except Exception as error:  # noqa: BLE001 - a detector bug must fail closed, not 500
            logger.error("pii-detector-failure", extra={"pii-error-type": type(error).__name__})
            return "detector-error"
        return verify_coverage(documents, result)


def _context(scope: ScanScope, index: int, stats: AttemptStats) -> DetectionContext:
    return DetectionContext(
        deadline=scope.deadline,
        language=scope.language,
        batch_index=index,
        correlation_id=scope.correlation_id,
        tenant_id=scope.tenant_id,
        stats=stats,
    )


def _record(report: ScanReport, planned: PlannedDocument, outcome: Coverage | str) -> None:
    doc_id = planned.document.id
    if not isinstance(outcome, str) and doc_id in outcome.covered:
        for text_index, entity in map_entities(planned, outcome.covered[doc_id]):
            report.entities[text_index].append(entity)
        return
    reason = outcome if isinstance(outcome, str) else outcome.unscanned[doc_id]
    report.unscanned_documents += 1
    report.failure_reason = report.failure_reason or reason
    for segment in planned.segments:
        report.unscanned.setdefault(segment.text_index, reason)
