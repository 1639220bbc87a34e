"""Why a document, a batch or a request was not scanned: the one list of failure reasons.

They are the values of ``diagnostics.failure_reason``, of the 503's ``error.reason`` and of the
``pii-failure-detail`` dimension; ``telemetry.map_failure_reason`` groups them for dashboards.
A Language status without a reason of its own is ``http-<status>`` (``http_reason``).
"""

from __future__ import annotations

from enum import StrEnum


class FailureReason(StrEnum):
    TIMEOUT = "timeout"  # an attempt got no answer in time
    CONNECTION_ERROR = "connection-error"  # nothing reached Language
    CONNECTION_RESET = "connection-reset"  # the connection broke mid-answer
    INVALID_RESPONSE = "invalid-response"  # an answer that could not be read, or unknown ids
    INCOMPLETE_COVERAGE = "incomplete-coverage"  # a document missing from the answer
    DOCUMENT_ERROR = "document-error"  # Language refused one document
    DEADLINE = "deadline"  # the request's deadline came first
    CANCELLED = "cancelled"  # an attempt lost to a hedge or stopped by the deadline
    RATE_LIMITED = "rate-limited"  # no Language call budget inside the deadline (no call sent)
    CREDENTIAL_ERROR = "credential-error"  # no token for Language
    DETECTOR_ERROR = "detector-error"  # a detector bug: fail closed, never a 500
    POLICY_TIMEOUT = "policy-timeout"  # a tenant pattern ran out of time on a text
    PAYLOAD_TOO_LARGE = "payload-too-large"  # 413, before any call
    UNSUPPORTED_MEDIA_TYPE = "unsupported-media-type"  # 415
    TOKEN_IDS = "token-ids"  # a prompt given as token ids: no detector here can read it


def http_reason(status: int) -> str:
    """The reason for a Language answer with ``status`` and no reason of its own."""
    return f"http-{status}"


# What another attempt can cure: no answer, a broken or unreadable one, a missing document,
# throttling and server errors. Not: Language refusing a document or a request, no credential,
# no call budget (its wait already used the deadline),
# the deadline, a cancelled attempt, a detector bug.
_RETRYABLE = frozenset(
    {
        FailureReason.TIMEOUT,
        FailureReason.CONNECTION_ERROR,
        FailureReason.CONNECTION_RESET,
        FailureReason.INVALID_RESPONSE,
        FailureReason.INCOMPLETE_COVERAGE,
    }
)


def is_retryable(reason: str) -> bool:
    """Whether a batch that failed for ``reason`` is worth another attempt: the one place this
    is decided."""
    if reason in _RETRYABLE:
        return True
    status = reason.removeprefix("http-")
    return status != reason and status.isdigit() and (status == "429" or int(status) >= 500)
