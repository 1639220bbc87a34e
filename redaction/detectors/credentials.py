"""How requests to Azure AI Language are authenticated: a key, or a Microsoft Entra token; and
whether Language lately refused it (``CredentialHealth``, what plain ``/health`` reports)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from azure.core.credentials_async import AsyncTokenCredential

from redaction.detectors.detector import BatchResult, DetectionContext, Detector, DetectorWrapper
from redaction.entities import Document
from redaction.errors import DetectorError, ServiceRequestError
from redaction.reasons import FailureReason, http_reason

SCOPE = "https://cognitiveservices.azure.com/.default"
REFRESH_MARGIN_S = 300.0


class Auth(Protocol):
    async def headers(self) -> dict[str, str]: ...

    async def close(self) -> None: ...


class ApiKeyAuth:
    def __init__(self, key: str) -> None:
        self._key = key

    async def headers(self) -> dict[str, str]:
        return {"Ocp-Apim-Subscription-Key": self._key}

    async def close(self) -> None:
        return None


class TokenAuth:
    """Bearer tokens from an azure-identity credential, cached until shortly before they expire."""

    def __init__(self, credential: AsyncTokenCredential) -> None:
        self._credential = credential
        self._token: str | None = None
        self._refresh_at = 0.0
        self._lock = asyncio.Lock()

    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self._current_token()}"}

    async def _current_token(self) -> str:
        if self._token is not None and time.time() < self._refresh_at:
            return self._token
        async with self._lock:
            if self._token is None or time.time() >= self._refresh_at:
                await self._refresh()
        assert self._token is not None
        return self._token

    async def _refresh(self) -> None:
        try:
            token = await self._credential.get_token(SCOPE)
        except Exception as error:  # noqa: BLE001 - azure-identity raises many types
            raise ServiceRequestError(
                FailureReason.CREDENTIAL_ERROR, f"no token for Language: {type(error).__name__}"
            ) from None
        self._token = token.token
        self._refresh_at = token.expires_on - REFRESH_MARGIN_S

    async def close(self) -> None:
        await self._credential.close()


def default_credential() -> AsyncTokenCredential:
    """Managed identity in Azure; developer credentials (az login, environment) elsewhere."""
    from azure.identity.aio import DefaultAzureCredential

    return DefaultAzureCredential()


# Reasons that say the credential is wrong: a key or token Language refuses (401), an identity
# without the Cognitive Services User role (403), no token at all.
CREDENTIAL_REASONS = frozenset({http_reason(401), http_reason(403), FailureReason.CREDENTIAL_ERROR})
RECENT_S = 600.0  # how long plain /health reports a refusal no success has followed


class CredentialHealth:
    """The last credential refusal, until a Language call succeeds or it is ``RECENT_S`` old."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._refused: tuple[float, str] | None = None

    def observe(self, reason: str | None) -> None:
        """A call's outcome: None (it succeeded) clears a refusal; a credential reason records
        one; any other failure says nothing about the credential."""
        if reason is None:
            self._refused = None
        elif reason in CREDENTIAL_REASONS:
            self._refused = (self._clock(), reason)

    def problem(self) -> str | None:
        """Why the credential looks wrong, for ``/health``: the reason and its age, never a key,
        a token or an identity."""
        if self._refused is None:
            return None
        at, reason = self._refused
        age = self._clock() - at
        if age > RECENT_S:
            return None
        return (
            f"Language refused the credential {age:.0f} s ago ({reason}): check LANGUAGE_API_KEY, "
            "or the identity's Cognitive Services User role on the Language resource"
        )


class CredentialWatch(DetectorWrapper):
    """A ``Detector`` that tells ``health`` how each batch went (outermost around the Azure one,
    so a hedge or a retry that ends well counts as a success)."""

    def __init__(self, detector: Detector, health: CredentialHealth) -> None:
        super().__init__(detector)
        self._health = health

    async def detect(self, documents: Sequence[Document], context: DetectionContext) -> BatchResult:
        try:
            result = await self.inner.detect(documents, context)
        except DetectorError as error:
            self._health.observe(error.reason)
            raise
        self._health.observe(None)
        return result


async def probe_credential(auth: Auth, health: CredentialHealth) -> None:
    """At start: a token now, so an identity that gets none shows in ``/health`` before traffic
    does (a key can only be checked by calling Language: traffic or ``/health?deep=true``)."""
    try:
        await auth.headers()
    except DetectorError as error:
        health.observe(error.reason)
