"""Credential health (issue 15): plain ``/health`` reports a credential Language lately refused
(200 ``degraded``, with the reason and its age, never the key); a call that succeeds clears it;
``?deep=true`` probes it now; a token credential is probed at start. Over real HTTP against the
emulator, plus ``CredentialHealth`` on an injected clock."""

from __future__ import annotations

import json
from typing import Any

from azure.core.credentials import AccessToken

from redaction.detectors.credentials import (
    RECENT_S,
    CredentialHealth,
    TokenAuth,
    probe_credential,
)
from tests.conftest import EMULATOR_KEY, REFERENCE_BODY, Emulator, ServiceFactory, post_redact

WRONG_KEY = "wrong-key-7d1c"


async def _health(client: Any, deep: bool = False) -> tuple[int, dict[str, Any]]:
    response = await client.get("/health", params={"deep": "true"} if deep else {})
    body: dict[str, Any] = await response.json()
    assert WRONG_KEY not in json.dumps(body)
    return response.status, body


async def test_a_refused_key_makes_plain_health_degraded(
    make_service: ServiceFactory, emulator: Emulator
) -> None:
    service = await make_service(language_endpoint=emulator.url, language_api_key=WRONG_KEY)
    assert (await _health(service))[1]["status"] == "healthy"  # a key is checked by calling
    await post_redact(service, REFERENCE_BODY)
    status, health = await _health(service)
    assert (status, health["status"]) == (200, "degraded")
    assert "Language refused the credential" in health["reason"]
    assert "(http-401)" in health["reason"]


async def test_deep_health_probes_the_credential(
    make_service: ServiceFactory, emulator: Emulator
) -> None:
    service = await make_service(language_endpoint=emulator.url, language_api_key=WRONG_KEY)
    status, health = await _health(service, deep=True)
    assert (status, health["status"]) == (503, "unhealthy")
    assert health["reason"].startswith("Language refused the credential")
    assert (await _health(service))[1]["status"] == "degraded"  # plain health remembers it


async def test_a_call_that_succeeds_clears_the_refusal(
    make_service: ServiceFactory, emulator: Emulator
) -> None:
    service = await make_service(language_endpoint=emulator.url, language_api_key=EMULATOR_KEY)
    await emulator.inject({"kind": "status", "status": 403})
    status, result = await post_redact(service, REFERENCE_BODY)
    assert (status, result["diagnostics"]["failure_reason"]) == (200, "http-403")
    assert (await _health(service))[1]["status"] == "degraded"
    assert (await post_redact(service, REFERENCE_BODY))[1]["status"] == "ok"
    health = (await _health(service))[1]
    assert health["status"] == "healthy"
    assert "reason" not in health


async def test_server_errors_say_nothing_about_the_credential(
    make_service: ServiceFactory, emulator: Emulator
) -> None:
    service = await make_service(language_endpoint=emulator.url, language_api_key=EMULATOR_KEY)
    await emulator.inject({"kind": "status", "status": 500, "times": None})
    await post_redact(service, REFERENCE_BODY)
    assert (await _health(service))[1]["status"] == "healthy"


class _NoToken:
    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        raise PermissionError("no identity here")

    async def close(self) -> None:
        return None


async def test_a_token_credential_that_gets_no_token_is_reported_at_start() -> None:
    health = CredentialHealth()
    await probe_credential(TokenAuth(_NoToken()), health)
    problem = health.problem()
    assert problem is not None
    assert "(credential-error)" in problem


def test_a_refusal_is_reported_while_recent() -> None:
    now = [100.0]
    health = CredentialHealth(clock=lambda: now[0])
    health.observe("http-429")
    assert health.problem() is None
    health.observe("http-401")
    now[0] += 42
    assert (health.problem() or "").startswith("Language refused the credential 42 s ago")
    now[0] += RECENT_S
    assert health.problem() is None
