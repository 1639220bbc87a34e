"""Scanning a request's texts: chunks, the cache, packed documents, batches, concurrent detector
calls inside the deadline, coverage, entities mapped back to the texts they came from, and last
the tenant's policy (its own patterns, then which entities are kept): one result per request.

The 413 check runs on the plan of every chunk (as if nothing were cached), so whether a request
fits never depends on the cache; a request whose characters alone need too many documents gets
it before its texts are chunked.

What is found in a chunk never depends on what it is packed with: the embedded detector reads
each segment of a packed document alone, and on the Azure path it also reads alone (in process,
beside the seams) every short text that may be one value, which Language reads packed. The
tenant's patterns run on the seams as on the texts, and a seam's entities are filtered by the
policy on the seam, where a split value is whole. Cached chunks are then left out, identical
chunks are scanned once, and what remains is packed and sent. A chunk's result is stored only when
every document of the batch that held it came back covered; a cached chunk counts as covered.

Fail-soft: with a ``fallback`` Scanner, a request that allows it (fail-open) has the chunks its
detector could not scan read by the seam detector (the embedded one) instead: their entities are
masked, but they still count as unscanned (the answer stays ``partial``) and ``fallback_docs``
counts them. A deadline that the detector used up leaves the fallback no time either.

A value read twice (by a seam and the texts' own scan, or by the fallback) is one entity: the
report holds each span and category once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from redaction import telemetry
from redaction.cache.detection import CacheScope, DetectionCache
from redaction.deadline import Deadline
from redaction.detectors.coverage import MISSING, Coverage, coverage_of
from redaction.detectors.detector import AttemptStats, DetectionContext, Detector
from redaction.entities import Entity
from redaction.errors import DeadlineError, DetectorError, PayloadTooLargeError
from redaction.planning.batching import plan_batches
from redaction.planning.chunking import split_text
from redaction.planning.documents import (
    SEPARATOR,
    Chunk,
    PlannedDocument,
    build_documents,
    chunk_starts_valid,
    seam_chunks,
    split_chunks,
    split_entities,
)
from redaction.planning.packing import PackingLimits, billed_records, pack_chunks
from redaction.reasons import FailureReason
from redaction.workers import WorkerPool, run_cpu

logger = logging.getLogger("pii_redaction")


@dataclass(frozen=True)
class Limits:
    max_doc_chars: int = 5000
    docs_per_batch: int = 5
    max_batches: int = 15
    batch_concurrency: int = 15


# Seams scanned in process (``seam_detector``): small documents, no Language limits apply.
SEAM_LIMITS = Limits(max_doc_chars=5000, docs_per_batch=5, max_batches=10_000, batch_concurrency=4)
# A whole text this short that is one token, or whose every token holds a digit or a sign, may
# be one value ("130692544", "DEUTDEFF", "0.0.0.0", "DE89 3704 0044 0532 0130 00"), which the
# embedded detector masks when it is the whole message. Language reads such a text packed beside
# others, so on the Azure path the embedded detector also reads it alone, in process, as it reads
# seams: what is found in it never depends on what it was packed with.
BARE_CHARS = 64


@dataclass(frozen=True)
class ScanScope:
    """Who and what a scan is for: the language and the ids telemetry carries."""

    deadline: Deadline
    language: str = "en"
    correlation_id: str | None = None
    tenant_id: str | None = None


class PatternFindings(Protocol):
    """What a policy's patterns found: entities per text, and the texts they ran out of time on."""

    @property
    def entities(self) -> list[list[Entity]]: ...

    @property
    def timed_out(self) -> list[int]: ...


class TenantPolicy(Protocol):
    """The request's tenant policy as the scan applies it (``policy.tenant.CompiledPolicy``)."""

    @property
    def patterns(self) -> object | None: ...

    def budget(self, deadline: Deadline) -> Any: ...

    def find(self, texts: Sequence[str], budget: Any) -> PatternFindings: ...

    def keep(self, text: str, entities: Iterable[Entity]) -> list[Entity]: ...


@dataclass
class ScanReport:
    """Entities per text (text offsets), and what could not be scanned. Never holds text.

    Its counters have their names in ``models.Diagnostics`` (``telemetry.REDACTION``, ``scan``).
    ``total_docs`` counts chunks (the units of coverage: ``unscanned_docs`` of them were not
    scanned, ``cached_docs`` came from the cache); ``sent_docs``, ``batches``, ``characters`` and
    ``billed_records`` count what went to the detector; ``stats`` counts its attempts."""

    entities: list[list[Entity]]
    unscanned: dict[int, str] = field(default_factory=dict)
    total_docs: int = 0
    unscanned_docs: int = 0
    batches: int = 0
    characters: int = 0
    failure_reason: str | None = None
    stats: AttemptStats = field(default_factory=AttemptStats)
    cached_docs: int = 0
    sent_docs: int = 0
    billed_records: int = 0
    fallback_docs: int = 0  # unscanned chunks the seam detector read instead (fail-soft)
    missed: list[int] = field(default_factory=list)  # indices of the chunks not scanned

    def counts(self) -> dict[str, int]:
        """Every counter of the scan, by its ``telemetry.REDACTION`` name."""
        stats = vars(self.stats)
        return {name: stats[name] if name in stats else getattr(self, name) for name in _COUNTED}


# The counters a scan reports (``ScanReport.counts``), in ``telemetry.REDACTION`` order.
_COUNTED = tuple(fact.name for fact in telemetry.REDACTION if fact.scan)


@dataclass(frozen=True)
class _Seams:
    """The chunks read in process beside the texts' own scan (seams, and on the Azure path the
    texts that may be one value alone), and what the detector found in each (chunk offsets)."""

    chunks: Sequence[Chunk]
    found: Sequence[Sequence[Entity]]


@dataclass
class _ChunkResults:
    """Per chunk index: entities in chunk offsets, or why the chunk was not scanned."""

    found: dict[int, tuple[Entity, ...]] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)


class Scanner:
    def __init__(
        self,
        detector: Detector,
        limits: Limits,
        instance_gate: asyncio.Semaphore,
        *,
        cache: DetectionCache | None = None,
        packing: bool = False,
        domain: str | None = None,
        seam_detector: Detector | None = None,
        pool: WorkerPool | None = None,
        fallback: bool = False,
    ) -> None:
        """``fallback``: the seam detector also reads what ``detector`` could not scan, for the
        requests that ask for it (``scan(fallback=True)``)."""
        self.detector = detector
        self._fallback = fallback
        self._pool = pool
        self._limits = limits
        self._packing_limits = PackingLimits(
            limits.max_doc_chars, limits.docs_per_batch, len(SEPARATOR)
        )
        self._instance_gate = instance_gate
        self._cache = cache
        self._packing = packing
        self._domain = domain or ""
        self._seams = (
            None
            if seam_detector is None
            else Scanner(
                seam_detector,
                SEAM_LIMITS,
                asyncio.Semaphore(SEAM_LIMITS.batch_concurrency),
                cache=cache,  # its own keys: the scope names the seam detector
                packing=True,
                domain=domain,
            )
        )

    async def scan(
        self,
        texts: Sequence[str],
        scope: ScanScope,
        flows: Sequence[int | None] | None = None,
        policy: TenantPolicy | None = None,
        *,
        fallback: bool = False,
    ) -> ScanReport:
        """Scans ``texts`` and the seams between them (``flows``: see ``documents.seam_chunks``),
        then applies ``policy``: the report holds the entities to mask and the whole coverage.
        ``fallback``: the request is fail-open; what the detector could not scan is read by the
        seam detector, when this Scanner has a fallback.

        Raises ``PayloadTooLargeError``, before any detector call, when batches would not fit."""
        self._refuse_early(texts)
        chunks = self._split(texts)
        content = _contents(len(texts), flows)
        seams = seam_chunks(texts, chunks, flows or [None] * len(texts))
        if self._seams is None:
            both = [*chunks, *seams]
            report, found = await self._read_chunks(len(texts), both, scope, content)
            _place(report, chunks, found[: len(chunks)])
            seen = found[len(chunks) :]
        else:
            if self._seams.detector is not self.detector:
                seams.extend(_bare(chunks))
            every = self._plan(chunks, range(len(chunks)), content)
            plan_batches(every, self._limits.docs_per_batch, self._limits.max_batches)  # 413 1st
            reading = self._read_chunks(len(texts), chunks, scope, content, every)
            read: ScanReport | None = None
            if seams:
                (report, found), (read, seen) = await asyncio.gather(
                    reading, self._seams._read_chunks(len(texts), seams, scope, frozenset())
                )
            else:  # no seam (most requests): no second scan, no tasks to run both
                report, found = await reading
                seen = []
            _place(report, chunks, found)
            if fallback and self._fallback and report.missed:
                await self._fall_back(report, chunks, scope)
            if read is not None:
                _merge(report, read)
        if policy is None:
            _place(report, seams, seen)
        else:
            await self._apply_policy(policy, texts, _Seams(seams, seen), scope.deadline, report)
        report.entities = [_distinct(entities) for entities in report.entities]
        return report

    def _refuse_early(self, texts: Sequence[str]) -> None:
        """The 413 of a request whose characters alone need more documents than the batches
        allowed hold, before its texts are chunked (cutting an 8 MiB text at natural boundaries
        takes seconds): every character that is not whitespace lies in a chunk, and a document
        holds at most ``max_doc_chars``, so the plan could only need more."""
        limits = self._limits
        most = limits.docs_per_batch * limits.max_batches
        if sum(map(len, texts)) <= most * limits.max_doc_chars:
            return
        needed = -(-sum(map(_visible, texts)) // limits.max_doc_chars)
        if needed > most:
            raise PayloadTooLargeError(
                f"the request needs at least {needed} documents; at most {limits.max_batches} "
                f"batches of {limits.docs_per_batch} documents are allowed",
                [{"field": "body", "documents": needed, "limit": most}],
            )

    async def _fall_back(self, report: ScanReport, chunks: list[Chunk], scope: ScanScope) -> None:
        """The chunks the detector missed, read by the seam detector: their entities join the
        report; they stay unscanned (Language's coverage is not claimed for them)."""
        assert self._seams is not None
        missed = [chunks[index] for index in report.missed]
        rescued = await self._seams._scan_chunks(len(report.entities), missed, scope, frozenset())
        for entities, found in zip(report.entities, rescued.entities, strict=True):
            entities.extend(found)
        report.fallback_docs = len(missed) - rescued.unscanned_docs

    async def _apply_policy(
        self,
        policy: TenantPolicy,
        texts: Sequence[str],
        seams: _Seams,
        deadline: Deadline,
        report: ScanReport,
    ) -> None:
        """The tenant's patterns (on the worker pool, under the request's deadline and the
        policy's time budget) run on the texts and on the seams between them, and join the
        detector's entities; then the policy filters them. A seam's entities are filtered on the
        seam, where a value split across two texts is whole (an allow rule sees the whole value,
        not a clipped piece of it), then placed in its texts. A text whose pattern scan, or one
        of whose seams' scan, ran out of time (or met the deadline) counts as unscanned: its
        coverage is never claimed."""
        read = [*texts, *(seam.text for seam in seams.chunks)]
        custom: Sequence[Sequence[Entity]] = [[] for _ in read]
        timed_out: Iterable[int] = ()
        if policy.patterns is not None:
            try:
                findings = await run_cpu(
                    self._pool, deadline, policy.find, read, policy.budget(deadline)
                )
                custom, timed_out = findings.entities, findings.timed_out
            except DeadlineError:
                timed_out = range(len(read))
        for index in _texts_of(timed_out, len(texts), seams.chunks):
            if index not in report.unscanned and texts[index].strip():
                report.unscanned[index] = FailureReason.POLICY_TIMEOUT
                report.unscanned_docs += 1
            report.failure_reason = report.failure_reason or FailureReason.POLICY_TIMEOUT
        report.entities = [
            policy.keep(text, [*detected, *found]) if detected or found else []
            for text, detected, found in zip(
                texts, report.entities, custom[: len(texts)], strict=True
            )
        ]
        kept = [
            tuple(policy.keep(seam.text, [*detected, *found]))
            for seam, detected, found in zip(
                seams.chunks, seams.found, custom[len(texts) :], strict=True
            )
        ]
        _place(report, seams.chunks, kept)

    async def _scan_chunks(
        self, count: int, chunks: list[Chunk], scope: ScanScope, content: frozenset[int]
    ) -> ScanReport:
        """The report of ``chunks``, their entities placed in their texts."""
        report, found = await self._read_chunks(count, chunks, scope, content)
        _place(report, chunks, found)
        return report

    async def _read_chunks(
        self,
        count: int,
        chunks: list[Chunk],
        scope: ScanScope,
        content: frozenset[int],
        every: list[PlannedDocument] | None = None,
    ) -> tuple[ScanReport, list[tuple[Entity, ...]]]:
        """The report of ``chunks`` (its coverage; no entities yet) and each chunk's entities in
        its own offsets (none for a chunk not scanned). ``every``: the plan of all ``chunks``,
        when the caller has already made it."""
        if every is None:
            every = self._plan(chunks, range(len(chunks)), content)
            plan_batches(every, self._limits.docs_per_batch, self._limits.max_batches)
        keys = self._keys(chunks, scope)
        cached = await self._lookup(chunks, keys)
        pending, copies = _distinct_misses(len(chunks), keys, cached)
        planned = every if len(pending) == len(chunks) else self._plan(chunks, pending, content)
        batches = plan_batches(planned, self._limits.docs_per_batch, len(planned) + 1)
        report = _new_report(count, len(chunks), planned, len(batches), len(cached))
        results = _ChunkResults(found=dict(cached))
        request_gate = asyncio.Semaphore(self._limits.batch_concurrency)
        scans = [
            self._scan_batch(batch, request_gate, _context(scope, index, report.stats))
            for index, batch in enumerate(batches)
        ]
        # one batch is awaited as it is: a task of its own would change nothing but the cost
        outcomes = [await scans[0]] if len(scans) == 1 else await asyncio.gather(*scans)
        for batch, outcome in zip(batches, outcomes, strict=True):
            _collect(report, results, batch, outcome)
        self._store(keys, results, batches, outcomes)
        return report, _outcome(report, chunks, results, copies)

    def _split(self, texts: Sequence[str]) -> list[Chunk]:
        """Chunks of every text; cuts of long texts come from the cache when it has them."""
        max_chars = self._limits.max_doc_chars
        if self._cache is None:
            return split_chunks(texts, max_chars)
        known: dict[int, list[int]] = {}
        for index, text in enumerate(texts):
            if len(text) > max_chars:
                known[index] = self._starts(self._cache, text, max_chars)
        return split_chunks(texts, max_chars, known)

    @staticmethod
    def _starts(cache: DetectionCache, text: str, max_chars: int) -> list[int]:
        starts = cache.get_starts(text, max_chars)
        if starts is not None and chunk_starts_valid(starts, len(text), max_chars):
            return starts
        starts = [piece.start for piece in split_text(text, max_chars)]
        cache.put_starts(text, max_chars, starts)
        return starts

    def _plan(
        self, chunks: Sequence[Chunk], indices: Sequence[int], content: frozenset[int]
    ) -> list[PlannedDocument]:
        """Documents for ``indices``: packed when packing is on. Without packing, each chunk of
        conversation ``content`` is a document of its own, and the rest (seams, keys, numbers,
        other fields: short as a rule) fills shared documents, so default-deny scanning never
        multiplies the number of documents."""
        if self._packing:
            return build_documents(chunks, self._packed(chunks, indices))
        alone = [i for i in indices if not chunks[i].pieces and chunks[i].text_index in content]
        rest = [i for i in indices if chunks[i].pieces or chunks[i].text_index not in content]
        return build_documents(chunks, [*([i] for i in alone), *self._filled(chunks, rest)])

    def _filled(self, chunks: Sequence[Chunk], indices: Sequence[int]) -> list[list[int]]:
        """``indices`` in order, as few documents as ``max_doc_chars`` allows."""
        groups: list[list[int]] = []
        size = 0
        for index in indices:
            length = len(chunks[index].text)
            if groups and size + len(SEPARATOR) + length <= self._limits.max_doc_chars:
                groups[-1].append(index)
                size += len(SEPARATOR) + length
            else:
                groups.append([index])
                size = length
        return groups

    def _packed(self, chunks: Sequence[Chunk], indices: Sequence[int]) -> list[list[int]]:
        groups = pack_chunks([len(chunks[index].text) for index in indices], self._packing_limits)
        return [[indices[i] for i in group] for group in groups]

    def _keys(self, chunks: Sequence[Chunk], scope: ScanScope) -> list[bytes] | None:
        if self._cache is None:
            return None
        cache_scope = CacheScope(
            tenant=scope.tenant_id or "",
            detector=self.detector.name,
            api_version=self.detector.api_version or "",
            language=scope.language,
            domain=self._domain,
        )
        return [self._cache.key(cache_scope, chunk.text) for chunk in chunks]

    async def _lookup(
        self, chunks: Sequence[Chunk], keys: list[bytes] | None
    ) -> dict[int, tuple[Entity, ...]]:
        if self._cache is None or keys is None or not keys:
            return {}
        lengths = {key: len(chunk.text) for key, chunk in zip(keys, chunks, strict=True)}
        found = await self._cache.lookup(lengths)
        return {index: found[key] for index, key in enumerate(keys) if key in found}

    def _store(
        self,
        keys: list[bytes] | None,
        results: _ChunkResults,
        batches: Sequence[Sequence[PlannedDocument]],
        outcomes: Sequence[Coverage | str],
    ) -> None:
        """Caches the chunks of fully covered batches only: partial results are never stored."""
        if self._cache is None or keys is None:
            return
        complete = {
            segment.chunk_index: results.found[segment.chunk_index]
            for batch, outcome in zip(batches, outcomes, strict=True)
            if isinstance(outcome, Coverage) and outcome.complete
            for planned in batch
            for segment in planned.segments
        }
        self._cache.store({keys[index]: entities for index, entities in complete.items()})

    async def _scan_batch(
        self,
        batch: Sequence[PlannedDocument],
        request_gate: asyncio.Semaphore,
        context: DetectionContext,
    ) -> Coverage | str:
        """The batch's coverage, or the reason it could not be scanned at all."""
        documents = [planned.document for planned in batch]
        try:
            async with (
                asyncio.timeout(context.deadline.remaining()),
                request_gate,
                self._instance_gate,
            ):
                result = await self.detector.detect(documents, context)
        except TimeoutError:
            return FailureReason.DEADLINE
        except DetectorError as error:
            return error.reason
        except Exception as error:  # noqa: BLE001 - a detector bug must fail closed, not 500
            logger.error("pii-detector-failure", extra={"pii-error-type": type(error).__name__})
            return FailureReason.DETECTOR_ERROR
        return coverage_of(documents, result)


def _visible(text: str) -> int:
    """The characters of ``text`` that are not whitespace (``str.isspace``)."""
    return sum(map(len, text.split()))


def _distinct(entities: Sequence[Entity]) -> list[Entity]:
    """Each span and category once, at its highest score, in first-seen order: a seam, and the
    fallback, read values the texts' own scan (or each other) found too."""
    if len(entities) < 2:  # nothing to merge (most texts)
        return list(entities)
    best: dict[tuple[int, int, str], Entity] = {}
    for entity in entities:
        key = (entity.offset, entity.length, entity.category)
        if key not in best or entity.score > best[key].score:
            best[key] = entity
    return list(best.values())


def _merge(report: ScanReport, seams: ScanReport) -> None:
    """The seams' coverage into the texts' report (their entities are placed after the policy
    read them); detector calls and billing stay the texts' own (seams scanned in process cost
    neither)."""
    for index, reason in seams.unscanned.items():
        report.unscanned.setdefault(index, reason)
    report.total_docs += seams.total_docs
    report.unscanned_docs += seams.unscanned_docs
    report.failure_reason = report.failure_reason or seams.failure_reason


def _contents(count: int, flows: Sequence[int | None] | None) -> frozenset[int]:
    """Indices of the texts that are conversation content (all of them when no flows given)."""
    if flows is None:
        return frozenset(range(count))
    return frozenset(index for index, flow in enumerate(flows) if flow is not None)


def _distinct_misses(
    count: int, keys: list[bytes] | None, cached: dict[int, tuple[Entity, ...]]
) -> tuple[list[int], dict[int, int]]:
    """Chunks to scan, and ``{copy: original}`` for chunks identical to one scanned."""
    if keys is None:
        return list(range(count)), {}
    first: dict[bytes, int] = {}
    copies: dict[int, int] = {}
    for index in range(count):
        if index in cached:
            continue
        original = first.setdefault(keys[index], index)
        if original != index:
            copies[index] = original
    return list(first.values()), copies


def _new_report(
    text_count: int, chunks: int, planned: Sequence[PlannedDocument], batches: int, cached: int
) -> ScanReport:
    return ScanReport(
        entities=[[] for _ in range(text_count)],
        total_docs=chunks,
        sent_docs=len(planned),
        batches=batches,
        characters=sum(len(p.document.text) for p in planned),
        billed_records=sum(billed_records(len(p.document.text)) for p in planned),
        cached_docs=cached,
    )


def _context(scope: ScanScope, index: int, stats: AttemptStats) -> DetectionContext:
    return DetectionContext(
        deadline=scope.deadline,
        language=scope.language,
        batch_index=index,
        correlation_id=scope.correlation_id,
        tenant_id=scope.tenant_id,
        stats=stats,
    )


def _collect(
    report: ScanReport,
    results: _ChunkResults,
    batch: Sequence[PlannedDocument],
    outcome: Coverage | str,
) -> None:
    """Splits each covered document's entities over its chunks; marks the rest unscanned."""
    for planned in batch:
        doc_id = planned.document.id
        if isinstance(outcome, Coverage) and doc_id in outcome.covered:
            pieces: dict[int, list[Entity]] = {s.chunk_index: [] for s in planned.segments}
            for segment, piece in split_entities(planned, outcome.covered[doc_id]):
                pieces[segment.chunk_index].append(piece)
            results.found.update((index, tuple(found)) for index, found in pieces.items())
            continue
        reason = outcome if isinstance(outcome, str) else outcome.unscanned[doc_id]
        report.failure_reason = report.failure_reason or reason
        results.failed.update((segment.chunk_index, reason) for segment in planned.segments)


def _outcome(
    report: ScanReport, chunks: Sequence[Chunk], results: _ChunkResults, copies: dict[int, int]
) -> list[tuple[Entity, ...]]:
    """Each chunk's entities (chunk offsets); unscanned chunks mark their texts."""
    found: list[tuple[Entity, ...]] = []
    for index, chunk in enumerate(chunks):
        source = copies.get(index, index)
        if source in results.found:
            found.append(results.found[source])
            continue
        found.append(())
        reason = results.failed.get(source, MISSING)
        report.unscanned_docs += 1
        report.missed.append(index)
        for text_index in chunk.text_indices:
            report.unscanned.setdefault(text_index, reason)
    return found


def _place(report: ScanReport, chunks: Sequence[Chunk], found: Sequence[Sequence[Entity]]) -> None:
    """Moves each chunk's entities into its texts' offsets."""
    for chunk, entities in zip(chunks, found, strict=True):
        if not entities:
            continue
        if not chunk.pieces and chunk.start == 0:  # a text's first chunk: offsets as they are
            report.entities[chunk.text_index].extend(entities)
            continue
        for text_index, entity in chunk.place(entities):
            report.entities[text_index].append(entity)


def _texts_of(indices: Iterable[int], count: int, seams: Sequence[Chunk]) -> list[int]:
    """The texts behind ``indices`` into ``[*texts, *seams]`` (``count`` texts)."""
    found: list[int] = []
    for index in indices:
        found.extend([index] if index < count else seams[index - count].text_indices)
    return found


def _bare(chunks: Sequence[Chunk]) -> list[Chunk]:
    """The chunks that may be one value alone, which a detector reads differently when it is
    the whole message (``BARE_CHARS``)."""
    return [
        chunk
        for chunk in chunks
        if chunk.start == 0 and len(chunk.text) <= BARE_CHARS and _one_value(chunk.text.split())
    ]


def _one_value(tokens: Sequence[str]) -> bool:
    return len(tokens) == 1 or not any(token.isalpha() for token in tokens)
