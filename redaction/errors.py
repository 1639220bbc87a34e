"""Exceptions of the service. Messages never carry caller text or secrets.

RedactionError
├── RequestError                    the caller sent something we refuse (4xx)
│   ├── InvalidRequestError         400: malformed JSON, wrong types, unknown category, limits
│   ├── UnsupportedMediaTypeError   415: not JSON, or compressed
│   └── PayloadTooLargeError        413: body bytes, or more documents than the batches allow
├── SettingsError                   a bad setting stops start-up; names the setting only
└── DetectorError                   a detector could not scan a batch (never reaches the caller)
    ├── ServiceRequestError         the request was not sent / no answer (connect, timeout)
    ├── ServiceResponseError        an answer came but could not be understood
    ├── HttpStatusError             the service answered with an error status
    └── DeadlineError               the request deadline left no time for another attempt
"""

from __future__ import annotations

from typing import Any

from redaction.reasons import FailureReason, http_reason, is_retryable


class RedactionError(Exception):
    """Base of every error this package raises on purpose."""


class RequestError(RedactionError):
    status = 400
    code = "InvalidRequest"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class InvalidRequestError(RequestError):
    pass


class UnsupportedMediaTypeError(RequestError):
    status = 415
    code = "UnsupportedMediaType"


class PayloadTooLargeError(RequestError):
    status = 413
    code = "PayloadTooLarge"


class SettingsError(RedactionError):
    pass


class DetectorError(RedactionError):
    """A batch failed. ``reason`` is the stable failure reason reported in diagnostics; whether
    another attempt may cure it follows from the reason (``reasons.is_retryable``)."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason

    @property
    def retryable(self) -> bool:
        return is_retryable(self.reason)


class ServiceRequestError(DetectorError):
    pass


class ServiceResponseError(DetectorError):
    pass


class HttpStatusError(DetectorError):
    def __init__(self, status: int, message: str = "", retry_after: float | None = None) -> None:
        super().__init__(http_reason(status), message or f"Language answered HTTP {status}")
        self.status = status
        self.retry_after = retry_after


class DeadlineError(DetectorError):
    def __init__(self, message: str = "the request deadline was reached") -> None:
        super().__init__(FailureReason.DEADLINE, message)
