"""One ``/redact``: find the texts, scan them, keep the entities the request wants, mask, and put
the text back into the body. HTTP-agnostic; the scanning itself is ``scanning.Scanner``."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence

from redaction import telemetry
from redaction.deadline import Deadline
from redaction.entities import Entity
from redaction.errors import (
    DeadlineError,
    InvalidRequestError,
    PayloadTooLargeError,
    SettingsError,
)
from redaction.models import Diagnostics, ErrorInfo, RedactRequest, RedactResponse
from redaction.placeholders.pseudonyms import PlaceholderIssuer, TokenBinding
from redaction.planning.body import TextField, find_texts, replace_texts
from redaction.planning.canonical import CanonicalText, canonicalize
from redaction.planning.masking import mask_text
from redaction.policy.tenant import PolicyBook
from redaction.reasons import FailureReason
from redaction.scanning import Scanner, ScanReport, ScanScope
from redaction.workers import INLINE_CHARS, WorkerPool, run_cpu


class RedactionService:
    def __init__(
        self,
        scanner: Scanner,
        placeholders: PlaceholderIssuer | None = None,
        *,
        policies: PolicyBook | None = None,
        pool: WorkerPool | None = None,
        auto_language: bool = True,
    ) -> None:
        """``auto_language``: whether the detector reads ``detection_language: "auto"`` (the
        Language api-version decides: ``language_client.supports_auto_language``)."""
        self.scanner = scanner
        self.auto_language = auto_language
        self.pool = pool
        self.policies = policies or PolicyBook()
        self.detector = scanner.detector
        self.placeholders = placeholders

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
        ids = telemetry.attributes(telemetry.REDACTION_IDS, vars(diagnostics))
        with telemetry.span("pii-redaction", telemetry.INTERNAL, ids) as current:
            try:
                response = await self._redact(request, deadline, tenant_id, diagnostics)
            except PayloadTooLargeError:
                diagnostics.failure_reason = FailureReason.PAYLOAD_TOO_LARGE
                summary = _finish(diagnostics, started, tenant_id, "error", changed=False)
                telemetry.set_attributes(current, summary)
                raise
            changed = response.redacted_body is not None and response.redacted_body != request.body
            summary = _finish(diagnostics, started, tenant_id, response.status, changed=changed)
            telemetry.set_attributes(current, summary)
        return response

    async def _redact(
        self,
        request: RedactRequest,
        deadline: Deadline,
        tenant_id: str | None,
        diagnostics: Diagnostics,
    ) -> RedactResponse:
        config, policy = self.policies.resolve(request.config)
        if config.detection_language == "auto" and not self.auto_language:
            raise _auto_language_refused(self.detector.api_version)
        if config.mask_style == "placeholder" and self.placeholders is None:
            raise SettingsError("mask_style placeholder needs PII_RESTORE_KEY")
        fields = find_texts(request.body, config.scan_roles)
        try:
            # a small body costs less on the loop than the hand-off to a worker
            small = sum(len(field.text) for field in fields) <= INLINE_CHARS
            views = await run_cpu(None if small else self.pool, deadline, _canonical_views, fields)
        except DeadlineError:  # not even read in time: nothing is scanned, nothing is claimed
            views = [CanonicalText(field.text, field.text) for field in fields]
            report = _nothing_scanned(fields)
            contexts = ["" for _ in fields]
        else:
            contexts = [_context(field) for field in fields]
            texts = [context + view.text for context, view in zip(contexts, views, strict=True)]
            scope = ScanScope(deadline, config.detection_language, config.correlation_id, tenant_id)
            flows = [field.flow for field in fields]
            fallback = not config.fail_closed  # fail-soft: see scanning's module docstring
            report = await self.scanner.scan(texts, scope, flows, policy, fallback=fallback)
        kept = [
            _for_slot(field, _to_original(view, _without_context(entities, len(context))))
            if entities
            else []  # nothing found: nothing to map back
            for field, view, context, entities in zip(
                fields, views, contexts, report.entities, strict=True
            )
        ]
        _mark_token_ids(report, fields)
        _describe(diagnostics, report, kept, fields)
        if report.unscanned and config.fail_closed:
            return _refusal(diagnostics)
        token = None
        if config.mask_style == "placeholder" and self.placeholders is not None:
            binding = TokenBinding(tenant_id, config.correlation_id, config.conversation_id)
            originals = [field.text for field in fields]
            masked, token = self.placeholders.issue(request.body, originals, kept, binding)
        else:
            masked = [
                mask_text(
                    field.text, [(e.offset, e.end) for e in entities], config.redaction_character
                )
                if entities
                else field.text  # nothing to mask: the text as it is
                for field, entities in zip(fields, kept, strict=True)
            ]
        body = replace_texts(request.body, fields, masked)
        complete = not report.unscanned
        return RedactResponse(
            status="ok" if complete else "partial",
            full_coverage=complete,
            redacted_body=body,
            diagnostics=diagnostics,
            restore_token=token,
        )


def _auto_language_refused(api_version: str | None) -> InvalidRequestError:
    """The 400 for ``detection_language: "auto"`` where the api-version has no language
    detection; it names the field and the setting, never the caller's values."""
    field = "config.detection_language"
    message = (
        f"{field}: automatic language detection needs LANGUAGE_API_VERSION 2025-11-01 or later "
        f"(this service calls {api_version}); name the language instead"
    )
    problem = "not supported by the configured Language api-version"
    return InvalidRequestError(message, [{"field": field, "problem": problem}])


# In the URL of an image or file the provider fetches: a date is a signature parameter
# (``sv=2022-11-02``) and a SAS token is the grant the fetch needs, not personal data.
FETCHED_URL_CATEGORIES = frozenset({"Date", "DateTime", "AzureSAS"})


def _for_slot(field: TextField, entities: list[Entity]) -> list[Entity]:
    if not field.url:
        return entities
    return [entity for entity in entities if entity.category not in FETCHED_URL_CATEGORIES]


def _mark_token_ids(report: ScanReport, fields: Sequence[TextField]) -> None:
    """A prompt given as token ids is read by the model but by no detector: never covered."""
    for index, field in enumerate(fields):
        if field.kind == "tokens":
            report.unscanned.setdefault(index, FailureReason.TOKEN_IDS)
            report.total_docs += 1
            report.unscanned_docs += 1
            report.failure_reason = report.failure_reason or FailureReason.TOKEN_IDS


def _nothing_scanned(fields: Sequence[TextField]) -> ScanReport:
    """Every text that holds anything marked unscanned: the deadline came before any scan."""
    unscanned = {i: FailureReason.DEADLINE for i, f in enumerate(fields) if f.text.strip()}
    return ScanReport(
        entities=[[] for _ in fields],
        unscanned=dict(unscanned),
        total_docs=len(unscanned),
        unscanned_docs=len(unscanned),
        failure_reason=FailureReason.DEADLINE,
    )


def _canonical_views(fields: Sequence[TextField]) -> list[CanonicalText]:
    return [canonicalize(field.text) for field in fields]


def _context(field: TextField) -> str:
    """What detectors read before a keyed value: its key, as the model reads it."""
    return f"{canonicalize(field.context).text}: " if field.context else ""


def _without_context(entities: Sequence[Entity], size: int) -> list[Entity]:
    """Entities in the value's own offsets: the context's part of each is cut off."""
    if not size:
        return list(entities)
    return [
        Entity(max(e.offset - size, 0), e.end - max(e.offset, size), e.category, e.score)
        for e in entities
        if e.end > size
    ]


def _to_original(view: CanonicalText, entities: Sequence[Entity]) -> list[Entity]:
    """Entities found in the canonical view, as spans of the original text (every original
    character that produced the span, invisible ones inside it included)."""
    if view.identity:
        return list(entities)
    spans = (view.to_original(entity.offset, entity.end) for entity in entities)
    return [
        Entity(start, end - start, entity.category, entity.score)
        for (start, end), entity in zip(spans, entities, strict=True)
        if start < end
    ]


def _describe(
    diagnostics: Diagnostics,
    report: ScanReport,
    kept: Sequence[Sequence[Entity]],
    fields: Sequence[TextField],
) -> None:
    categories = Counter(entity.category for entities in kept for entity in entities)
    diagnostics.entity_count = sum(categories.values())
    diagnostics.categories = dict(sorted(categories.items()))
    for name, count in report.counts().items():
        setattr(diagnostics, name, count)
    diagnostics.scanned_docs = report.total_docs - report.unscanned_docs
    diagnostics.unscanned_paths = [fields[index].pointer for index in sorted(report.unscanned)]
    diagnostics.failure_reason = report.failure_reason


def _refusal(diagnostics: Diagnostics) -> RedactResponse:
    reason = diagnostics.failure_reason or FailureReason.INCOMPLETE_COVERAGE
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
) -> dict[str, object]:
    """Emits ``pii-anonymization`` and the metrics; returns the dimensions for the span."""
    diagnostics.duration_ms = round((time.monotonic() - started) * 1000, 1)
    failed = diagnostics.failure_reason is not None
    reason = telemetry.map_failure_reason(diagnostics.failure_reason)
    level = _LEVELS[status]
    dimensions: dict[str, object] = {
        **telemetry.dimensions(telemetry.REDACTION, vars(diagnostics)),
        "pii-tenant-id": tenant_id,
        "pii-outcome": status,
        "pii-redaction-succeeded": status == "ok",
        "pii-coverage-full": not failed,
        "pii-content-changed": changed,
        "pii-failure-reason": reason,
    }
    dimensions.update(
        {f"pii-category-{name}": count for name, count in diagnostics.categories.items()}
    )
    telemetry.emit("pii-anonymization", level, dimensions)
    telemetry.record_redaction(
        status, diagnostics.duration_ms, diagnostics.categories, reason, diagnostics.detector
    )
    return dimensions
