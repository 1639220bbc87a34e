"""The one seam between the core and whatever finds personal data (Azure Language or embedded)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from redaction.deadline import Deadline
from redaction.entities import Document, Entity

if TYPE_CHECKING:
    from redaction.detectors.coverage import Coverage


@dataclass
class AttemptStats:
    """Counters one request's batches add to; read into diagnostics."""

    attempts: int = 0
    retries: int = 0
    throttled: int = 0
    hedges: int = 0  # duplicate calls sent by hedging (redaction/detectors/hedging.py)


@dataclass(frozen=True)
class DetectionContext:
    """What a detector needs to know about the request a batch belongs to."""

    deadline: Deadline
    language: str
    batch_index: int = 0
    correlation_id: str | None = None
    tenant_id: str | None = None
    stats: AttemptStats = field(default_factory=AttemptStats)
    hedge: bool = False  # this call duplicates a slow one (telemetry marks its attempts)


@dataclass(frozen=True)
class DocumentResult:
    id: str
    entities: tuple[Entity, ...]


@dataclass(frozen=True)
class BatchResult:
    """What came back for a batch, as the detector saw it; the core verifies coverage.

    ``coverage``: set when the detector already verified this answer against the batch's
    documents (``coverage.verify_coverage``, for its retry decision), so it is not decided twice
    (``coverage.coverage_of``)."""

    documents: tuple[DocumentResult, ...]
    errors: dict[str, str] = field(default_factory=dict)
    coverage: Coverage | None = field(default=None, compare=False, repr=False)


class Detector(Protocol):
    """Scans a batch of documents. Raises ``DetectorError`` when the batch could not be scanned."""

    @property
    def name(self) -> str: ...

    @property
    def api_version(self) -> str | None: ...

    @property
    def categories(self) -> frozenset[str]: ...

    async def detect(
        self, documents: Sequence[Document], context: DetectionContext
    ) -> BatchResult: ...

    async def close(self) -> None: ...


class DetectorWrapper:
    """A ``Detector`` around another one (hedging, the credential watch): its name, api-version,
    categories and ``close`` are the inner detector's; a subclass defines ``detect``."""

    def __init__(self, inner: Detector) -> None:
        self.inner = inner

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def api_version(self) -> str | None:
        return self.inner.api_version

    @property
    def categories(self) -> frozenset[str]:
        return self.inner.categories

    async def close(self) -> None:
        await self.inner.close()
