"""The audit trail of one process: records go into a bounded queue and one background task
appends them in batches, so the request path only enqueues (or, with ``PII_AUDIT_REQUIRED``,
waits until its record is stored, within ``PII_AUDIT_TIMEOUT_MS``).

Never silent: a record that cannot be queued (the queue is full) or stored (the store failed
every attempt) is dropped, counted, reported in telemetry as ``pii-audit-dropped`` (at most once
a second, with the count since the last report) and shown in ``/health``. A batch that could not
be stored leaves the chain where it was, so what is stored stays one unbroken chain.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redaction import telemetry
from redaction.audit.chain import Chain
from redaction.audit.layout import blob_name, new_writer_id
from redaction.audit.records import AuditRecord
from redaction.audit.store import AppendConflictError, AuditStore, AuditStoreError

Observer = Callable[[int, int, str], None]
REPORT_EVERY_S = 1.0


@dataclass(frozen=True)
class TrailLimits:
    queue_size: int = 10_000
    batch_size: int = 256  # 256 records of at most a few kB: far below an append block's 4 MiB
    attempts: int = 3
    backoff_s: float = 0.05
    accept_timeout_s: float = 2.0
    close_timeout_s: float = 5.0


@dataclass(frozen=True)
class AuditStatus:
    """What ``/health`` shows about the trail."""

    required: bool
    healthy: bool
    written: int
    dropped: int
    queued: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "enabled": True,
            "required": self.required,
            "healthy": self.healthy,
            "written": self.written,
            "dropped": self.dropped,
            "queued": self.queued,
        }


@dataclass
class _Item:
    record: AuditRecord
    stored: asyncio.Future[bool] | None


def report_drops(dropped: int, total: int, reason: str) -> None:
    telemetry.emit(
        "pii-audit-dropped",
        logging.ERROR,
        {
            "pii-audit-dropped": dropped,
            "pii-audit-dropped-total": total,
            "pii-audit-drop-reason": reason,
        },
    )


class AuditTrail:
    def __init__(
        self,
        store: AuditStore,
        chain: Chain,
        *,
        required: bool = False,
        limits: TrailLimits | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        observe: Observer = report_drops,
    ) -> None:
        self.store = store
        self.chain = chain
        self.required = required
        self.limits = limits or TrailLimits()
        self._clock = clock
        self._sleep = sleep
        self._observe = observe
        self._queue: asyncio.Queue[_Item] = asyncio.Queue(self.limits.queue_size)
        self._task: asyncio.Task[None] | None = None
        self._blob: str | None = None
        self._position = 0
        self._prepared = False
        self._closed = False
        self.healthy = True
        self.written = 0
        self.dropped = 0
        self._unreported = 0
        self._reported_at = 0.0

    async def submit(self, record: AuditRecord) -> bool:
        """True when the record was queued (stored, with ``required``); False when dropped."""
        if self._closed:
            self._drop(1, "closed")
            return False
        self._start()
        if not self.required:
            try:
                self._queue.put_nowait(_Item(record, None))
            except asyncio.QueueFull:
                self._drop(1, "queue-full")
                return False
            return True
        return await self._submit_and_wait(record)

    async def _submit_and_wait(self, record: AuditRecord) -> bool:
        stored: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        ends = time.monotonic() + self.limits.accept_timeout_s
        try:
            await asyncio.wait_for(self._queue.put(_Item(record, stored)), _left(ends))
        except TimeoutError:
            self._drop(1, "queue-full")
            return False
        try:
            return await asyncio.wait_for(asyncio.shield(stored), _left(ends))
        except TimeoutError:  # still queued: it may yet be stored (and is counted if not)
            return False

    def status(self) -> AuditStatus:
        return AuditStatus(
            self.required, self.healthy, self.written, self.dropped, self._queue.qsize()
        )

    async def close(self) -> None:
        """Stores what is queued (within ``close_timeout_s``) and a last checkpoint."""
        self._closed = True
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), self.limits.close_timeout_s)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            if self.chain.state.since_checkpoint and self.healthy:
                await self._write([], close=True)
        self._report(force=True)
        await self.store.close()

    def _start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._flush_forever())

    async def _flush_forever(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.limits.batch_size and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._write(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _write(self, batch: list[_Item], *, close: bool = False) -> None:
        now = self._clock()
        stamp = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        data, state = self.chain.seal([item.record.to_dict() for item in batch], stamp, close=close)
        for attempt in range(self.limits.attempts):
            try:
                await self._append(now, data)
            except AppendConflictError:
                self._restart_chain()
                break
            except AuditStoreError:
                if attempt + 1 < self.limits.attempts:
                    await self._sleep(self.limits.backoff_s * 2**attempt)
                continue
            self.chain.commit(state)
            self.healthy = True
            self.written += len(batch)
            _settle(batch, stored=True)
            return
        self.healthy = False
        if batch:
            self._drop(len(batch), "store-unavailable")
        _settle(batch, stored=False)

    async def _append(self, now: datetime, data: bytes) -> None:
        if not self._prepared:
            await self.store.prepare()
            self._prepared = True
        name = blob_name(self.chain.writer, now)
        if name != self._blob:
            await self.store.create(name)
            self._blob, self._position = name, 0
        await self.store.append(name, data, self._position)
        self._position += len(data)

    def _restart_chain(self) -> None:
        """Another hand wrote into this writer's blob: carry on as a new writer, new chain."""
        self.chain = Chain(new_writer_id(), self.chain.keys, self.chain.checkpoint_every)
        self._blob = None

    def _drop(self, count: int, reason: str) -> None:
        self.dropped += count
        self._unreported += count
        self._report(reason)

    def _report(self, reason: str = "store-unavailable", *, force: bool = False) -> None:
        now = time.monotonic()
        if self._unreported and (force or now - self._reported_at >= REPORT_EVERY_S):
            self._observe(self._unreported, self.dropped, reason)
            self._unreported = 0
            self._reported_at = now


def _settle(batch: list[_Item], *, stored: bool) -> None:
    for item in batch:
        if item.stored is not None and not item.stored.done():
            item.stored.set_result(stored)


def _left(ends: float) -> float:
    return max(ends - time.monotonic(), 0.0)
