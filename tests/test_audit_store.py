"""The audit store and trail against Azurite (the real Blob protocol): append blobs per writer per
hour, batches off the request path, drops counted, audit fail-closed, and ``audit verify`` on
what was really stored."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from redaction.audit.chain import Chain
from redaction.audit.command import verify
from redaction.audit.keys import AuditKeys
from redaction.audit.records import AuditRecord
from redaction.audit.store import AppendConflictError, BlobAuditStore
from redaction.audit.trail import AuditTrail, TrailLimits
from tests.azurite import (
    closed_port_connection_string,
    new_container_name,
    read_container,
    replace_blob,
    require_azurite,
)

pytestmark = pytest.mark.server
KEYS = AuditKeys.derive(b"s" * 32)
START = datetime(2026, 12, 1, 2, 59, 58, tzinfo=UTC)


def record(n: int) -> AuditRecord:
    return AuditRecord("redact", "ok", 200, KEYS.digest(b"%d" % n), KEYS.digest(b"a"))


@pytest.fixture
def container() -> str:
    require_azurite()
    return new_container_name()


def open_store(container: str, connection_string: str | None = None) -> BlobAuditStore:
    return BlobAuditStore.from_settings(
        container, connection_string=connection_string or require_azurite(), timeout_s=2.0
    )


@pytest.fixture
async def store(container: str) -> AsyncIterator[BlobAuditStore]:
    opened = open_store(container)
    await opened.prepare()
    yield opened
    await opened.close()


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def trail_on(
    store: BlobAuditStore, clock: Callable[[], datetime] | None = None, **kwargs: object
) -> AuditTrail:
    observed: list[tuple[int, int, str]] = []
    limits = TrailLimits(**{"backoff_s": 0.0, "accept_timeout_s": 1.0, **kwargs})  # type: ignore[arg-type]
    trail = AuditTrail(
        store,
        Chain("test-writer-00000001", KEYS, 4),
        limits=limits,
        clock=clock or Clock(),
        observe=lambda n, total, reason: observed.append((n, total, reason)),
    )
    trail.observed = observed  # type: ignore[attr-defined]
    return trail


async def test_appends_are_idempotent_at_a_position(store: BlobAuditStore) -> None:
    await store.create("2026/12/01/02/w-1.jsonl")
    await store.append("2026/12/01/02/w-1.jsonl", b"one\n", 0)
    await store.append("2026/12/01/02/w-1.jsonl", b"one\n", 0)  # an answer lost, sent again
    await store.append("2026/12/01/02/w-1.jsonl", b"two\n", 4)
    assert await store.read("2026/12/01/02/w-1.jsonl") == b"one\ntwo\n"
    with pytest.raises(AppendConflictError):
        await store.append("2026/12/01/02/w-1.jsonl", b"three\n", 4)


async def test_records_go_to_one_blob_per_writer_per_hour_and_verify(
    store: BlobAuditStore, container: str
) -> None:
    clock = Clock()
    trail = trail_on(store, clock)
    for n in range(6):
        assert await trail.submit(record(n))
    await trail._queue.join()
    clock.now = START + timedelta(seconds=5)  # the next hour
    for n in range(6, 9):
        assert await trail.submit(record(n))
    await trail.close()
    blobs = await read_container(container)
    assert sorted(blobs) == [
        "2026/12/01/02/test-writer-00000001.jsonl",
        "2026/12/01/03/test-writer-00000001.jsonl",
    ]
    assert trail.status().to_dict() == {
        "enabled": True,
        "required": False,
        "healthy": True,
        "written": 9,
        "dropped": 0,
        "queued": 0,
    }
    out = io.StringIO()
    assert await verify(open_store(container), KEYS, out=out) == 0
    assert "intact: 9 records, 3 checkpoints, 1 writers, 2 blobs" in out.getvalue()
    assert "0 records after their writer's last checkpoint" in out.getvalue()


async def stored_trail(store: BlobAuditStore, container: str) -> tuple[str, list[bytes]]:
    trail = trail_on(store)
    for n in range(6):
        await trail.submit(record(n))
    await trail.close()
    [(name, data)] = (await read_container(container)).items()
    return name, data.splitlines(keepends=True)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("edit", "line 3 (writer test-writer-00000001, seq 2): the entry does not match its hash"),
        ("remove", "line 3 (writer test-writer-00000001, seq 3): missing before it: seq 2"),
        ("reorder", "line 2 (writer test-writer-00000001, seq 2): out of order: seq 1 comes"),
    ],
)
async def test_verify_names_the_first_bad_entry_in_the_container(
    store: BlobAuditStore, container: str, change: str, expected: str
) -> None:
    name, lines = await stored_trail(store, container)
    if change == "edit":
        lines[2] = lines[2].replace(b'"outcome":"ok"', b'"outcome":"partial"')
    elif change == "remove":
        del lines[2]
    else:
        lines[1], lines[2] = lines[2], lines[1]
    await replace_blob(container, name, b"".join(lines))
    out = io.StringIO()
    assert await verify(open_store(container), KEYS, out=out) == 1
    assert f"audit verify: first problem: {name} {expected}" in out.getvalue()


async def test_an_unreachable_store_is_counted_as_drops_by_default() -> None:
    store = open_store(new_container_name(), closed_port_connection_string())
    trail = trail_on(store)
    assert await trail.submit(record(0))  # queued: the request goes on
    await trail._queue.join()
    status = trail.status()
    assert (status.healthy, status.written, status.dropped) == (False, 0, 1)
    assert trail.observed == [(1, 1, "store-unavailable")]  # type: ignore[attr-defined]
    await trail.close()


async def test_an_unreachable_store_refuses_records_when_required() -> None:
    store = open_store(new_container_name(), closed_port_connection_string())
    trail = trail_on(store)
    trail.required = True
    assert not await trail.submit(record(0))
    assert trail.status().dropped == 1
    await trail.close()


async def test_a_required_record_is_stored_before_submit_returns(
    store: BlobAuditStore, container: str
) -> None:
    trail = trail_on(store)
    trail.required = True
    assert await trail.submit(record(0))
    assert len((await read_container(container)).popitem()[1].splitlines()) == 1
    await trail.close()


async def test_a_full_queue_drops_and_counts(store: BlobAuditStore) -> None:
    trail = trail_on(store, queue_size=2)
    results = [await trail.submit(record(n)) for n in range(5)]  # no await lets the flusher run
    assert results == [True, True, False, False, False]
    assert trail.status().dropped == 3
    await trail.close()
    assert trail.status().written == 2


async def test_verify_of_an_unreachable_store_exits_2() -> None:
    store = open_store(new_container_name(), closed_port_connection_string())
    assert await verify(store, KEYS, out=io.StringIO()) == 2
