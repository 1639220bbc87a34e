"""One call to Azure AI Language ``:analyze-text`` (PII); the only module that sees aiohttp.

The GA api-versions it speaks, checked against the REST specs (Azure/azure-rest-api-specs,
specification/cognitiveservices/data-plane/Language/stable/<version>/analyzetext.json): both define
every request field sent here (``kind: PiiEntityRecognition``; ``parameters.modelVersion``,
``loggingOptOut``, ``stringIndexType: UnicodeCodePoint``, ``domain``; ``analysisInput.documents[]``
with ``id``, ``language``, ``text``) and every answer field read (``results.documents[].id`` and
``entities[].offset``, ``length``, ``category``, ``confidenceScore``; ``results.errors[].id`` and
``error.code`` / ``innererror.code``). 2025-11-01 adds, for PII, ``valueExclusionPolicy`` and
``entitySynonyms`` (not sent), nine categories (``DateOfBirth``, ``BankAccountNumber``,
``PassportNumber``, ``DriversLicenseNumber``, ``Neighborhood``, ``SortCode``, ``PIN``,
``VehicleIdentificationNumber``, ``LicensePlate``: already in ``categories.py``) and a document
result with ``detectedLanguage`` (``PiiResultWithDetectedLanguage``): language ``"auto"``. The
2024-11-01 PII result (``PiiEntitiesDocumentResult``) has no detected language, so ``"auto"`` is
not offered there.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from redaction.detectors.credentials import Auth
from redaction.detectors.detector import BatchResult, DocumentResult
from redaction.detectors.retry import parse_retry_after
from redaction.entities import Document, Entity
from redaction.errors import HttpStatusError, ServiceRequestError, ServiceResponseError
from redaction.reasons import FailureReason as Reason

MAX_RESPONSE_BYTES = 16 * 1024 * 1024
# GA api-versions of analyze-text PII this client was checked against (module docstring), and
# whether each detects the language of a document sent with ``language: "auto"``.
API_VERSIONS: dict[str, bool] = {"2024-11-01": False, "2025-11-01": True}
NEWEST_GA = "2025-11-01"

# The model every call asks for (a part of the detection cache's fingerprint).
MODEL_VERSION = "latest"


def supports_auto_language(api_version: str) -> bool:
    """Whether ``detection_language: "auto"`` can be sent with ``api_version``."""
    return API_VERSIONS.get(api_version, False)


@dataclass
class CallRecord:
    """What one attempt looked like on the wire, for telemetry (no text)."""

    status: int | None = None
    response_bytes: int = 0


class LanguageClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        endpoint: str,
        api_version: str,
        auth: Auth,
        domain: str | None = None,
    ) -> None:
        self._session = session
        self._url = endpoint.rstrip("/") + "/language/:analyze-text"
        self.api_version = api_version
        parsed = URL(endpoint)
        self.host = parsed.host or ""
        self.scheme = parsed.scheme
        self.port = parsed.port  # yarl: the scheme's default when the endpoint names none
        self._auth = auth
        self._domain = domain

    @property
    def url(self) -> str:
        """The full request URL (no secret in it: the key or token travels in a header)."""
        return f"{self._url}?api-version={self.api_version}"

    async def analyze(
        self, documents: Sequence[Document], language: str, timeout: float, record: CallRecord
    ) -> BatchResult:
        """Sends one request; raises a ``DetectorError`` subclass for anything but a usable 200."""
        payload = self._payload(documents, language)
        headers = {**await self._auth.headers(), "Content-Type": "application/json"}
        try:
            async with asyncio.timeout(timeout):
                body = await self._post(payload, headers, record)
        except TimeoutError:
            raise ServiceRequestError(Reason.TIMEOUT, "Language did not answer in time") from None
        except aiohttp.ClientConnectorError:
            raise ServiceRequestError(
                Reason.CONNECTION_ERROR, "cannot connect to Language"
            ) from None
        except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
            raise ServiceResponseError(
                Reason.CONNECTION_RESET, "the connection broke mid-answer"
            ) from None
        except aiohttp.ClientError as exc:
            raise ServiceRequestError(Reason.CONNECTION_ERROR, type(exc).__name__) from None
        return parse_result(body)

    async def _post(
        self, payload: dict[str, Any], headers: dict[str, str], record: CallRecord
    ) -> bytes:
        params = {"api-version": self.api_version}
        async with self._session.post(
            self._url, params=params, json=payload, headers=headers
        ) as response:
            record.status = response.status
            if (response.content_length or 0) > MAX_RESPONSE_BYTES:
                raise ServiceResponseError(
                    Reason.INVALID_RESPONSE, "Language's answer is too large"
                )
            body = await response.read()
            record.response_bytes = len(body)
            if response.status != 200:
                raise HttpStatusError(
                    response.status, _error_code(body), parse_retry_after(response.headers)
                )
            return body

    def _payload(self, documents: Sequence[Document], language: str) -> dict[str, Any]:
        parameters: dict[str, Any] = {
            "modelVersion": MODEL_VERSION,
            "loggingOptOut": True,
            "stringIndexType": "UnicodeCodePoint",
        }
        if self._domain:
            parameters["domain"] = self._domain
        return {
            "kind": "PiiEntityRecognition",
            "parameters": parameters,
            "analysisInput": {
                "documents": [
                    {"id": doc.id, "language": language, "text": doc.text} for doc in documents
                ]
            },
        }


def parse_result(body: bytes) -> BatchResult:
    """The documents and per-document errors of a 200 answer; malformed answers raise."""
    try:
        results = json.loads(body)["results"]
        documents = tuple(_parse_document(item) for item in results["documents"])
        errors = {str(item["id"]): _error_reason(item) for item in results.get("errors", [])}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ServiceResponseError(
            Reason.INVALID_RESPONSE, "Language's answer could not be read"
        ) from None
    return BatchResult(documents, errors)


def _parse_document(item: dict[str, Any]) -> DocumentResult:
    entities = tuple(
        Entity(
            _integer(entity["offset"]),
            _integer(entity["length"]),
            str(entity["category"]),
            float(entity["confidenceScore"]),
        )
        for entity in item["entities"]
    )
    return DocumentResult(str(item["id"]), entities)


def _integer(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("offset and length must be integers")
    return value


def _error_reason(item: dict[str, Any]) -> str:
    error = item.get("error") or {}
    inner = error.get("innererror") or {}
    return str(inner.get("code") or error.get("code") or "unknown")


def _error_code(body: bytes) -> str:
    """The Azure error code of an error answer (codes are fixed names, never caller text)."""
    try:
        code = json.loads(body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return ""
    return f"Language error {code}" if isinstance(code, str) and code.isidentifier() else ""
