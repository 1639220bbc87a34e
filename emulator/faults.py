"""Injected faults: their JSON shape, the queue requests draw them from, and result tampering."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from emulator.indexing import utf16_length

FaultKind = Literal[
    "status",
    "hang",
    "malformed",
    "drop_document",
    "document_error",
    "duplicate_document",
    "unknown_document",
    "bad_offsets",
    "reset",
    "trickle",
]
RESULT_FAULTS = frozenset(
    {"drop_document", "document_error", "duplicate_document", "unknown_document", "bad_offsets"}
)


class Fault(BaseModel):
    """One fault as posted to `/_emulator/faults`; fields a kind does not use are ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: FaultKind
    times: int | None = Field(default=1, ge=1)
    after: int = Field(default=0, ge=0)
    batch_contains: str | None = None
    status: int = Field(default=500, ge=400, le=599)
    headers: dict[str, str] = Field(default_factory=dict)
    seconds: float = Field(default=1.0, ge=0.0)
    interval: float = Field(default=0.05, gt=0.0)
    index: int = -1


@dataclass(slots=True)
class _Queued:
    fault: Fault
    remaining: int | None
    skip: int

    def matches(self, texts: Sequence[str]) -> bool:
        needle = self.fault.batch_contains
        return needle is None or any(needle in text for text in texts)


class FaultQueue:
    """Faults in the order posted; each valid analyze request draws at most one.

    A fault matches a request when `batch_contains` is unset or found in one of its texts. Every
    matching fault still skipping (`after`) counts the request down; the first matching fault that
    is no longer skipping is taken and its `times` counted down (`None`: never used up).
    """

    def __init__(self) -> None:
        self._items: list[_Queued] = []

    def add(self, faults: Iterable[Fault]) -> None:
        self._items += [_Queued(fault, fault.times, fault.after) for fault in faults]

    def clear(self) -> None:
        self._items = []

    def take(self, texts: Sequence[str]) -> Fault | None:
        chosen: _Queued | None = None
        for item in self._items:
            if not item.matches(texts):
                continue
            if item.skip > 0:
                item.skip -= 1
            elif chosen is None:
                chosen = item
        if chosen is None:
            return None
        if chosen.remaining is not None:
            chosen.remaining -= 1
        self._items = [item for item in self._items if item.remaining != 0]
        return chosen.fault

    def pending(self) -> list[dict[str, Any]]:
        return [
            {**item.fault.model_dump(), "remaining": item.remaining, "skip": item.skip}
            for item in self._items
        ]


def tamper(body: dict[str, Any], fault: Fault) -> None:
    """Applies a result-level fault to a success body in place; no-op when there is no target."""
    results = body["results"]
    documents: list[dict[str, Any]] = results["documents"]
    if fault.kind == "unknown_document":
        documents.append(_unknown_document())
        return
    if not -len(documents) <= fault.index < len(documents):
        return
    if fault.kind == "drop_document":
        documents.pop(fault.index)
    elif fault.kind == "document_error":
        failed = documents.pop(fault.index)
        results["errors"].append({"id": failed["id"], "error": _injected_error()})
    elif fault.kind == "duplicate_document":
        documents.append(copy.deepcopy(documents[fault.index]))
    elif fault.kind == "bad_offsets":
        documents[fault.index]["entities"].append(_outside_entity(documents[fault.index]))


def _unknown_document() -> dict[str, Any]:
    return {
        "id": f"unknown-{uuid.uuid4().hex[:8]}",
        "redactedText": "",
        "entities": [],
        "warnings": [],
    }


def _injected_error() -> dict[str, Any]:
    message = "Internal error has occurred (injected by the emulator)."
    return {
        "code": "InternalServerError",
        "message": message,
        "innererror": {"code": "ExtractionFailure", "message": message},
    }


def _outside_entity(document: dict[str, Any]) -> dict[str, Any]:
    # UTF-16 length bounds the length in every stringIndexType, so the span ends outside in all;
    # the offset itself stays inside, to catch clients that check only the start.
    offset = max(utf16_length(document["redactedText"]) - 1, 0)
    return {"text": "x", "category": "Email", "offset": offset, "length": 6, "confidenceScore": 0.9}
