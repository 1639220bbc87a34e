"""Entries hash-chained per writer: each holds its writer, its sequence number and the SHA-256
of the entry before it, and its own SHA-256 over all of that. Every ``checkpoint_every`` records
(and when a writer closes) a checkpoint entry joins the chain, signed with the checkpoint key, so
a chain rewritten from some entry on is caught at the next checkpoint even if its hashes agree.

Pure: ``seal`` returns the lines and the state after them; the state moves on only when the
caller ``commit``s it, after the lines were stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redaction.audit.keys import AuditKeys

GENESIS = "0" * 64
ENTRY_VERSION = 1
DEFAULT_CHECKPOINT_EVERY = 100


@dataclass(frozen=True)
class ChainState:
    seq: int = 0  # of the next entry
    prev: str = GENESIS
    records: int = 0
    since_checkpoint: int = 0


def canonical(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def entry_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 of an entry without its ``hash`` and ``sig``."""
    body = {key: value for key, value in entry.items() if key not in ("hash", "sig")}
    return hashlib.sha256(canonical(body)).hexdigest()


class Chain:
    def __init__(
        self, writer: str, keys: AuditKeys, checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY
    ) -> None:
        self.writer = writer
        self.keys = keys
        self.checkpoint_every = checkpoint_every
        self.state = ChainState()

    def seal(
        self, records: Sequence[Mapping[str, Any]], now: str, *, close: bool = False
    ) -> tuple[bytes, ChainState]:
        """The lines for ``records`` (and the checkpoints due), and the state after them."""
        state = self.state
        lines: list[bytes] = []
        for record in records:
            line, state = self._append(state, {"kind": "record", "record": dict(record)})
            lines.append(line)
            if state.since_checkpoint >= self.checkpoint_every:
                line, state = self._checkpoint(state, now)
                lines.append(line)
        if close and state.since_checkpoint:
            line, state = self._checkpoint(state, now)
            lines.append(line)
        return b"".join(lines), state

    def commit(self, state: ChainState) -> None:
        self.state = state

    def _checkpoint(self, state: ChainState, now: str) -> tuple[bytes, ChainState]:
        line, after = self._append(
            state, {"kind": "checkpoint", "time": now, "records": state.records}, sign=True
        )
        return line, ChainState(after.seq, after.prev, after.records, 0)

    def _append(
        self, state: ChainState, content: dict[str, Any], *, sign: bool = False
    ) -> tuple[bytes, ChainState]:
        entry = {
            "v": ENTRY_VERSION,
            "writer": self.writer,
            "seq": state.seq,
            "prev": state.prev,
            **content,
        }
        digest = entry_hash(entry)
        entry["hash"] = digest
        if sign:
            entry["sig"] = self.keys.sign(digest)
        is_record = content["kind"] == "record"
        after = ChainState(
            seq=state.seq + 1,
            prev=digest,
            records=state.records + is_record,
            since_checkpoint=state.since_checkpoint + is_record,
        )
        return canonical(entry) + b"\n", after
