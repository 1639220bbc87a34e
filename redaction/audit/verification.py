"""Reads a container's entries back and checks every writer's chain: each entry matches its hash,
follows the one before it (``prev``), comes in sequence (none missing, none out of order), and
each checkpoint carries a valid signature (when the key is given) and the right record count.

Names the first problem in reading order (blob name, then line), or summarizes an intact trail.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from redaction.audit.chain import GENESIS, entry_hash
from redaction.audit.keys import AuditKeys
from redaction.audit.layout import writer_of

if TYPE_CHECKING:
    from redaction.audit.store import AuditStore


@dataclass(frozen=True)
class Problem:
    blob: str
    line: int  # 1-based
    what: str
    writer: str | None = None
    seq: int | None = None

    def describe(self) -> str:
        where = f"{self.blob} line {self.line}"
        if self.writer is not None:
            where += f" (writer {self.writer}, seq {self.seq})"
        return f"{where}: {self.what}"


@dataclass
class Report:
    blobs: int = 0
    writers: int = 0
    records: int = 0
    checkpoints: int = 0
    unsigned_tail: int = 0  # records after their writer's last checkpoint
    signatures_checked: bool = False
    problem: Problem | None = None

    def summary(self) -> str:
        signatures = "checked" if self.signatures_checked else "not checked (no PII_AUDIT_HMAC_KEY)"
        return (
            f"intact: {self.records} records, {self.checkpoints} checkpoints, "
            f"{self.writers} writers, {self.blobs} blobs; checkpoint signatures {signatures}; "
            f"{self.unsigned_tail} records after their writer's last checkpoint"
        )


@dataclass
class _Located:
    blob: str
    line: int
    entry: dict[str, Any]


async def verify_store(store: AuditStore, keys: AuditKeys | None, prefix: str = "") -> Report:
    names = sorted(await store.names(prefix))
    return verify_blobs([(name, await store.read(name)) for name in names], keys)


def verify_blobs(blobs: Iterable[tuple[str, bytes]], keys: AuditKeys | None) -> Report:
    """``blobs``: (name, content) pairs, in any order."""
    blobs = sorted(blobs)
    report = Report(signatures_checked=keys is not None)
    chains: dict[str, list[_Located]] = defaultdict(list)
    problems: list[Problem] = []
    for name, data in blobs:
        report.blobs += 1
        problem = _read_blob(name, data, chains)
        if problem is not None:
            problems.append(problem)
    report.writers = len(chains)
    for writer, entries in chains.items():
        problem = _check_chain(writer, entries, keys, report)
        if problem is not None:
            problems.append(problem)
    if problems:
        order = {name: index for index, (name, _) in enumerate(blobs)}
        report.problem = min(problems, key=lambda p: (order.get(p.blob, 0), p.line))
    return report


def _read_blob(name: str, data: bytes, chains: dict[str, list[_Located]]) -> Problem | None:
    writer = writer_of(name)
    if writer is None:
        return Problem(name, 0, "a blob this trail does not write")
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    else:
        return Problem(name, len(lines), "the blob does not end with a whole entry")
    for number, raw in enumerate(lines, start=1):
        entry = _parse(raw)
        if entry is None:
            return Problem(name, number, "not an audit entry (changed or damaged)")
        if entry["writer"] != writer:
            return Problem(name, number, f"an entry of writer {entry['writer']} in this blob")
        chains[writer].append(_Located(name, number, entry))
    return None


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        entry = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(entry, dict):
        return None
    shape = {"writer": str, "seq": int, "prev": str, "hash": str, "kind": str}
    if any(not isinstance(entry.get(key), kind) for key, kind in shape.items()):
        return None
    return entry


def _check_chain(
    writer: str, entries: Sequence[_Located], keys: AuditKeys | None, report: Report
) -> Problem | None:
    expected, prev, records, signed = 0, GENESIS, 0, 0
    previous: _Located | None = None
    later = {located.entry["seq"] for located in entries}
    for located in entries:
        entry = located.entry
        seq = entry["seq"]
        what = _entry_problem(entry, expected, records, keys, later)
        if what is not None:
            return Problem(located.blob, located.line, what, writer, seq)
        if entry["prev"] != prev:
            return _unfollowed(writer, located, previous)
        later.discard(seq)
        if entry["kind"] == "checkpoint":
            report.checkpoints += 1
            signed = records
        else:
            records += 1
            report.records += 1
        expected, prev, previous = seq + 1, entry["hash"], located
    report.unsigned_tail += records - signed
    return None


def _unfollowed(writer: str, located: _Located, previous: _Located | None) -> Problem:
    """The entry's ``prev`` is not the hash of the entry before it: that one was changed (and
    its hash recomputed to match), or this is not where the chain starts."""
    if previous is None:
        return Problem(
            located.blob, located.line, "does not start a chain", writer, located.entry["seq"]
        )
    what = "changed: the entry after it does not follow it (its hash was recomputed)"
    return Problem(previous.blob, previous.line, what, writer, previous.entry["seq"])


def _entry_problem(
    entry: dict[str, Any],
    expected: int,
    records: int,
    keys: AuditKeys | None,
    later: set[int],
) -> str | None:
    if entry_hash(entry) != entry["hash"]:
        return "the entry does not match its hash (edited)"
    seq = entry["seq"]
    if seq > expected and expected in later:
        return f"out of order: seq {expected} comes later"
    if seq > expected:
        missing = f"seq {expected}" if seq == expected + 1 else f"seqs {expected}-{seq - 1}"
        return f"missing before it: {missing}"
    if seq < expected:
        return f"out of order: comes after seq {expected - 1}"
    if entry["kind"] == "checkpoint":
        return _checkpoint_problem(entry, records, keys)
    if entry["kind"] != "record":
        return f"unknown entry kind {entry['kind']!r}"
    return None


def _checkpoint_problem(entry: dict[str, Any], records: int, keys: AuditKeys | None) -> str | None:
    if entry.get("records") != records:
        return f"the checkpoint counts {entry.get('records')} records, the chain holds {records}"
    if keys is not None and not keys.signed(entry["hash"], str(entry.get("sig", ""))):
        return "the checkpoint's signature is not valid (the chain up to it was rewritten)"
    return None
