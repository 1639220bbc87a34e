"""The embedded detector behind the ``Detector`` seam: offline, no network, no retries.

The chunks of a packed document (``Document.segments``) are read one by one, each as if it were
alone: its findings (and so the detection cache's entries) never depend on the packing.

Each document longer than ``INLINE_CHARS`` is one unit of CPU work on the runtime's worker pool
(``redaction.workers``), so the event loop stays free while it is scanned (shorter ones cost less
on the loop than the hand-off); a document that cannot start before the request
deadline fails its batch with reason ``deadline``.

``DeferredDetector`` makes it on first use: on the Azure path it reads only the seams between
texts and what Language could not scan, and importing it (``redaction.embedded``, phonenumbers,
python-stdnum) would otherwise be most of every cold start."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from redaction.detectors.detector import BatchResult, DetectionContext, DocumentResult
from redaction.entities import Document, Entity
from redaction.errors import DeadlineError
from redaction.workers import INLINE_CHARS, WorkerPool, run_cpu

if TYPE_CHECKING:
    from redaction.deadline import Deadline
    from redaction.embedded import EmbeddedRecognizer


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
            entities = await run_cpu(pool, context.deadline, self._find, doc, context.language)
            results.append(DocumentResult(doc.id, tuple(entities)))
        return BatchResult(tuple(results))

    def _find(self, doc: Document, language: str) -> list[Entity]:
        """Each segment of a packed document read on its own: what a chunk holds (its cues, a
        value that is the whole message) never depends on what it was packed with."""
        find = self._recognizer.find_entities
        if not doc.segments:
            return find(doc.text, language)
        found: list[Entity] = []
        for start, end in doc.segments:
            entities = find(doc.text[start:end], language)
            if not entities:  # most segments
                continue
            found.extend(entities if start == 0 else (e.shifted(start) for e in entities))
        return found

    async def close(self) -> None:
        return None


class DeferredDetector:
    """The ``EmbeddedDetector`` that ``build`` makes, made on first use on a thread of its own
    (import and construction: about 90 ms here, bench/RESULTS.md): the first request that needs
    it waits for it, beside its own Language calls (seams are scanned alongside them); every later
    one finds it ready. First use rather than a warm-up after start: the runtime is itself built by
    the first request (the Functions Python worker has no start hook), so a warm-up would start at
    the same moment, and requests that need neither seams, nor a short text read alone
    (``scanning.BARE_CHARS``), nor fail-soft (one sentence, Language answering) never pay. A
    request whose deadline comes first gets ``DeadlineError`` while the build goes on. A build
    that fails (e.g. a spaCy model that cannot load) fails every batch it was asked for."""

    name = EmbeddedDetector.name
    api_version: str | None = None

    def __init__(self, build: Callable[[], EmbeddedDetector]) -> None:
        self._build = build
        self._made: asyncio.Future[EmbeddedDetector] | None = None

    @property
    def loaded(self) -> bool:
        made = self._made
        return made is not None and made.done() and made.exception() is None

    @property
    def categories(self) -> frozenset[str]:
        """What it finds, once made (empty before: nothing has been read with it yet)."""
        return self._made.result().categories if self.loaded and self._made else frozenset()

    async def detect(self, documents: Sequence[Document], context: DetectionContext) -> BatchResult:
        detector = await self.ready(context.deadline)
        return await detector.detect(documents, context)

    async def ready(self, deadline: Deadline) -> EmbeddedDetector:
        """The detector, made now if nobody asked for it before; ``DeadlineError`` when
        ``deadline`` comes first (the build is not cancelled: the next request finds it)."""
        if self._made is None:
            self._made = asyncio.get_running_loop().run_in_executor(None, self._build)
        try:
            return await asyncio.wait_for(asyncio.shield(self._made), deadline.remaining())
        except TimeoutError:
            raise DeadlineError() from None

    async def close(self) -> None:
        return None
