"""The Language client against the emulator over real HTTP: auth, errors, parsing."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest
from azure.core.credentials import AccessToken

from redaction.detectors.credentials import ApiKeyAuth, TokenAuth
from redaction.detectors.language_client import CallRecord, LanguageClient
from redaction.entities import Document
from redaction.errors import HttpStatusError, ServiceRequestError, ServiceResponseError
from tests.conftest import Emulator

DOCS = [Document("0", "My email is alice@example.com and my SSN is 123-45-6789")]


class StaticTokenCredential:
    """An AsyncTokenCredential that hands out one token and counts requests for it."""

    def __init__(self, token: str, lifetime_s: float = 3600) -> None:
        self.token = token
        self.lifetime_s = lifetime_s
        self.requests = 0

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        assert scopes == ("https://cognitiveservices.azure.com/.default",)
        self.requests += 1
        return AccessToken(self.token, int(time.time() + self.lifetime_s))

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> StaticTokenCredential:
        return self

    async def __aexit__(self, *args: object) -> None:
        return None


@pytest.fixture
async def session() -> Any:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


async def test_unicode_code_point_offsets_with_a_key(emulator: Emulator, session: Any) -> None:
    client = LanguageClient(session, emulator.url, "2024-11-01", ApiKeyAuth("emulator-key"))
    record = CallRecord()
    result = await client.analyze(DOCS, "en", 5, record)
    assert record.status == 200
    assert record.response_bytes > 0
    assert result.errors == {}
    (document,) = result.documents
    spans = {(e.offset, e.length, e.category) for e in document.entities}
    assert {(12, 17, "Email"), (44, 11, "USSocialSecurityNumber")} <= spans


async def test_bearer_tokens_are_cached(emulator: Emulator, session: Any) -> None:
    emulator.state.bearer_token = "token-1"
    credential = StaticTokenCredential("token-1")
    client = LanguageClient(session, emulator.url, "2024-11-01", TokenAuth(credential))
    for _ in range(3):
        await client.analyze(DOCS, "en", 5, CallRecord())
    assert credential.requests == 1


async def test_tokens_near_expiry_are_refreshed(emulator: Emulator, session: Any) -> None:
    credential = StaticTokenCredential("t", lifetime_s=60)
    client = LanguageClient(session, emulator.url, "2024-11-01", TokenAuth(credential))
    await client.analyze(DOCS, "en", 5, CallRecord())
    await client.analyze(DOCS, "en", 5, CallRecord())
    assert credential.requests == 2


async def test_a_wrong_key_is_401(emulator: Emulator, session: Any) -> None:
    client = LanguageClient(session, emulator.url, "2024-11-01", ApiKeyAuth("wrong"))
    with pytest.raises(HttpStatusError) as raised:
        await client.analyze(DOCS, "en", 5, CallRecord())
    assert raised.value.status == 401
    assert not raised.value.retryable


async def test_429_carries_retry_after(emulator: Emulator, session: Any) -> None:
    await emulator.inject({"kind": "status", "status": 429, "headers": {"Retry-After": "2"}})
    client = LanguageClient(session, emulator.url, "2024-11-01", ApiKeyAuth("emulator-key"))
    with pytest.raises(HttpStatusError) as raised:
        await client.analyze(DOCS, "en", 5, CallRecord())
    assert (raised.value.status, raised.value.retry_after, raised.value.retryable) == (
        429,
        2.0,
        True,
    )


@pytest.mark.parametrize(
    ("fault", "error", "reason"),
    [
        ({"kind": "malformed"}, ServiceResponseError, "invalid-response"),
        ({"kind": "reset"}, ServiceResponseError, "connection-reset"),
        ({"kind": "hang", "seconds": 2}, ServiceRequestError, "timeout"),
        ({"kind": "trickle", "seconds": 2, "interval": 0.1}, ServiceRequestError, "timeout"),
    ],
)
async def test_faults_map_to_errors(
    emulator: Emulator, session: Any, fault: dict[str, Any], error: type[Exception], reason: str
) -> None:
    await emulator.inject(fault)
    client = LanguageClient(session, emulator.url, "2024-11-01", ApiKeyAuth("emulator-key"))
    with pytest.raises(error) as raised:
        await client.analyze(DOCS, "en", 0.5, CallRecord())
    assert raised.value.reason == reason  # type: ignore[attr-defined]
    assert raised.value.retryable  # type: ignore[attr-defined]


async def test_connection_refused(session: Any) -> None:
    client = LanguageClient(session, "http://127.0.0.1:9", "2024-11-01", ApiKeyAuth("k"))
    with pytest.raises(ServiceRequestError) as raised:
        await client.analyze(DOCS, "en", 2, CallRecord())
    assert raised.value.reason == "connection-error"


async def test_per_document_errors_are_reported(emulator: Emulator, session: Any) -> None:
    client = LanguageClient(session, emulator.url, "2024-11-01", ApiKeyAuth("emulator-key"))
    result = await client.analyze([Document("0", "x" * 5200), *DOCS[:0]], "en", 5, CallRecord())
    assert result.errors == {"0": "InvalidDocument"}
