"""One ``/redact``: find the texts, plan documents and batches, scan them inside the request
deadline, verify coverage, mask, and put the text back. HTTP-agnostic."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass

from redaction import telemetry
from redaction.batching import plan_batches
from redaction.body import TextField, find_texts, replace_texts
from redaction.coverage import Coverage, verify_coverage
from redaction.deadline import Deadline
from redaction.detector import AttemptStats, DetectionContext, Detector
from redaction.documents import PlannedDocument, map_entities, plan_documents
from redaction.entities import Entity
from redaction.errors import DetectorError, PayloadTooLargeError
from redaction.masking import mask_text
from redaction.models import Diagnostics, ErrorInfo, RedactConfig, RedactRequest, RedactResponse

logger = logging.getLogger("pii_redaction")


@dataclass(frozen=True)
class Limits:
    max_doc_chars: int = 5000
    docs_per_batch: int = 5
    max_batches: int = 15
    batch_concurrency: int = 5


@dataclass(frozen=True)
class ScanResult:
    """Entities per text (in text offsets), and the documents that could not be scanned."""

    entities: list[list[Entity]]
    unscanned: list[tuple[PlannedDocument, str]]


class RedactionService:
    def __init__(
        self, detector: Detector, limits: Limits, instance_gate: asyncio.Semaphore
    ) -> None:
        self.detector = detector
        self._limits = limits
        self._instance_gate = instance_gate

    async def redact(
        self, request: RedactRequest, deadline: Deadline, tenant_id: str | None = None
    ) -> RedactResponse:
        """Raises ``PayloadTooLargeError``, before any detector call, when batches would not fit."""
        started = time.monotonic()
        config = request.config
        diagnostics = Diagnostics(
            detector=self.detector.name,
            api_version=self.detector.api_version,
            correlation_id=config.correlation_id,
        )
        with telemetry.span(
            "pii-redaction", telemetry.INTERNAL, {"pii.correlation_id": config.correlation_id}
        ):
            try:
                response = await self._redact(request, deadline, tenant_id, diagnostics)
            except PayloadTooLargeError:
                diagnostics.failure_reason = "payload-too-large"
                _finish(diagnostics, started, tenant_id, "error", changed=False)
                raise
        changed = response.redacted_body is not None and response.redacted_body != request.body
        _finish(diagnostics, started, tenant_id, response.status, changed=changed)
        return response

    async def _redact(
        self,
        request: RedactRequest,
        deadline: Deadline,
        tenant_id: str | None,
        diagnostics: Diagnostics,
    ) -> RedactResponse:
        config = request.config
        fields = find_texts(request.body, config.scan_roles)
        planned = plan_documents([field.text for field in fields], self._limits.max_doc_chars)
        batches = plan_batches(planned, self._limits.docs_per_batch, self._limits.max_batches)
        stats = AttemptStats()
        scan = await self._scan(batches, config, deadline, tenant_id, stats)
        kept = [_kept(entities, config) for entities in scan.entities]
        _describe(diagnostics, planned, batches, kept, scan, stats, fields)
        if scan.unscanned and config.fail_closed:
            return _refusal(diagnostics)
        masked = [
            mask_text(field.text, [(e.offset, e.end) for e in entities], config.redaction_character)
            for field, entities in zip(fields, kept, strict=True)
        ]
        body = replace_texts(request.body, fields, masked)
        complete = not scan.unscanned
        return RedactResponse(
            status="ok" if complete else "partial",
            full_coverage=complete,
            redacted_body=body,
            diagnostics=diagnostics,
        )

    async def _scan(
        self,
        batches: Sequence[Sequence[PlannedDocument]],
        config: RedactConfig,
        deadline: Deadline,
        tenant_id: str | None,
        stats: AttemptStats,
    ) -> ScanResult:
        request_gate = asyncio.Semaphore(self._limits.batch_concurrency)
        outcomes = await asyncio.gather(
            *(
                self._scan_batch(
                    batch,
                    request_gate,
                    DetectionContext(
                        deadline=deadline,
                        language=config.detection_language,
                        batch_index=index,
                        correlation_id=config.correlation_id,
                        tenant_id=tenant_id,
                        stats=stats,
                    ),
                )
                for index, batch in enumerate(batches)
            )
        )
        count = 1 + max((s.text_index for b in batches for d in b for s in d.segments), default=-1)
        entities: list[list[Entity]] = [[] for _ in range(count)]
        unscanned: list[tuple[PlannedDocument, str]] = []
        for batch, outcome in zip(batches, outcomes, strict=True):
            for planned in batch:
                doc_id = planned.document.id
                if isinstance(outcome, str):
                    unscanned.append((planned, outcome))
                elif doc_id in outcome.covered:
                    for text_index, entity in map_entities(planned, outcome.covered[doc_id]):
                        entities[text_index].append(entity)
                else:
                    unscanned.append((planned, outcome.unscanned[doc_id]))
        return ScanResult(entities, unscanned)

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


def _kept(entities: list[Entity], config: RedactConfig) -> list[Entity]:
    excluded = set(config.excluded_categories)
    return [entity for entity in entities if entity.category not in excluded]


def _describe(
    diagnostics: Diagnostics,
    planned: Sequence[PlannedDocument],
    batches: Sequence[Sequence[PlannedDocument]],
    kept: Sequence[Sequence[Entity]],
    scan: ScanResult,
    stats: AttemptStats,
    fields: Sequence[TextField],
) -> None:
    categories = Counter(entity.category for entities in kept for entity in entities)
    diagnostics.entity_count = sum(categories.values())
    diagnostics.categories = dict(sorted(categories.items()))
    diagnostics.total_docs = len(planned)
    diagnostics.unscanned_docs = len(scan.unscanned)
    diagnostics.scanned_docs = len(planned) - len(scan.unscanned)
    diagnostics.batches = len(batches)
    diagnostics.attempts = stats.attempts
    diagnostics.retries = stats.retries
    diagnostics.characters = sum(len(p.document.text) for p in planned)
    unscanned_texts = sorted({s.text_index for p, _ in scan.unscanned for s in p.segments})
    diagnostics.unscanned_paths = [fields[index].pointer for index in unscanned_texts]
    if scan.unscanned:
        diagnostics.failure_reason = scan.unscanned[0][1]


def _refusal(diagnostics: Diagnostics) -> RedactResponse:
    reason = diagnostics.failure_reason or "incomplete-coverage"
    return RedactResponse(
        status="error",
        full_coverage=False,
        diagnostics=diagnostics,
        error=ErrorInfo(
            code="PiiRedactionFailed",
            reason=reason,
            message=f"{diagnostics.unscanned_docs} of {diagnostics.total_docs} documents "
            f"could not be scanned ({reason}); fail_closed is set",
        ),
    )


_LEVELS = {"ok": logging.INFO, "partial": logging.WARNING, "error": logging.ERROR}


def _finish(
    diagnostics: Diagnostics, started: float, tenant_id: str | None, status: str, *, changed: bool
) -> None:
    diagnostics.duration_ms = round((time.monotonic() - started) * 1000, 1)
    failed = diagnostics.failure_reason is not None
    level = _LEVELS[status]
    dimensions: dict[str, object] = {
        "pii-correlation-id": diagnostics.correlation_id,
        "pii-tenant-id": tenant_id,
        "pii-redaction-succeeded": status == "ok",
        "pii-coverage-full": not failed,
        "pii-content-changed": changed,
        "pii-entity-count": diagnostics.entity_count,
        "pii-document-count": diagnostics.total_docs,
        "pii-unscanned-count": diagnostics.unscanned_docs,
        "pii-batch-count": diagnostics.batches,
        "pii-attempt-count": diagnostics.attempts,
        "pii-retry-count": diagnostics.retries,
        "pii-duration-ms": diagnostics.duration_ms,
        "pii-detector": diagnostics.detector,
        "pii-failure-reason": diagnostics.failure_reason,
    }
    dimensions.update(
        {f"pii-category-{name}": count for name, count in diagnostics.categories.items()}
    )
    telemetry.emit("pii-anonymization", level, dimensions)
