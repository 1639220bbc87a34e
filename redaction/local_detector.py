"""The embedded detector behind the ``Detector`` seam: offline, no network, no retries."""

from __future__ import annotations

from collections.abc import Sequence

from redaction.detector import BatchResult, DetectionContext, DocumentResult
from redaction.embedded import EmbeddedRecognizer
from redaction.entities import Document


class EmbeddedDetector:
    name = "local"
    api_version: str | None = None

    def __init__(self, recognizer: EmbeddedRecognizer) -> None:
        self._recognizer = recognizer

    @property
    def categories(self) -> frozenset[str]:
        return self._recognizer.categories

    async def detect(self, documents: Sequence[Document], context: DetectionContext) -> BatchResult:
        context.stats.attempts += 1
        language = context.language
        return BatchResult(
            tuple(
                DocumentResult(doc.id, tuple(self._recognizer.find_entities(doc.text, language)))
                for doc in documents
            )
        )

    async def close(self) -> None:
        return None
