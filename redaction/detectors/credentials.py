"""How requests to Azure AI Language are authenticated: a key, or a Microsoft Entra token."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from azure.core.credentials_async import AsyncTokenCredential

from redaction.errors import ServiceRequestError
from redaction.reasons import FailureReason

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
