"""The audit chain and its verification on plain values: entries chained per writer, signed
checkpoints, and the first broken, missing or reordered entry named."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime

import pytest

from redaction.audit.chain import GENESIS, Chain, entry_hash
from redaction.audit.keys import AuditKeys
from redaction.audit.layout import blob_name, new_writer_id, writer_of
from redaction.audit.records import AuditRecord, PolicyFacts
from redaction.audit.verification import verify_blobs

KEYS = AuditKeys.derive(b"k" * 32)
WRITER = "instance-1-0a0b0c0d"
BLOB = blob_name(WRITER, datetime(2026, 12, 1, 2, 30, tzinfo=UTC))
NOW = "2026-12-01T02:30:00.000Z"


def record(n: int) -> dict[str, object]:
    return AuditRecord("redact", "ok", 200, f"req{n}", f"ans{n}", time=NOW).to_dict()


def sealed(count: int, every: int = 4, *, close: bool = True) -> bytes:
    chain = Chain(WRITER, KEYS, every)
    data, state = chain.seal([record(n) for n in range(count)], NOW, close=close)
    chain.commit(state)
    return data


def lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def test_a_record_holds_counts_ids_and_digests_only() -> None:
    policy = PolicyFacts("strict", "ab" * 32, version="3", author="rules-team")
    values = AuditRecord(
        "redact",
        "partial",
        200,
        "r" * 64,
        "a" * 64,
        correlation_id="c-1",
        tenant="t-1",
        caller="apim",
        failure_reason="timeout",
        policy=policy,
        detector="embedded",
        full_coverage=False,
        categories={"Email": 2},
        counts={"documents": 3, "unscanned": 1},
    ).to_dict()
    assert values["policy"] == {
        "name": "strict",
        "hash": "ab" * 32,
        "version": "3",
        "author": "rules-team",
    }
    assert values["request_hmac"] == "r" * 64
    assert "api_version" not in values  # unset fields are left out
    assert set(values) <= {
        "v", "time", "operation", "outcome", "http_status", "request_hmac", "answer_hmac",
        "correlation_id", "tenant", "caller", "failure_reason", "error_code", "policy",
        "detector", "api_version", "full_coverage", "categories", "counts", "duration_ms",
    }  # fmt: skip


def test_body_digests_are_keyed() -> None:
    other = AuditKeys.derive(b"o" * 32)
    assert KEYS.digest(b"{}") == KEYS.digest(b"{}")
    assert KEYS.digest(b"{}") != other.digest(b"{}")
    assert KEYS.digest(b"{}") != KEYS.digest(b"{ }")


def test_entries_are_chained_and_checkpointed() -> None:
    entries = [json.loads(line) for line in lines(sealed(9, every=4))]
    kinds = [entry["kind"] for entry in entries]
    four = ["record"] * 4
    assert kinds == [*four, "checkpoint", *four, "checkpoint", "record", "checkpoint"]
    assert [entry["seq"] for entry in entries] == list(range(12))
    assert entries[0]["prev"] == GENESIS
    for before, after in itertools.pairwise(entries):
        assert after["prev"] == before["hash"] == entry_hash(before)
    assert [e["records"] for e in entries if e["kind"] == "checkpoint"] == [4, 8, 9]
    assert all(KEYS.signed(e["hash"], e["sig"]) for e in entries if e["kind"] == "checkpoint")


def test_a_sealed_batch_moves_the_chain_on_only_when_committed() -> None:
    chain = Chain(WRITER, KEYS, 100)
    first, _ = chain.seal([record(0)], NOW)
    again, state = chain.seal([record(0)], NOW)
    assert first == again  # not committed: the same entry again
    chain.commit(state)
    assert chain.state.seq == 1
    assert chain.state.prev == json.loads(first)["hash"]


def test_an_intact_trail_verifies_with_a_summary() -> None:
    report = verify_blobs([(BLOB, sealed(9))], KEYS)
    assert report.problem is None
    assert (report.records, report.checkpoints, report.writers, report.blobs) == (9, 3, 1, 1)
    assert report.unsigned_tail == 0
    assert "intact: 9 records, 3 checkpoints, 1 writers, 1 blobs" in report.summary()


def test_records_after_the_last_checkpoint_are_counted_as_not_yet_signed() -> None:
    report = verify_blobs([(BLOB, sealed(6, close=False))], KEYS)
    assert report.problem is None
    assert report.unsigned_tail == 2


def edit(line: bytes, rehash: bool) -> bytes:
    entry = json.loads(line)
    entry["record"]["outcome"] = "partial"
    if rehash:
        entry["hash"] = entry_hash(entry)
    return json.dumps(entry, sort_keys=True, separators=(",", ":")).encode() + b"\n"


def test_an_edited_record_is_named() -> None:
    parts = lines(sealed(9))
    parts[2] = edit(parts[2], rehash=False)
    problem = verify_blobs([(BLOB, b"".join(parts))], KEYS).problem
    assert problem is not None
    assert (problem.blob, problem.line, problem.seq) == (BLOB, 3, 2)
    assert "does not match its hash" in problem.describe()


def test_an_edited_record_with_its_hash_recomputed_is_named() -> None:
    parts = lines(sealed(9))
    parts[2] = edit(parts[2], rehash=True)
    problem = verify_blobs([(BLOB, b"".join(parts))], KEYS).problem
    assert problem is not None
    assert (problem.line, problem.seq) == (3, 2)
    assert problem.what.startswith("changed")


def test_a_chain_rewritten_from_an_entry_on_fails_at_the_next_checkpoint() -> None:
    """The forger recomputes every hash after the edit but cannot sign a checkpoint."""
    entries = [json.loads(line) for line in lines(sealed(9))]
    entries[2]["record"]["outcome"] = "partial"
    prev = entries[1]["hash"]
    for entry in entries[2:]:
        entry["prev"] = prev
        entry["hash"] = prev = entry_hash(entry)
    data = b"".join(json.dumps(e).encode() + b"\n" for e in entries)
    problem = verify_blobs([(BLOB, data)], KEYS).problem
    assert problem is not None
    assert (problem.line, problem.seq) == (5, 4)
    assert "signature is not valid" in problem.what
    assert verify_blobs([(BLOB, data)], None).problem is None  # without the key: chain only


def test_a_removed_record_is_named_as_missing() -> None:
    parts = lines(sealed(9))
    del parts[3]
    problem = verify_blobs([(BLOB, b"".join(parts))], KEYS).problem
    assert problem is not None
    assert (problem.line, problem.seq) == (4, 4)
    assert problem.what == "missing before it: seq 3"


def test_reordered_records_are_named() -> None:
    parts = lines(sealed(9))
    parts[1], parts[2] = parts[2], parts[1]
    problem = verify_blobs([(BLOB, b"".join(parts))], KEYS).problem
    assert problem is not None
    assert (problem.line, problem.seq) == (2, 2)
    assert problem.what == "out of order: seq 1 comes later"


def test_a_missing_first_blob_of_a_writer_is_named() -> None:
    chain = Chain(WRITER, KEYS, 100)
    first, state = chain.seal([record(0)], NOW)
    chain.commit(state)
    second, _ = chain.seal([record(1)], NOW)
    later = blob_name(WRITER, datetime(2026, 12, 1, 3, tzinfo=UTC))
    assert verify_blobs([(BLOB, first), (later, second)], KEYS).problem is None
    problem = verify_blobs([(later, second)], KEYS).problem
    assert problem is not None
    assert problem.what == "missing before it: seq 0"


def test_a_torn_or_foreign_blob_is_named() -> None:
    torn = verify_blobs([(BLOB, sealed(3)[:-5])], KEYS).problem
    assert torn is not None
    assert "whole entry" in torn.what
    foreign = verify_blobs([("notes.txt", b"x\n")], KEYS).problem
    assert foreign is not None
    assert foreign.blob == "notes.txt"


def test_the_first_problem_in_reading_order_is_named() -> None:
    other = "instance-2-01020304"
    chain = Chain(other, KEYS, 100)
    data, _ = chain.seal([record(0), record(1)], NOW)
    bad_other = lines(data)
    bad_other[1] = edit(bad_other[1], rehash=False)
    bad_mine = lines(sealed(3))
    bad_mine[2] = edit(bad_mine[2], rehash=False)
    earlier = blob_name(other, datetime(2026, 12, 1, 1, tzinfo=UTC))
    blobs = [(BLOB, b"".join(bad_mine)), (earlier, b"".join(bad_other))]
    problem = verify_blobs(blobs, KEYS).problem
    assert problem is not None
    assert problem.writer == other


@pytest.mark.parametrize("instance", ["host/with:odd chars", "", "x" * 80])
def test_writer_ids_are_safe_blob_names(instance: str) -> None:
    writer = new_writer_id(instance)
    name = blob_name(writer, datetime(2026, 1, 2, 3, tzinfo=UTC))
    assert name.startswith("2026/01/02/03/")
    assert writer_of(name) == writer
