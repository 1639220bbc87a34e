"""The Azure AI Language detector: one call per batch attempt, retried inside the deadline."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace

from redaction import telemetry
from redaction.detectors.budget import CallBudget, Slot
from redaction.detectors.coverage import MISSING, Coverage, verify_coverage
from redaction.detectors.credentials import Auth
from redaction.detectors.detector import BatchResult, DetectionContext
from redaction.detectors.language_client import CallRecord, LanguageClient
from redaction.detectors.retry import RetryPolicy, run_with_retry
from redaction.entities import Document
from redaction.errors import DetectorError, HttpStatusError, ServiceResponseError
from redaction.reasons import FailureReason, is_retryable


class AzureLanguageDetector:
    name = "azure"

    def __init__(
        self,
        client: LanguageClient,
        auth: Auth,
        policy: RetryPolicy,
        categories: frozenset[str],
        rng: random.Random | None = None,
        budget: CallBudget | None = None,
    ) -> None:
        self._client = client
        self._auth = auth
        self._policy = policy
        self._rng = rng or random.Random()
        self.categories = categories
        self.budget = budget

    @property
    def api_version(self) -> str | None:
        return self._client.api_version

    async def detect(self, documents: Sequence[Document], context: DetectionContext) -> BatchResult:
        characters = sum(len(doc.text) for doc in documents)
        records: dict[int, tuple[CallRecord, float, dict[str, object]]] = {}

        async def attempt(timeout: float, number: int) -> BatchResult:
            async with self._admitted(context, number) as slot:
                timeout = min(timeout, context.deadline.remaining())  # after any budget wait
                context.stats.attempts += 1
                record = CallRecord()
                facts = self._facts(context, number, len(documents), characters)
                records[number] = (record, time.monotonic(), facts)
                result = await self._call(documents, context.language, timeout, record, facts, slot)
            coverage = verify_coverage(documents, result)
            if number < self._policy.max_attempts and _worth_retrying(coverage):
                raise ServiceResponseError(MISSING, "not every document came back intact")
            return replace(result, coverage=coverage)

        def observe(number: int, error: DetectorError | None, wait: float | None) -> None:
            if number not in records:  # refused by the call budget: nothing was sent
                return
            record, started, facts = records[number]
            if wait is not None:
                context.stats.retries += 1
            if isinstance(error, HttpStatusError) and error.status == 429:
                context.stats.throttled += 1
            _emit_inbound(facts, record, started, error, wait)

        return await run_with_retry(
            attempt, self._policy, context.deadline, rng=self._rng, observe=observe
        )

    async def _call(
        self,
        documents: Sequence[Document],
        language: str,
        timeout: float,
        record: CallRecord,
        facts: dict[str, object],
        slot: Slot,
    ) -> BatchResult:
        """One call with its pii-outbound record and pii-language-call span; tells ``slot`` how
        Language answered (a 429 shrinks the concurrency limit: budget.py)."""
        telemetry.emit("pii-outbound", logging.INFO, telemetry.dimensions(telemetry.ATTEMPT, facts))
        with telemetry.span(
            "pii-language-call", telemetry.CLIENT, self._span_attributes(facts)
        ) as current:
            try:
                result = await self._client.analyze(documents, language, timeout, record)
            except HttpStatusError as error:
                slot.answered(error.status, error.retry_after)
                raise
            finally:  # the dependency's result code, also when the answer is unusable
                telemetry.set_attributes(current, {"http.response.status_code": record.status})
        slot.answered(200)
        return result

    @asynccontextmanager
    async def _admitted(self, context: DetectionContext, number: int) -> AsyncIterator[Slot]:
        """The call budget around one attempt (redaction/detectors/budget.py); a refusal is a
        ``rate-limited`` ``DetectorError``, recorded here since no call was made."""
        if self.budget is None:
            yield Slot(0)
            return
        started, admitted = time.monotonic(), False
        try:
            async with self.budget.call(context.deadline) as slot:
                admitted = True
                telemetry.record_budget_wait(_ms_since(started), granted=True)
                yield slot
        except DetectorError as error:
            if not admitted and error.reason == FailureReason.RATE_LIMITED:
                telemetry.record_budget_wait(_ms_since(started), granted=False)
                facts = self._facts(context, number, documents=0, characters=0)
                _emit_refusal(telemetry.dimensions(telemetry.ATTEMPT_IDS, facts), started)
            raise

    def _facts(
        self, context: DetectionContext, number: int, documents: int, characters: int
    ) -> dict[str, object]:
        """The attempt's values under their ``telemetry.ATTEMPT`` names."""
        return {
            "correlation_id": context.correlation_id,
            "tenant_id": context.tenant_id,
            "batch_index": context.batch_index,
            "attempt": number,
            "hedge": context.hedge,
            "documents": documents,
            "characters": characters,
            "target_host": self._client.host,
            "api_version": self._client.api_version,
        }

    def _span_attributes(self, facts: dict[str, object]) -> dict[str, object]:
        return {
            **telemetry.attributes(telemetry.ATTEMPT, facts),
            # What the Azure Monitor exporter reads for an HTTP dependency (docs/telemetry.md):
            # type HTTP from the method, target from server.address (its port only when it is
            # not the scheme's default: url.scheme says which), data from url.full.
            "http.request.method": "POST",
            "server.port": self._client.port,
            "url.scheme": self._client.scheme,
            "url.full": self._client.url,
        }

    async def close(self) -> None:
        await self._auth.close()
        if self.budget is not None:
            await self.budget.close()


def _worth_retrying(coverage: Coverage) -> bool:
    """A malformed answer may be transient; a per-document error (e.g. invalid text) is not."""
    return any(is_retryable(reason) for reason in coverage.unscanned.values())


def _ms_since(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


def _emit_refusal(ids: dict[str, object], started: float) -> None:
    """The attempt that got no call budget (nothing was sent, so no pii-inbound)."""
    extra = {**ids, "pii-wait-ms": _ms_since(started)}
    telemetry.emit("pii-budget-refused", logging.WARNING, extra)


def _emit_inbound(
    facts: dict[str, object],
    record: CallRecord,
    started: float,
    error: DetectorError | None,
    wait: float | None,
) -> None:
    outcome = "ok" if error is None else error.reason
    level = logging.INFO if error is None else logging.WARNING
    telemetry.emit(
        "pii-inbound",
        level,
        {
            **telemetry.dimensions(telemetry.ATTEMPT_IDS, facts),
            "pii-http-status": record.status,
            "pii-outcome": outcome,
            "pii-duration-ms": round((time.monotonic() - started) * 1000, 1),
            "pii-response-bytes": record.response_bytes,
            "pii-retry": wait is not None,
            "pii-retry-wait-ms": None if wait is None else round(wait * 1000),
        },
    )
    telemetry.record_attempt(outcome, record.status, retried=wait is not None)
