"""The embedded detector behind the ``Detector`` seam: offline, no network, no retries.

Each document longer than ``INLINE_CHARS`` is one unit of CPU work on the runtime's worker pool
(``redaction.workers``), so the event loop stays free while it is scanned (shorter ones cost less
on the loop than the hand-off); a document that cannot start before the request
deadline fails its batch with reason ``deadline``."""

from __future__ import annotations

from collections.abc import Sequence

from redaction.detectors.detector import BatchResult, DetectionContext, DocumentResult
from redaction.embedded import EmbeddedRecognizer
from redaction.entities import Document
from redaction.workers import INLINE_CHARS, WorkerPool, run_cpu


class EmbeddedDetector:
    name = "local"
    api_version: str | None = None

    def __init__(self, recognizer: EmbeddedRecognizer, pool: WorkerPool | None = None) -> None:
        """Without ``pool`` (tools, tests) documents are scanned on the loop."""
        self._recognizer = recognizer
        self._pool = pool

    @property
    def categories(self) -> frozenset[str]:
        return self._recognizer.categories

    async def detect(self, documents: Sequence[Document], context: DetectionContext) -> BatchResult:
        context.stats.attempts += 1
        results = []
        for doc in documents:
            # a short document costs less on the loop than the hand-off to a worker
            pool = self._pool if len(doc.text) > INLINE_CHARS else None
            entities = await run_cpu(
                pool,
                context.deadline,
                self._recognizer.find_entities,
                doc.text,
                context.language,
            )
            results.append(DocumentResult(doc.id, tuple(entities)))
        return BatchResult(tuple(results))

    async def close(self) -> None:
        return None
