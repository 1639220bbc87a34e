"""The audit trail through the served app, against Azurite: a record for every route and outcome
(refusals too), no text in any blob, `audit verify` on what was stored, audit fail-closed, and
the /redact and /restore keys not interchangeable."""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from redaction.audit.keys import AuditKeys
from redaction.errors import SettingsError
from redaction.settings import load_settings
from tests.azurite import (
    closed_port_connection_string,
    new_container_name,
    read_container,
    replace_blob,
    require_azurite,
)
from tests.conftest import EMULATOR_KEY, Emulator, ServiceFactory

pytestmark = pytest.mark.server
ROOT = Path(__file__).resolve().parent.parent
AUDIT_KEY = base64.b64encode(b"a" * 32).decode()
RESTORE_KEY = base64.b64encode(b"r" * 32).decode()
KEYS = AuditKeys.derive(b"a" * 32)
REDACT_KEY, RESTORE_API_KEY = "the-redact-key", "the-restore-key"
CANARY_EMAIL = "zebra.quokka.canary@example.com"
CANARY_WORD = "Xylophonic-Canary-Q7"
POLICIES = {
    "strict": {"min_confidence": 0.4, "version": "7", "author": "rules-team@contoso"},
}


class Exchange:
    """One request as sent and its answer as received, bytes included."""

    def __init__(self, status: int, sent: bytes, received: bytes) -> None:
        self.status, self.sent, self.received = status, sent, received
        self.answer: dict[str, Any] = json.loads(received)


async def post(
    client: TestClient[Any, Any], route: str, payload: Any, key: str, **headers: str
) -> Exchange:
    sent = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    extra = {name.replace("_", "-"): value for name, value in headers.items()}
    response = await client.post(
        route,
        data=sent,
        headers={"content-type": "application/json", "x-functions-key": key, **extra},
    )
    return Exchange(response.status, sent, await response.read())


def audit_settings(container: str, connection_string: str | None = None) -> dict[str, Any]:
    return {
        "pii_audit_connection_string": connection_string or require_azurite(),
        "pii_audit_container": container,
        "pii_audit_hmac_key": AUDIT_KEY,
        "pii_restore_key": RESTORE_KEY,
        "redaction_api_key": REDACT_KEY,
        "redaction_restore_api_key": RESTORE_API_KEY,
        "pii_policies": json.dumps(POLICIES),
    }


async def stored_records(container: str) -> list[dict[str, Any]]:
    blobs = await read_container(container)
    entries = [json.loads(line) for data in blobs.values() for line in data.splitlines()]
    return [entry["record"] for entry in entries if entry["kind"] == "record"]


def chat(*texts: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text} for text in texts]}


async def every_outcome(client: TestClient[Any, Any], emulator: Emulator) -> list[Exchange]:
    """ok (named policy), partial, fail-closed 503, 400, 413-less refusals, 415, restore ok/400."""
    text = f"Mail {CANARY_EMAIL} about {CANARY_WORD}"
    exchanges = [
        await post(
            client,
            "/redact",
            {"body": chat(text), "config": {"policy": "strict", "mask_style": "placeholder"}},
            REDACT_KEY,
            x_tenant_id="tenant-a",
        )
    ]
    token = exchanges[0].answer["restore_token"]
    masked = exchanges[0].answer["redacted_body"]["messages"][0]["content"]
    answer = {"choices": [{"message": {"role": "assistant", "content": masked}}]}
    restore = {"body": answer, "restore_token": token}
    exchanges.append(
        await post(client, "/restore", restore, RESTORE_API_KEY, x_tenant_id="tenant-a")
    )
    await emulator.inject({"kind": "status", "status": 500, "times": None})
    exchanges.append(await post(client, "/redact", {"body": chat(text)}, REDACT_KEY))
    exchanges.append(
        await post(
            client, "/redact", {"body": chat(text), "config": {"fail_closed": True}}, REDACT_KEY
        )
    )
    await emulator.inject()  # no faults
    bad = {"body": chat(text), "config": {"fail_closde": True}}
    exchanges.append(await post(client, "/redact", bad, REDACT_KEY))
    exchanges.append(await post(client, "/redact", text.encode(), REDACT_KEY))  # not JSON
    wrong = {"body": answer, "restore_token": "x" + token[1:]}
    exchanges.append(await post(client, "/restore", wrong, RESTORE_API_KEY))
    return exchanges


@pytest.fixture
def container() -> str:
    require_azurite()
    return new_container_name()


async def test_every_route_and_outcome_leaves_one_record_and_no_text(
    make_service: ServiceFactory, emulator: Emulator, container: str
) -> None:
    client = await make_service(
        language_endpoint=emulator.url,
        language_api_key=EMULATOR_KEY,
        pii_max_attempts=1,
        **audit_settings(container),
    )
    exchanges = await every_outcome(client, emulator)
    await client.close()  # stores what is queued and a last checkpoint
    records = await stored_records(container)
    seen = [(r["operation"], r["outcome"], r["http_status"]) for r in records]
    assert seen == [
        ("redact", "ok", 200),
        ("restore", "ok", 200),
        ("redact", "partial", 200),
        ("redact", "error", 503),
        ("redact", "refused", 400),
        ("redact", "refused", 400),
        ("restore", "refused", 400),
    ]
    for record, exchange in zip(records, exchanges, strict=True):
        assert exchange.status == record["http_status"]
        assert record["request_hmac"] == KEYS.digest(exchange.sent)
        assert record["answer_hmac"] == KEYS.digest(exchange.received)
    first, restored, partial, closed = records[:4]
    assert first["policy"] == {
        "name": "strict",
        "hash": first["policy"]["hash"],
        "version": "7",
        "author": "rules-team@contoso",
    }
    assert first["tenant"] == "tenant-a"
    assert first["caller"] == "key:redact"
    assert first["categories"] == {"Email": 1}
    assert first["full_coverage"] is True
    assert restored["caller"] == "key:restore"
    assert restored["counts"] == {"restored": 1}
    assert partial["failure_reason"] == closed["failure_reason"] == "http-500"
    assert partial["policy"]["name"] == "default"
    assert closed["error_code"] == "PiiRedactionFailed"
    assert records[4]["error_code"] == "InvalidRequest"
    blobs = b"".join((await read_container(container)).values())
    for secret in (CANARY_EMAIL, CANARY_WORD, "zebra", REDACT_KEY, RESTORE_API_KEY, AUDIT_KEY):
        assert secret.encode() not in blobs
    assert exchanges[0].answer["restore_token"].encode() not in blobs


def verify_command(container: str) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PII_", "REDACTION_"))},
        "PII_AUDIT_CONNECTION_STRING": require_azurite(),
        "PII_AUDIT_CONTAINER": container,
        "PII_AUDIT_HMAC_KEY": AUDIT_KEY,
    }
    return subprocess.run(
        [sys.executable, "-m", "redaction", "audit", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_audit_verify_passes_then_names_the_edited_record(
    make_service: ServiceFactory, container: str
) -> None:
    client = await make_service(pii_detector="local", **audit_settings(container))
    for n in range(5):
        exchange = await post(client, "/redact", {"body": chat(f"note {n}")}, REDACT_KEY)
        assert exchange.status == 200
    await client.close()
    intact = verify_command(container)
    assert intact.returncode == 0, intact.stderr
    assert "intact: 5 records, 1 checkpoints, 1 writers, 1 blobs" in intact.stdout
    [(name, data)] = (await read_container(container)).items()
    lines = data.splitlines(keepends=True)
    lines[3] = lines[3].replace(b'"http_status":200', b'"http_status":201')
    await replace_blob(container, name, b"".join(lines))
    broken = verify_command(container)
    assert broken.returncode == 1
    assert f"first problem: {name} line 4 " in broken.stdout
    assert "seq 3): the entry does not match its hash (edited)" in broken.stdout


async def test_an_unreachable_store_makes_required_requests_503(
    make_service: ServiceFactory,
) -> None:
    settings = audit_settings(new_container_name(), closed_port_connection_string())
    client = await make_service(
        pii_detector="local", pii_audit_required=True, pii_audit_timeout_ms=1500, **settings
    )
    exchange = await post(client, "/redact", {"body": chat("hello")}, REDACT_KEY)
    assert exchange.status == 503
    assert exchange.answer["error"]["code"] == "AuditUnavailable"
    assert "redacted_body" not in exchange.answer
    health = await (await client.get("/health")).json()
    assert health["audit"]["required"] is True
    assert health["audit"]["dropped"] == 1


async def test_an_unreachable_store_is_counted_while_serving_by_default(
    make_service: ServiceFactory, caplog: pytest.LogCaptureFixture
) -> None:
    settings = audit_settings(new_container_name(), closed_port_connection_string())
    client = await make_service(pii_detector="local", **settings)
    with caplog.at_level(logging.ERROR, logger="pii_redaction"):
        for _ in range(3):
            exchange = await post(client, "/redact", {"body": chat("hello")}, REDACT_KEY)
            assert exchange.status == 200
        health: dict[str, Any] = {}
        for _ in range(50):  # the flusher tries each batch three times, then counts it dropped
            health = await (await client.get("/health")).json()
            if health["audit"]["dropped"] == 3:
                break
            await __import__("asyncio").sleep(0.05)
    assert health["status"] == "healthy"
    assert health["audit"] == {
        "enabled": True,
        "required": False,
        "healthy": False,
        "written": 0,
        "dropped": 3,
        "queued": 0,
    }
    dropped = [r for r in caplog.records if r.getMessage() == "pii-audit-dropped"]
    assert dropped
    assert dropped[0].__dict__["pii-audit-drop-reason"] == "store-unavailable"


async def test_health_says_nothing_of_audit_when_it_is_off(
    local_service: TestClient[Any, Any],
) -> None:
    health = await (await local_service.get("/health")).json()
    assert "audit" not in health


async def test_the_redact_and_restore_keys_are_not_interchangeable(
    make_service: ServiceFactory,
) -> None:
    client = await make_service(
        pii_detector="local",
        pii_restore_key=RESTORE_KEY,
        redaction_api_key=REDACT_KEY,
        redaction_restore_api_key=RESTORE_API_KEY,
    )
    body = {"body": chat(f"Mail {CANARY_EMAIL}"), "config": {"mask_style": "placeholder"}}
    assert (await post(client, "/redact", body, RESTORE_API_KEY)).status == 401
    redacted = await post(client, "/redact", body, REDACT_KEY)
    assert redacted.status == 200
    restore = {"body": chat("<Email_1>"), "restore_token": redacted.answer["restore_token"]}
    assert (await post(client, "/restore", restore, REDACT_KEY)).status == 401
    assert (await post(client, "/restore", restore, RESTORE_API_KEY)).status == 200


async def test_restore_is_closed_when_only_the_redact_key_is_set(
    make_service: ServiceFactory,
) -> None:
    client = await make_service(
        pii_detector="local", pii_restore_key=RESTORE_KEY, redaction_api_key=REDACT_KEY
    )
    restore = {"body": chat("<Email_1>"), "restore_token": "t"}
    for key in (REDACT_KEY, "", RESTORE_API_KEY):
        assert (await post(client, "/restore", restore, key)).status == 401


async def test_a_client_cannot_name_the_key_that_opened_a_route(
    make_service: ServiceFactory, container: str
) -> None:
    client = await make_service(pii_detector="local", **audit_settings(container))
    sent = await post(
        client, "/redact", {"body": chat("hi")}, REDACT_KEY, **{"x-pii-key-name": "restore"}
    )
    assert sent.status == 200
    await client.close()
    [record] = await stored_records(container)
    assert record["caller"] == "key:redact"


def test_equal_keys_and_a_required_audit_without_its_key_stop_start_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDACTION_API_KEY", "same")
    monkeypatch.setenv("REDACTION_RESTORE_API_KEY", "same")
    with pytest.raises(SettingsError, match="REDACTION_RESTORE_API_KEY: must differ"):
        load_settings()
    monkeypatch.delenv("REDACTION_RESTORE_API_KEY")
    monkeypatch.setenv("PII_AUDIT_CONNECTION_STRING", "UseDevelopmentStorage=true")
    assert load_settings().audit_key_problem == "PII_AUDIT_HMAC_KEY is not set"  # degraded
    monkeypatch.setenv("PII_AUDIT_REQUIRED", "true")
    with pytest.raises(SettingsError, match="PII_AUDIT_HMAC_KEY is not set"):
        load_settings()


def test_audit_verify_without_a_store_says_so_in_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PII_", "REDACTION_"))}
    result = subprocess.run(
        [sys.executable, "-m", "redaction", "audit", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "pii-redaction: set PII_AUDIT_ACCOUNT_URL or PII_AUDIT_CONNECTION_STRING"
    ]


async def test_refusals_before_any_work_leave_records_too(
    make_service: ServiceFactory, container: str
) -> None:
    settings = {**audit_settings(container), "pii_max_strings": 20}
    del settings["pii_restore_key"]  # /restore then answers 503 ServiceMisconfigured
    client = await make_service(pii_detector="local", **settings)
    many = await post(client, "/redact", {"body": chat(*["x"] * 30)}, REDACT_KEY)
    text = await post(client, "/redact", b"{}", REDACT_KEY, content_type="text/plain")
    restore = {"body": chat("<Email_1>"), "restore_token": "t"}
    unconfigured = await post(client, "/restore", restore, RESTORE_API_KEY)
    assert (many.status, text.status, unconfigured.status) == (413, 415, 503)
    await client.close()
    records = await stored_records(container)
    assert [(r["operation"], r["outcome"], r["http_status"], r["error_code"]) for r in records] == [
        ("redact", "refused", 413, "PayloadTooLarge"),
        ("redact", "refused", 415, "UnsupportedMediaType"),
        ("restore", "error", 503, "ServiceMisconfigured"),
    ]
    for record, exchange in zip(records, (many, text, unconfigured), strict=True):
        assert record["answer_hmac"] == KEYS.digest(exchange.received)
