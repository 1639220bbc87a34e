"""What one audit record says about one ``/redact`` or ``/restore`` (or a refusal of either).

Only counts, categories, ids, outcomes and keyed digests: never text, entity values or keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Operation = Literal["redact", "restore"]
RECORD_VERSION = 1


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class PolicyFacts:
    """The policy a request used: its name (``inline`` for one sent in the request), the hash
    of its effective content, and the version and author a named policy carries."""

    name: str
    content_hash: str
    version: str | None = None
    author: str | None = None

    def to_dict(self) -> dict[str, Any]:
        facts = {"name": self.name, "hash": self.content_hash}
        facts.update({k: v for k, v in (("version", self.version), ("author", self.author)) if v})
        return facts


@dataclass(frozen=True)
class AuditRecord:
    operation: Operation
    outcome: str  # ok | partial | error | refused
    http_status: int
    request_digest: str
    answer_digest: str
    time: str = field(default_factory=now_iso)
    correlation_id: str | None = None
    tenant: str | None = None
    caller: str | None = None
    failure_reason: str | None = None
    error_code: str | None = None
    policy: PolicyFacts | None = None
    detector: str | None = None
    api_version: str | None = None
    full_coverage: bool | None = None
    categories: Mapping[str, int] = field(default_factory=dict)
    counts: Mapping[str, int] = field(default_factory=dict)
    duration_ms: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON values; unset fields are left out."""
        values: dict[str, Any] = {
            "v": RECORD_VERSION,
            "time": self.time,
            "operation": self.operation,
            "outcome": self.outcome,
            "http_status": self.http_status,
            "request_hmac": self.request_digest,
            "answer_hmac": self.answer_digest,
            "correlation_id": self.correlation_id,
            "tenant": self.tenant,
            "caller": self.caller,
            "failure_reason": self.failure_reason,
            "error_code": self.error_code,
            "policy": self.policy.to_dict() if self.policy else None,
            "detector": self.detector,
            "api_version": self.api_version,
            "full_coverage": self.full_coverage,
            "categories": dict(self.categories) or None,
            "counts": dict(self.counts) or None,
            "duration_ms": self.duration_ms,
        }
        return {key: value for key, value in values.items() if value is not None}
