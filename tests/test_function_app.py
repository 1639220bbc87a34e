"""The Functions registration: routes, methods and auth levels as the host indexes them."""

from __future__ import annotations

import json
from pathlib import Path

import azure.functions as func

import function_app
from redaction.http.server import registered_functions

ROOT = Path(__file__).resolve().parent.parent


def test_routes_methods_and_auth_levels() -> None:
    bindings = {
        f.get_function_name(): json.loads(f.get_function_json())["bindings"][0]
        for f in registered_functions(function_app.app)
    }
    assert bindings["redact"]["route"] == "redact"
    assert bindings["redact"]["methods"] == ["POST"]
    assert bindings["redact"]["authLevel"] == "FUNCTION"
    assert bindings["health"]["route"] == "health"
    assert bindings["health"]["methods"] == ["GET"]
    assert bindings["health"]["authLevel"] == "ANONYMOUS"


def test_host_json_serves_routes_without_a_prefix() -> None:
    host = json.loads((ROOT / "host.json").read_text())
    assert host["extensions"]["http"]["routePrefix"] == ""
    assert host["telemetryMode"] == "OpenTelemetry"


async def test_handlers_work_with_function_requests() -> None:
    request = func.HttpRequest(
        method="POST",
        url="http://localhost/redact",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"body": {"messages": [{"role": "user", "content": "a@b.io"}]}}).encode(),
    )
    response = await function_app.redact(request)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert json.loads(response.get_body())["redacted_body"]["messages"][0]["content"] == "######"
