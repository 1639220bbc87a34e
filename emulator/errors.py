"""Azure error bodies, `{"error": {code, message, innererror?}}`, and their `x-ms-error-code`."""

from __future__ import annotations

from typing import Any

_CODE_BY_STATUS = {
    400: "InvalidRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    413: "InvalidRequest",
    415: "InvalidRequest",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
    504: "Timeout",
}

_MESSAGE_BY_CODE = {
    "Unauthorized": "Access denied due to invalid subscription key or wrong API endpoint.",
    "Forbidden": "The principal does not have access to this resource.",
    "TooManyRequests": "Requests to the Analyze Text operation have exceeded the rate limit.",
    "InternalServerError": "Internal error has occurred.",
    "ServiceUnavailable": "The service is temporarily unavailable.",
    "Timeout": "The operation timed out.",
}


class AzureError(Exception):
    """A request the service answers with an error status and an Azure error body."""

    def __init__(self, status: int, message: str, inner_code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = error_code_for(status)
        self.message = message
        self.inner_code = inner_code

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.inner_code)


def error_code_for(status: int) -> str:
    """The Azure `ErrorCode` that goes with an HTTP status."""
    if status in _CODE_BY_STATUS:
        return _CODE_BY_STATUS[status]
    return "InternalServerError" if status >= 500 else "InvalidRequest"


def default_message(code: str) -> str:
    return _MESSAGE_BY_CODE.get(code, "The request failed.")


def error_body(code: str, message: str, inner_code: str | None = None) -> dict[str, Any]:
    """`ErrorResponse`; `innererror` repeats the message under the more specific code."""
    error: dict[str, Any] = {"code": code, "message": message}
    if inner_code is not None:
        error["innererror"] = {"code": inner_code, "message": message}
    return {"error": error}


def bad_request(message: str, inner_code: str = "InvalidParameterValue") -> AzureError:
    return AzureError(400, message, inner_code)
