"""A bad or unresolved secret switches off only the part that needs it (issue 15).

App Service leaves a Key Vault reference it cannot resolve (secret missing, role assignment not
propagated yet) as the literal ``@Microsoft.KeyVault(...)`` text. Such a ``PII_RESTORE_KEY``
(or any unusable key) turns placeholder mode and ``/restore`` off with a reason, ``/redact`` in
mask mode keeps working and ``/health`` says ``degraded``; an unusable ``PII_CACHE_SECRET``
leaves the cache running as without one (per-process key, no shared Redis tier); an unset or
unusable ``PII_AUDIT_HMAC_KEY`` turns off only the audit trail, unless ``PII_AUDIT_REQUIRED``,
which then stops start-up (no answer may leave without its record, and none can be made).
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from redaction import runtime
from redaction.errors import SettingsError
from redaction.settings import Settings, load_settings
from tests.azurite import closed_port_connection_string
from tests.conftest import (
    EMULATOR_KEY,
    REFERENCE_BODY,
    REFERENCE_MASKED,
    Emulator,
    ServiceFactory,
    post_redact,
)

Client = TestClient[Any, Any]
KEY = base64.b64encode(b"k" * 32).decode()
RESTORE_REFERENCE = "@Microsoft.KeyVault(VaultName=kv-piiredact-x;SecretName=pii-restore-key)"
CACHE_REFERENCE = (
    "@Microsoft.KeyVault(SecretUri=https://kv-x.vault.azure.net/secrets/pii-cache-secret/)"
)
AUDIT_REFERENCE = "@Microsoft.KeyVault(VaultName=kv-piiredact-x;SecretName=pii-audit-hmac-key)"
NOT_ECHOED = ("VaultName", "SecretUri", "kv-piiredact", "vault.azure.net", KEY)

BAD_AUDIT_KEYS = {
    "unresolved audit key": (AUDIT_REFERENCE, "is an unresolved Key Vault reference"),
    "invalid audit key": ("not-a-key", "is not a usable key"),
    "short audit key": (base64.b64encode(b"k" * 16).decode(), "is not a usable key"),
    "missing audit key": (None, "is not set"),
}

BAD_PLACEHOLDER_KEYS = {
    "unresolved restore key": {"pii_restore_key": RESTORE_REFERENCE},
    "lower-case reference": {"pii_restore_key": RESTORE_REFERENCE.lower()},
    "invalid restore key": {"pii_restore_key": "not-a-key"},
    "short restore key": {"pii_restore_key": base64.b64encode(b"k" * 16).decode()},
    "unresolved previous key": {
        "pii_restore_key": KEY,
        "pii_restore_keys_previous": RESTORE_REFERENCE,
    },
    "unresolved pseudonym key": {"pii_restore_key": KEY, "pii_pseudonym_key": RESTORE_REFERENCE},
}


async def _health(client: Client) -> tuple[int, dict[str, Any]]:
    response = await client.get("/health")
    return response.status, await response.json()


async def _restore(client: Client) -> tuple[int, dict[str, Any]]:
    body = {"choices": [{"message": {"role": "assistant", "content": "<Email_123456>"}}]}
    response = await client.post("/restore", json={"body": body, "restore_token": "pr1.a.b"})
    return response.status, await response.json()


def _echoes_nothing(*answers: dict[str, Any]) -> None:
    text = repr(answers)
    for fragment in NOT_ECHOED:
        assert fragment not in text


@pytest.mark.parametrize("keys", BAD_PLACEHOLDER_KEYS.values(), ids=BAD_PLACEHOLDER_KEYS.keys())
async def test_a_bad_restore_key_turns_off_only_placeholders_and_restore(
    make_service: ServiceFactory, keys: dict[str, str]
) -> None:
    client = await make_service(pii_detector="local", **keys)

    status, masked = await post_redact(client, REFERENCE_BODY)
    assert (status, masked["status"]) == (200, "ok")
    assert masked["redacted_body"]["messages"][0]["content"] == REFERENCE_MASKED

    status, placeholder = await post_redact(client, REFERENCE_BODY, mask_style="placeholder")
    assert status == 503
    assert placeholder["error"]["code"] == "ServiceMisconfigured"
    assert "placeholder mode and /restore are off" in placeholder["error"]["message"]
    name = next(iter(k for k in keys if k != "pii_restore_key"), "pii_restore_key").upper()
    assert name in placeholder["error"]["message"]

    status, restored = await _restore(client)
    assert status == 503
    assert restored["error"]["message"] == placeholder["error"]["message"]

    status, health = await _health(client)
    assert (status, health["status"]) == (200, "degraded")
    assert health["reason"] == placeholder["error"]["message"]
    _echoes_nothing(masked, placeholder, restored, health)


async def test_an_unresolved_reference_is_named_as_such(make_service: ServiceFactory) -> None:
    client = await make_service(pii_detector="local", pii_restore_key=RESTORE_REFERENCE)
    _, health = await _health(client)
    assert "PII_RESTORE_KEY is an unresolved Key Vault reference" in health["reason"]
    assert "Key Vault Secrets User" in health["reason"]
    client = await make_service(pii_detector="local", pii_restore_key="not-a-key")
    _, health = await _health(client)
    assert "PII_RESTORE_KEY is not a usable key" in health["reason"]


async def test_the_azure_path_keeps_masking_with_an_unresolved_restore_key(
    make_service: ServiceFactory, emulator: Emulator
) -> None:
    client = await make_service(
        language_endpoint=emulator.url,
        language_api_key=EMULATOR_KEY,
        pii_restore_key=RESTORE_REFERENCE,
    )
    status, masked = await post_redact(client, REFERENCE_BODY, fail_closed=True)
    assert (status, masked["status"], masked["full_coverage"]) == (200, "ok", True)
    assert masked["redacted_body"]["messages"][0]["content"] == REFERENCE_MASKED
    response = await client.get("/health", params={"deep": "true"})
    health = await response.json()
    assert (response.status, health["status"]) == (200, "degraded")
    assert "round_trip_ms" in health


async def test_an_unresolved_cache_secret_runs_the_cache_as_without_one(
    make_service: ServiceFactory,
) -> None:
    client = await make_service(
        pii_detector="local",
        pii_cache_secret=CACHE_REFERENCE,
        redis_url="redis://127.0.0.1:1/0",  # never contacted: the shared tier stays off
    )
    for _ in range(2):  # the second answer comes from the in-process cache
        status, masked = await post_redact(client, REFERENCE_BODY)
        assert (status, masked["status"]) == (200, "ok")
        assert masked["redacted_body"]["messages"][0]["content"] == REFERENCE_MASKED
    status, health = await _health(client)
    assert (status, health["status"]) == (200, "degraded")
    assert "PII_CACHE_SECRET is an unresolved Key Vault reference" in health["reason"]
    assert "no shared Redis tier" in health["reason"]
    cache = runtime._current.runtime.cache if runtime._current.runtime else None
    assert cache is not None
    assert cache.shared is None
    assert cache._secret == runtime._PROCESS_SECRET
    _echoes_nothing(masked, health)


async def test_both_reasons_are_reported_and_placeholder_mode_works_when_keys_are_good(
    make_service: ServiceFactory,
) -> None:
    both = await make_service(
        pii_detector="local", pii_restore_key=RESTORE_REFERENCE, pii_cache_secret=CACHE_REFERENCE
    )
    _, health = await _health(both)
    assert "PII_RESTORE_KEY" in health["reason"]
    assert "PII_CACHE_SECRET" in health["reason"]
    good = await make_service(pii_detector="local", pii_restore_key=KEY, pii_cache_secret="s" * 32)
    status, health = await _health(good)
    assert (status, health["status"]) == (200, "healthy")
    assert "reason" not in health
    status, placeholder = await post_redact(good, REFERENCE_BODY, mask_style="placeholder")
    assert status == 200
    assert "restore_token" in placeholder


def test_unresolved_references_do_not_stop_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PII_RESTORE_KEY", RESTORE_REFERENCE)
    monkeypatch.setenv("PII_RESTORE_KEYS_PREVIOUS", "not-a-key")
    monkeypatch.setenv("PII_CACHE_SECRET", CACHE_REFERENCE)
    settings = load_settings()
    assert settings.restore_keys == ()
    assert settings.placeholder_problem is not None
    assert settings.placeholder_problem.startswith("PII_RESTORE_KEY is an unresolved")
    assert settings.cache_secret_problem is not None
    monkeypatch.delenv("PII_RESTORE_KEYS_PREVIOUS")
    assert Settings(pii_restore_key=KEY).placeholder_problem is None
    assert Settings(pii_restore_key=KEY).restore_keys == (b"k" * 32,)


def _audit_store(key: str | None, **more: Any) -> dict[str, Any]:
    """Audit settings whose store nobody listens on: only a trail that is on would try it."""
    store = {"pii_audit_connection_string": closed_port_connection_string(), **more}
    return store if key is None else {**store, "pii_audit_hmac_key": key}


@pytest.mark.parametrize(("key", "why"), BAD_AUDIT_KEYS.values(), ids=BAD_AUDIT_KEYS.keys())
async def test_a_bad_audit_key_turns_off_only_the_audit_trail(
    make_service: ServiceFactory, key: str | None, why: str
) -> None:
    client = await make_service(pii_detector="local", pii_restore_key=KEY, **_audit_store(key))

    status, masked = await post_redact(client, REFERENCE_BODY)
    assert (status, masked["status"]) == (200, "ok")
    assert masked["redacted_body"]["messages"][0]["content"] == REFERENCE_MASKED
    status, placeholder = await post_redact(client, REFERENCE_BODY, mask_style="placeholder")
    assert status == 200
    assert "restore_token" in placeholder

    status, health = await _health(client)
    assert (status, health["status"]) == (200, "degraded")
    assert health["reason"].startswith(f"the audit trail is off: PII_AUDIT_HMAC_KEY {why}")
    assert "audit" not in health
    state = runtime._current.runtime
    assert state is not None
    assert (state.audit, state.audit_keys) == (None, None)
    _echoes_nothing(masked, placeholder, health)


async def test_with_a_good_audit_key_the_same_settings_turn_the_trail_on(
    make_service: ServiceFactory,
) -> None:
    client = await make_service(pii_detector="local", **_audit_store(KEY))
    status, health = await _health(client)
    assert (status, health["status"]) == (200, "healthy")
    assert "audit" in health


@pytest.mark.parametrize(("key", "why"), BAD_AUDIT_KEYS.values(), ids=BAD_AUDIT_KEYS.keys())
def test_a_bad_audit_key_with_the_trail_required_stops_start_up(
    monkeypatch: pytest.MonkeyPatch, key: str | None, why: str
) -> None:
    for name, value in _audit_store(key, pii_audit_required="true").items():
        monkeypatch.setenv(name.upper(), value)
    with pytest.raises(SettingsError) as stopped:
        load_settings()
    message = str(stopped.value)
    assert f"PII_AUDIT_HMAC_KEY {why}" in message
    assert "PII_AUDIT_REQUIRED answers nothing without its record" in message
    for fragment in (*NOT_ECHOED, "not-a-key"):
        assert fragment not in message


async def test_required_and_unusable_the_functions_host_answers_503_everywhere(
    make_service: ServiceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under the Functions host the runtime reads the environment at the first request."""
    client = await make_service(pii_detector="local")
    for name, value in _audit_store(AUDIT_REFERENCE, pii_audit_required="true").items():
        monkeypatch.setenv(name.upper(), value)
    monkeypatch.setenv("PII_DETECTOR", "local")
    await runtime.shutdown()
    runtime.configure(None)

    status, refused = await post_redact(client, REFERENCE_BODY)
    assert (status, refused["error"]["code"]) == (503, "ServiceMisconfigured")
    assert "PII_AUDIT_HMAC_KEY is an unresolved Key Vault reference" in refused["error"]["message"]
    status, health = await _health(client)
    assert (status, health["status"]) == (503, "unhealthy")
    assert "PII_AUDIT_REQUIRED" in health["reason"]
    _echoes_nothing(refused, health)


def test_audit_verify_with_an_unusable_key_stops_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Verifying without checking signatures would look like a pass: the command refuses."""
    from redaction.__main__ import main

    for name, value in _audit_store(AUDIT_REFERENCE).items():
        monkeypatch.setenv(name.upper(), value)
    assert main(["audit", "verify"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("pii-redaction: invalid settings: PII_AUDIT_HMAC_KEY is an unresolved")
    for fragment in NOT_ECHOED:
        assert fragment not in error
