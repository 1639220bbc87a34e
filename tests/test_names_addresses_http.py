"""Person names and street addresses of the embedded detector through the served app:
/health lists them, /redact masks them, excluded_categories keeps them (PII_EMBEDDED_NAMES,
PII_EMBEDDED_ADDRESSES)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest

from tests.test_hostile_input import serving

TEXT = "Hi, my name is Priya Patel; ship it to 123 Main St Apt 4, Springfield, IL 62704."
pytestmark = pytest.mark.server
# Tenant policies name Person and Address like any other category.
POLICIES = {
    "no-names": {"excluded_categories": ["Person"]},
    "addresses-only": {"categories": ["Address"], "allow_list": ["Springfield"]},
}


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    settings = {
        "PII_EMBEDDED_NAMES": "true",
        "PII_EMBEDDED_ADDRESSES": "true",
        "PII_CACHE_ENABLED": "false",
        "PII_POLICIES": json.dumps(POLICIES),
    }
    with serving(**settings) as (address, _):
        yield address


def call(url: str, path: str, body: object | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url + path, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
        return json.loads(response.read())


def redact(url: str, **config: object) -> dict:
    body: dict[str, object] = {"body": {"messages": [{"role": "user", "content": TEXT}]}}
    if config:
        body["config"] = config
    return call(url, "/redact", body)


def test_health_lists_person_and_address(url: str) -> None:
    assert {"Person", "Address"} <= set(call(url, "/health")["categories"])


def test_redact_masks_the_name_and_the_address(url: str) -> None:
    result = redact(url)
    masked = result["redacted_body"]["messages"][0]["content"]
    assert "Priya Patel" not in masked
    assert "Main St" not in masked
    assert "62704" not in masked
    assert result["diagnostics"]["categories"] == {"Person": 1, "Address": 1}


def test_excluded_categories_keep_the_address(url: str) -> None:
    result = redact(url, excluded_categories=["Address"])
    kept = result["redacted_body"]["messages"][0]["content"]
    assert "123 Main St Apt 4, Springfield, IL 62704" in kept
    assert "Priya Patel" not in kept
    assert result["diagnostics"]["categories"] == {"Person": 1}


def test_tenant_policies_select_and_exclude_person_and_address(url: str) -> None:
    kept = redact(url, policy="no-names")
    content = kept["redacted_body"]["messages"][0]["content"]
    assert "Priya Patel" in content
    assert "Main St" not in content
    assert kept["diagnostics"]["categories"] == {"Address": 1}
    only = redact(url, policy="addresses-only")
    content = only["redacted_body"]["messages"][0]["content"]
    assert "Priya Patel" in content
    assert "Main St" not in content
    # the allow list keeps an entity only when its whole text is listed: the address stays masked
    assert only["diagnostics"]["categories"] == {"Address": 1}
