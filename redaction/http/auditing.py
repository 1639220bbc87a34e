"""The audit record of one handled ``/redact`` or ``/restore`` (docs/security.md#audit-trail):
built from what the handler saw and answered, never from text, and handed to the trail."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from redaction import runtime
from redaction.audit.keys import AuditKeys
from redaction.audit.records import AuditRecord, Operation, PolicyFacts
from redaction.errors import SettingsError
from redaction.models import Diagnostics
from redaction.policy.tenant import PolicyIdentity

# Who asked, most trusted first: App Service authentication's principal, the one APIM passes on,
# and under `serve` the name of the key that opened the route (set by http/server.py only).
CALLER_HEADERS = ("x-ms-client-principal-name", "x-ms-client-principal-id", "x-pii-caller")
KEY_NAME_HEADER = "x-pii-key-name"


@dataclass
class Seen:
    """What a handler learned about its request, as it went."""

    started: float
    correlation_id: str | None = None
    tenant: str | None = None
    policy: PolicyIdentity | None = None
    diagnostics: Diagnostics | None = None


async def record(
    operation: Operation,
    request_body: bytes,
    headers: Mapping[str, str],
    answer: tuple[int, Mapping[str, Any], Callable[[], bytes]],
    seen: Seen,
) -> bool:
    """Hands the record to the trail. False only when the trail is required and the record
    was not stored in time: the caller then answers 503 instead."""
    try:
        state = runtime.get_runtime()
    except SettingsError:  # nothing was served either: the answer says so
        return True
    if state.audit is None or state.audit_keys is None:
        return True
    entry = build_record(operation, request_body, headers, answer, seen, state.audit_keys)
    return await state.audit.submit(entry) or not state.audit.required


def build_record(
    operation: Operation,
    request_body: bytes,
    headers: Mapping[str, str],
    answer: tuple[int, Mapping[str, Any], Callable[[], bytes]],
    seen: Seen,
    keys: AuditKeys,
) -> AuditRecord:
    status, payload, answer_body = answer
    error = payload.get("error") or {}
    found = seen.diagnostics
    reason = error.get("reason") or (found.failure_reason if found else None)
    return AuditRecord(
        operation,
        _outcome(status, payload),
        status,
        keys.digest(request_body),
        keys.digest(answer_body()),
        correlation_id=seen.correlation_id,
        tenant=seen.tenant,
        caller=caller(headers),
        failure_reason=str(reason) if reason else None,
        error_code=error.get("code"),
        policy=_policy(seen.policy),
        detector=found.detector if found else None,
        api_version=found.api_version if found else None,
        full_coverage=payload.get("full_coverage") if operation == "redact" else None,
        categories=found.categories if found else {},
        counts=_counts(found, payload),
        duration_ms=round((time.monotonic() - seen.started) * 1000, 1),
    )


def caller(headers: Mapping[str, str]) -> str | None:
    lowered = {key.lower(): value for key, value in headers.items()}
    for name in CALLER_HEADERS:
        if lowered.get(name):
            return lowered[name][:256]
    key = lowered.get(KEY_NAME_HEADER)
    return f"key:{key[:64]}" if key else None


def _outcome(status: int, payload: Mapping[str, Any]) -> str:
    if status == 200:
        return str(payload.get("status", "ok"))
    return "refused" if 400 <= status < 500 else "error"


def _policy(identity: PolicyIdentity | None) -> PolicyFacts | None:
    if identity is None:
        return None
    return PolicyFacts(identity.name, identity.content_hash, identity.version, identity.author)


def _counts(found: Diagnostics | None, payload: Mapping[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    if found is not None:
        counts = {
            "documents": found.total_docs,
            "unscanned": found.unscanned_docs,
            "entities": found.entity_count,
            "batches": found.batches,
        }
    if isinstance(payload.get("restored"), int):
        counts["restored"] = payload["restored"]
    return counts
