"""The HTTP endpoints as plain functions from request parts to an ``Answer``.

``function_app.py`` adapts them to Azure Functions and ``server.py`` serves those same functions;
neither holds logic of its own.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redaction import __version__, runtime, telemetry
from redaction.audit.records import Operation
from redaction.deadline import Deadline
from redaction.detectors.credentials import CREDENTIAL_REASONS
from redaction.detectors.detector import DetectionContext
from redaction.entities import Document
from redaction.errors import DetectorError, RequestError, SettingsError
from redaction.headers import header
from redaction.http import auditing
from redaction.http.decoding import check_headers, parse_request, parse_restore_request
from redaction.models import HealthResponse, RedactResponse, RestoreResponse
from redaction.placeholders.restore import Placeholders, restore_body
from redaction.reasons import FailureReason

logger = logging.getLogger("pii_redaction")

HEALTH_PROBE_TEXT = "Health probe: contact probe@example.com."
HEALTH_DEADLINE_S = 10.0
# Shipped next to function_app.py (see .funcignore); APIM imports the same file.
OPENAPI_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"  # beside redaction/


# The encoders of every answer, made once (json.dumps with options makes one per call).
_UTF8_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_ASCII_JSON = json.JSONEncoder(separators=(",", ":"))


@dataclass(frozen=True)
class Answer:
    status: int
    payload: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    @functools.cached_property
    def encoded(self) -> bytes:
        """UTF-8 JSON; escaped ASCII if some string still cannot be encoded (never a 500)."""
        try:
            return _UTF8_JSON.encode(self.payload).encode()
        except UnicodeEncodeError:
            return _ASCII_JSON.encode(self.payload).encode()

    def body(self) -> bytes:
        """Encoded once: the audit record's digest and the answer sent are of the same bytes."""
        return self.encoded


AUDIT_UNAVAILABLE = "the audit record of this request could not be stored in time"


async def redact(body: bytes, headers: Mapping[str, str]) -> Answer:
    """``POST /redact``, and its audit record."""
    seen = auditing.Seen(time.monotonic())
    return await _audited("redact", body, headers, await _redact(body, headers, seen), seen)


async def restore(body: bytes, headers: Mapping[str, str]) -> Answer:
    """``POST /restore``: the originals back into a model's answer, from a restore token."""
    seen = auditing.Seen(time.monotonic())
    return await _audited("restore", body, headers, await _restore(body, headers, seen), seen)


async def _audited(
    operation: Operation,
    body: bytes,
    headers: Mapping[str, str],
    answer: Answer,
    seen: auditing.Seen,
) -> Answer:
    """The answer, once its record is in the trail; 503 when the trail is required and the
    record could not be stored in time (no answer leaves without its record)."""
    facts = (answer.status, answer.payload, answer.body)
    if await auditing.record(operation, body, headers, facts, seen):
        return answer
    return _error_answer(503, "AuditUnavailable", AUDIT_UNAVAILABLE, [])


async def _redact(body: bytes, headers: Mapping[str, str], seen: auditing.Seen) -> Answer:
    try:
        state = runtime.get_runtime()
        deadline = Deadline.after(state.settings.pii_deadline_s)
        check_headers(headers, len(body), state.input_limits)
        request = parse_request(body, state.input_limits)
    except RequestError as error:
        _record_refusal(error)
        return _error_answer(error.status, error.code, error.message, error.details)
    except SettingsError as error:
        return _error_answer(503, "ServiceMisconfigured", str(error), [])
    tenant = request.config.subscription_id or _tenant_header(headers)
    seen.correlation_id, seen.tenant = request.config.correlation_id, tenant
    seen.policy = state.service.policies.identify(request.config)
    try:
        response = await state.service.redact(request, deadline, tenant)
    except RequestError as error:  # the service records its own refusals (413 before any call)
        return _error_answer(error.status, error.code, error.message, error.details)
    except SettingsError as error:  # e.g. mask_style placeholder without PII_RESTORE_KEY
        message = str(error)
        if "PII_RESTORE_KEY" in message:  # say why, when a bad or unresolved key turned it off
            message = state.degraded.get("placeholders", message)
        return _error_answer(503, "ServiceMisconfigured", message, [])
    except Exception as error:  # noqa: BLE001 - answer JSON; never echo anything
        logger.error("pii-internal-error", extra={"pii-error-type": type(error).__name__})
        return _error_answer(500, "InternalError", "the service failed unexpectedly", [])
    seen.diagnostics = response.diagnostics
    return Answer(200 if response.status != "error" else 503, _response_payload(response))


def _record_refusal(error: RequestError) -> None:
    """A request refused before any work still shows in the failure-rate query."""
    reasons = {
        413: FailureReason.PAYLOAD_TOO_LARGE,
        415: FailureReason.UNSUPPORTED_MEDIA_TYPE,
    }
    telemetry.emit(
        "pii-anonymization",
        logging.ERROR,
        {
            "pii-outcome": "error",
            "pii-redaction-succeeded": False,
            "pii-coverage-full": False,
            "pii-http-status": error.status,
            "pii-failure-reason": reasons.get(error.status, "invalid-request"),
            "pii-failure-detail": error.code,
        },
    )


async def _restore(body: bytes, headers: Mapping[str, str], seen: auditing.Seen) -> Answer:
    try:
        state = runtime.get_runtime()
        check_headers(headers, len(body), state.input_limits)
        request = parse_restore_request(body, state.input_limits)
        issuer = state.service.placeholders
        if issuer is None:
            off = state.degraded.get("placeholders", "/restore needs PII_RESTORE_KEY")
            raise SettingsError(off)
        config = request.config
        tenant = config.subscription_id or _tenant_header(headers)
        seen.correlation_id, seen.tenant = config.correlation_id, tenant
        mapping = issuer.sealer.open(request.restore_token, tenant, config.correlation_id)
        restored, count = restore_body(request.body, Placeholders(mapping))
    except RequestError as error:
        return _error_answer(error.status, error.code, error.message, error.details)
    except SettingsError as error:
        return _error_answer(503, "ServiceMisconfigured", str(error), [])
    except Exception as error:  # noqa: BLE001 - answer JSON; never echo anything
        logger.error("pii-internal-error", extra={"pii-error-type": type(error).__name__})
        return _error_answer(500, "InternalError", "the service failed unexpectedly", [])
    result = RestoreResponse(
        status="ok", restored_body=restored, restored=count, correlation_id=config.correlation_id
    )
    return Answer(200, result.model_dump(mode="json"))


async def health(params: Mapping[str, str]) -> Answer:
    """``GET /health`` (``?deep=true`` also round-trips one tiny document through the detector).
    Degraded: a part switched off by a bad secret, or Language lately refused the credential."""
    try:
        state = runtime.get_runtime()
    except SettingsError as error:
        return _unhealthy(str(error))
    detector = state.service.detector
    problems = dict(state.degraded)
    refused = state.credential.problem() if state.credential is not None else None
    if refused is not None:
        problems["credential"] = refused
    result = HealthResponse(
        status="degraded" if problems else "healthy",
        reason="; ".join(problems.values()) or None,
        detector=detector.name,
        api_version=detector.api_version,
        version=__version__,
        categories=sorted(detector.categories),
        audit=state.audit.status().to_dict() if state.audit is not None else None,
    )
    if params.get("deep", "").lower() in ("1", "true", "yes"):
        started = time.monotonic()
        context = DetectionContext(Deadline.after(HEALTH_DEADLINE_S), "en")
        try:
            await detector.detect([Document("0", HEALTH_PROBE_TEXT)], context)
        except DetectorError as error:
            credential = state.credential.problem() if state.credential is not None else None
            if error.reason not in CREDENTIAL_REASONS or credential is None:
                credential = f"the detector probe failed: {error.reason}"
            return _unhealthy(credential, result)
        result.round_trip_ms = round((time.monotonic() - started) * 1000, 1)
    return Answer(200, _health_payload(result))


@functools.cache
def openapi_document() -> bytes:
    """``GET /openapi.yaml``: the service contract, as shipped."""
    return OPENAPI_PATH.read_bytes()


def _health_payload(result: HealthResponse) -> dict[str, Any]:
    payload = result.model_dump(mode="json")
    return {k: v for k, v in payload.items() if v is not None or k == "api_version"}


def _unhealthy(reason: str, base: HealthResponse | None = None) -> Answer:
    result = HealthResponse(
        status="unhealthy",
        detector=base.detector if base else "unknown",
        api_version=base.api_version if base else None,
        version=__version__,
        reason=reason,
    )
    return Answer(503, _health_payload(result))


def _response_payload(response: RedactResponse) -> dict[str, Any]:
    payload: dict[str, Any] = {"status": response.status, "full_coverage": response.full_coverage}
    if response.redacted_body is not None:
        payload["redacted_body"] = response.redacted_body
    if response.diagnostics is not None:
        payload["diagnostics"] = response.diagnostics.model_dump(mode="json")
    if response.error is not None:
        payload["error"] = response.error.model_dump(mode="json", exclude_none=True)
    if response.restore_token is not None:
        payload["restore_token"] = response.restore_token
    return payload


def _error_answer(status: int, code: str, message: str, details: list[dict[str, Any]]) -> Answer:
    error = {"code": code, "message": message, "details": details}
    return Answer(status, {"status": "error", "full_coverage": False, "error": error})


def _tenant_header(headers: Mapping[str, str]) -> str | None:
    value = header(headers, "x-tenant-id")
    return value[:256] or None if value is not None else None
