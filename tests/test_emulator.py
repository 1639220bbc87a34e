"""The Azure AI Language emulator, over real HTTP: protocol, validation, faults, control API."""

from __future__ import annotations

import asyncio
import io
import json
import os
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import regex
from aiohttp import web
from aiohttp.test_utils import TestClient

from emulator import EmulatorState, build_emulator_app
from emulator.indexing import TextUnits, count_text_elements
from emulator.versions import API_VERSIONS

ClientFactory = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]
Client = TestClient[web.Request, web.Application]

ROOT = Path(__file__).resolve().parents[1]
PATH = "/language/:analyze-text"
KEY = {"Ocp-Apim-Subscription-Key": "emulator-key"}
REFERENCE = "My email is alice@example.com and my SSN is 123-45-6789"
# Emoji with a skin-tone modifier (2 code points, 4 UTF-16 units, 1 text element), "e" with a
# combining acute (2 code points, 1 text element) and an astral emoji before the entity.
TRICKY = "👍🏽 e\u0301 😀 mail bob@example.org"
TRICKY_OFFSETS = {"UnicodeCodePoint": 13, "Utf16CodeUnit": 16, "TextElements_v8": 11}


@pytest.fixture
def state() -> EmulatorState:
    return EmulatorState()


@pytest.fixture
async def client(aiohttp_client: ClientFactory, state: EmulatorState) -> Client:
    return await aiohttp_client(build_emulator_app(state))


def task(texts: list[str], **parameters: Any) -> dict[str, Any]:
    documents = [{"id": str(i + 1), "language": "en", "text": t} for i, t in enumerate(texts)]
    return {
        "kind": "PiiEntityRecognition",
        "parameters": parameters,
        "analysisInput": {"documents": documents},
    }


async def analyze(
    client: Client,
    body: Any,
    *,
    api_version: str | None = "2024-11-01",
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    **kwargs: Any,
) -> aiohttp.ClientResponse:
    query = {**({"api-version": api_version} if api_version else {}), **(query or {})}
    headers = KEY if headers is None else headers
    return await client.post(PATH, params=query, json=body, headers=headers, **kwargs)


async def analyze_ok(client: Client, body: Any, **kwargs: Any) -> dict[str, Any]:
    response = await analyze(client, body, **kwargs)
    assert response.status == 200, await response.text()
    result: dict[str, Any] = await response.json()
    return result


async def expect_error(
    response: aiohttp.ClientResponse, status: int, code: str, inner: str | None = None
) -> dict[str, Any]:
    assert response.status == status, await response.text()
    body: dict[str, Any] = await response.json()
    assert body["error"]["code"] == code
    assert response.headers["x-ms-error-code"] == code
    assert body["error"]["message"]
    if inner is not None:
        assert body["error"]["innererror"]["code"] == inner
    return body


async def add_faults(client: Client, *faults: dict[str, Any]) -> None:
    response = await client.post("/_emulator/faults", json={"faults": list(faults)})
    assert response.status == 200, await response.text()


async def stats(client: Client) -> dict[str, Any]:
    result: dict[str, Any] = await (await client.get("/_emulator/stats")).json()
    return result


# --- pure: string index units -------------------------------------------------------------------


def test_units_measure_a_span_after_emoji_and_combining_marks() -> None:
    start = TRICKY.index("bob")
    for index_type, offset in TRICKY_OFFSETS.items():
        units = TextUnits(TRICKY, index_type)  # type: ignore[arg-type]
        assert units.measure(start, start + 15) == (offset, 15)


def test_units_mask_astral_characters_per_unit() -> None:
    text = "a😀b"
    assert TextUnits(text, "UnicodeCodePoint").mask([(1, 2)], "*") == "a*b"
    assert TextUnits(text, "Utf16CodeUnit").mask([(1, 2)], "*") == "a**b"
    assert TextUnits("x👍🏽y", "TextElements_v8").mask([(1, 2)], "#") == "x#y"


def test_units_widen_a_span_to_whole_text_elements() -> None:
    units = TextUnits("x👍🏽y", "TextElements_v8")
    assert units.widen(2, 3) == (1, 3)
    assert units.measure(1, 3) == (1, 1)
    assert count_text_elements("e\u0301" * 3) == 3


# --- success answers ----------------------------------------------------------------------------


async def test_reference_text_in_code_points(client: Client) -> None:
    response = await analyze(client, task([REFERENCE], stringIndexType="UnicodeCodePoint"))
    assert response.status == 200
    assert response.headers["apim-request-id"]
    body = await response.json()
    assert body["kind"] == "PiiEntityRecognitionResults"
    assert set(body["results"]) == {"documents", "errors", "modelVersion"}
    assert body["results"]["errors"] == []
    [document] = body["results"]["documents"]
    assert set(document) == {"id", "redactedText", "entities", "warnings"}
    assert document["warnings"] == []
    spans = [(e["category"], e["offset"], e["length"], e["text"]) for e in document["entities"]]
    assert spans == [
        ("Email", 12, 17, "alice@example.com"),
        ("USSocialSecurityNumber", 44, 11, "123-45-6789"),
    ]
    assert document["redactedText"] == f"My email is {'*' * 17} and my SSN is {'*' * 11}"
    for entity in document["entities"]:
        assert set(entity) == {"text", "category", "offset", "length", "confidenceScore"}
        assert 0 < entity["confidenceScore"] <= 1


@pytest.mark.parametrize(("index_type", "offset"), sorted(TRICKY_OFFSETS.items()))
async def test_offsets_and_masks_follow_string_index_type(
    client: Client, index_type: str, offset: int
) -> None:
    body = await analyze_ok(client, task([TRICKY], stringIndexType=index_type))
    [document] = body["results"]["documents"]
    [entity] = document["entities"]
    assert (entity["offset"], entity["length"], entity["text"]) == (offset, 15, "bob@example.org")
    assert _units(document["redactedText"], index_type)[offset : offset + 15] == ["*"] * 15
    assert (
        _units(document["redactedText"], index_type)[:offset] == _units(TRICKY, index_type)[:offset]
    )


def _units(text: str, index_type: str) -> list[str]:
    if index_type == "TextElements_v8":
        return list(regex.findall(r"\X", text))
    if index_type == "Utf16CodeUnit":
        raw = text.encode("utf-16-le")
        return [raw[i : i + 2].decode("utf-16-le", "surrogatepass") for i in range(0, len(raw), 2)]
    return list(text)


async def test_text_elements_are_the_default_index_type(client: Client) -> None:
    body = await analyze_ok(client, task([TRICKY]))
    assert body["results"]["documents"][0]["entities"][0]["offset"] == 11


async def test_spec_example_gets_true_offsets(client: Client) -> None:
    example = Path("/work/shared/reference/azure-language-examples/2022-05-01")
    spec = json.loads((example / "SuccessfulPiiEntityRecognitionRequest.json").read_text())
    body = await analyze_ok(client, spec["parameters"]["body"], api_version="2022-05-01")
    first = body["results"]["documents"][0]
    assert first["redactedText"] == "My SSN is ***********"
    assert [(e["offset"], e["length"]) for e in first["entities"]] == [(10, 11)]
    assert [d["id"] for d in body["results"]["documents"]] == ["1", "2", "3"]


async def test_show_stats_adds_statistics(client: Client) -> None:
    response = await analyze(client, task([REFERENCE, ""]), query={"showStats": "true"})
    body = await response.json()
    results = body["results"]
    assert results["statistics"] == {
        "documentsCount": 2,
        "validDocumentsCount": 1,
        "erroneousDocumentsCount": 1,
        "transactionsCount": 1,
    }
    assert results["documents"][0]["statistics"] == {"charactersCount": 55, "transactionsCount": 1}


@pytest.mark.parametrize("api_version", sorted(API_VERSIONS))
async def test_every_known_api_version_answers(client: Client, api_version: str) -> None:
    body = await analyze_ok(client, task([REFERENCE]), api_version=api_version)
    assert len(body["results"]["documents"][0]["entities"]) == 2


async def test_pii_categories_filter(client: Client) -> None:
    body = await analyze_ok(client, task([REFERENCE], piiCategories=["Email"]))
    assert [e["category"] for e in body["results"]["documents"][0]["entities"]] == ["Email"]
    body = await analyze_ok(client, task([REFERENCE], piiCategories=["Email", "Default"]))
    assert len(body["results"]["documents"][0]["entities"]) == 2


async def test_common_parameters_are_accepted(client: Client) -> None:
    parameters = {"domain": "phi", "modelVersion": "latest", "loggingOptOut": True}
    body = await analyze_ok(client, task([REFERENCE], **parameters))
    assert body["results"]["modelVersion"] == "2021-01-15"


async def test_exclusion_and_redaction_character_where_the_version_defines_them(
    client: Client,
) -> None:
    body = await analyze_ok(
        client,
        task([REFERENCE], excludePiiCategories=["Email"], redactionCharacter="-"),
        api_version="2024-11-15-preview",
    )
    [document] = body["results"]["documents"]
    assert [e["category"] for e in document["entities"]] == ["USSocialSecurityNumber"]
    assert document["redactedText"] == f"My email is alice@example.com and my SSN is {'-' * 11}"


async def test_redaction_policies_of_2026(client: Client) -> None:
    no_mask = task([REFERENCE], redactionPolicies=[{"policyKind": "noMask"}])
    body = await analyze_ok(client, no_mask, api_version="2026-05-01")
    assert body["results"]["documents"][0]["redactedText"] == REFERENCE
    policy = [{"policyKind": "characterMask", "redactionCharacter": "#"}]
    body = await analyze_ok(
        client, task([REFERENCE], redactionPolicies=policy), api_version="2026-05-01"
    )
    assert body["results"]["documents"][0]["redactedText"].endswith("#" * 11)


async def test_value_exclusion_policy_of_2025_11_01(client: Client) -> None:
    policy = {"excludedValues": ["ALICE@example.com"]}
    body = await analyze_ok(
        client, task([REFERENCE], valueExclusionPolicy=policy), api_version="2025-11-01"
    )
    categories = [e["category"] for e in body["results"]["documents"][0]["entities"]]
    assert categories == ["USSocialSecurityNumber"]


# --- per-document errors ------------------------------------------------------------------------


async def test_oversize_and_empty_documents_fail_alone(client: Client) -> None:
    too_long = "a" * 5121
    # 5,120 text elements of two code points each: within the limit.
    combining = "e\u0301" * 5119 + " "
    body = await analyze_ok(client, task([REFERENCE, too_long, "", combining]))
    results = body["results"]
    assert [d["id"] for d in results["documents"]] == ["1", "4"]
    errors = {e["id"]: e["error"] for e in results["errors"]}
    assert set(errors) == {"2", "3"}
    for error in errors.values():
        assert error["code"] == "InvalidArgument"
        assert error["innererror"]["code"] == "InvalidDocument"
    assert "5120" in errors["2"]["innererror"]["message"]


# --- request validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Ocp-Apim-Subscription-Key": "wrong"},
        {"Ocp-Apim-Subscription-Key": ""},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic abc"},
    ],
)
async def test_bad_credentials_are_401(client: Client, headers: dict[str, str]) -> None:
    await expect_error(
        await analyze(client, task([REFERENCE]), headers=headers), 401, "Unauthorized"
    )


async def test_any_bearer_token_unless_one_is_configured(aiohttp_client: ClientFactory) -> None:
    open_bearer = await aiohttp_client(build_emulator_app())
    await analyze_ok(open_bearer, task([REFERENCE]), headers={"Authorization": "Bearer t0k"})
    strict = await aiohttp_client(build_emulator_app(api_key=None, bearer_token="good"))
    await analyze_ok(strict, task([REFERENCE]), headers={"Authorization": "Bearer good"})
    for headers in ({"Authorization": "Bearer bad"}, KEY):
        response = await analyze(strict, task([REFERENCE]), headers=headers)
        await expect_error(response, 401, "Unauthorized")


@pytest.mark.parametrize("api_version", [None, "2024-11-02", "2023-01-01-preview", "latest"])
async def test_unknown_api_version_is_404(client: Client, api_version: str | None) -> None:
    response = await analyze(client, task([REFERENCE]), api_version=api_version)
    await expect_error(response, 404, "NotFound")


async def test_wrong_content_type_is_415(client: Client) -> None:
    data = json.dumps(task([REFERENCE]))
    response = await client.post(
        PATH,
        params={"api-version": "2024-11-01"},
        data=data,
        headers={**KEY, "Content-Type": "text/plain"},
    )
    await expect_error(response, 415, "InvalidRequest", "InvalidRequestBodyFormat")


async def test_body_that_is_not_json_is_400(client: Client) -> None:
    response = await client.post(
        PATH,
        params={"api-version": "2024-11-01"},
        data=b"{not json",
        headers={**KEY, "Content-Type": "application/json"},
    )
    await expect_error(response, 400, "InvalidRequest", "InvalidRequestBodyFormat")


async def test_body_over_one_megabyte_is_413(client: Client) -> None:
    data = io.BytesIO(json.dumps(task(["x" * (1024 * 1024)])).encode())
    response = await client.post(
        PATH,
        params={"api-version": "2024-11-01"},
        data=data,
        headers={**KEY, "Content-Type": "application/json"},
    )
    await expect_error(response, 413, "InvalidRequest", "InvalidDocumentBatch")


def _documents(*documents: Any) -> dict[str, Any]:
    return {"kind": "PiiEntityRecognition", "analysisInput": {"documents": list(documents)}}


@pytest.mark.parametrize(
    ("body", "inner"),
    [
        ([], "EmptyRequest"),
        ({}, "EmptyRequest"),
        ({**task([REFERENCE]), "kind": "EntityRecognition"}, "InvalidParameterValue"),
        ({"kind": "PiiEntityRecognition"}, "MissingInputDocuments"),
        (_documents(), "MissingInputDocuments"),
        (task(["a"] * 6), "InvalidDocumentBatch"),
        (_documents({"id": "1", "text": "a"}, {"id": "1", "text": "b"}), "InvalidDocument"),
        (_documents({"id": "", "text": "a"}), "InvalidDocument"),
        (_documents({"id": "1"}), "InvalidRequestBodyFormat"),
        (_documents({"id": 1, "text": "a"}), "InvalidRequestBodyFormat"),
        (_documents("text"), "InvalidRequestBodyFormat"),
        (task([REFERENCE], stringIndexType="Utf8"), "InvalidParameterValue"),
        (task([REFERENCE], piiCategories=["NotACategory"]), "InvalidParameterValue"),
        (task([REFERENCE], modelVersion="1999-01-01"), "ModelVersionIncorrect"),
        (task([REFERENCE], loggingOptOut="yes"), "InvalidParameterValue"),
        (task([REFERENCE], domain="finance"), "InvalidParameterValue"),
        (task([REFERENCE], excludePiiCategories=["Email"]), "InvalidParameterValue"),
        (task([REFERENCE], redactionCharacter="-"), "InvalidParameterValue"),
        (task([REFERENCE], redactionPolicies=[{"policyKind": "noMask"}]), "InvalidParameterValue"),
        (task([REFERENCE], unknownThing=1), "InvalidParameterValue"),
        ({**task([REFERENCE]), "parameters": []}, "InvalidParameterValue"),
    ],
)
async def test_invalid_requests_are_400(client: Client, body: Any, inner: str) -> None:
    # 2024-11-01 GA defines no exclusion, redaction character or policies.
    await expect_error(await analyze(client, body), 400, "InvalidRequest", inner)


async def test_bad_redaction_character_is_400(client: Client) -> None:
    body = task([REFERENCE], redactionCharacter="x")
    response = await analyze(client, body, api_version="2023-11-15-preview")
    await expect_error(response, 400, "InvalidRequest", "InvalidParameterValue")


# --- faults -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (429, "TooManyRequests"),
        (500, "InternalServerError"),
        (502, "InternalServerError"),
        (503, "ServiceUnavailable"),
        (504, "Timeout"),
        (401, "Unauthorized"),
        (403, "Forbidden"),
    ],
)
async def test_status_fault_then_success(client: Client, status: int, code: str) -> None:
    await add_faults(client, {"kind": "status", "status": status})
    await expect_error(await analyze(client, task([REFERENCE])), status, code)
    await analyze_ok(client, task([REFERENCE]))


@pytest.mark.parametrize("headers", [{"Retry-After": "1"}, {"retry-after-ms": "200"}, {}])
async def test_status_fault_headers(client: Client, headers: dict[str, str]) -> None:
    await add_faults(client, {"kind": "status", "status": 429, "headers": headers})
    response = await analyze(client, task([REFERENCE]))
    assert response.status == 429
    for name, value in headers.items():
        assert response.headers[name] == value
    if not headers:
        assert "Retry-After" not in response.headers


async def test_fault_times_after_and_forever(client: Client) -> None:
    await add_faults(client, {"kind": "status", "status": 500, "times": 2, "after": 1})
    statuses = [(await analyze(client, task([REFERENCE]))).status for _ in range(4)]
    assert statuses == [200, 500, 500, 200]
    await add_faults(client, {"kind": "status", "status": 503, "times": None})
    statuses = [(await analyze(client, task([REFERENCE]))).status for _ in range(3)]
    assert statuses == [503, 503, 503]
    assert (await client.delete("/_emulator/faults")).status == 200
    await analyze_ok(client, task([REFERENCE]))


async def test_faults_are_taken_in_order(client: Client) -> None:
    await add_faults(client, {"kind": "status", "status": 500}, {"kind": "status", "status": 503})
    statuses = [(await analyze(client, task([REFERENCE]))).status for _ in range(3)]
    assert statuses == [500, 503, 200]


async def test_batch_contains_faults_one_batch_among_concurrent_ones(client: Client) -> None:
    await add_faults(client, {"kind": "status", "status": 500, "batch_contains": "MARK"})
    bodies = [task([f"plain text {i}"]) for i in range(4)] + [task(["x", "a MARK b"])]
    responses = await asyncio.gather(*(analyze(client, body) for body in bodies))
    assert [r.status for r in responses] == [200, 200, 200, 200, 500]
    assert (await client.get("/_emulator/faults")).status == 200
    assert (await (await client.get("/_emulator/faults")).json())["faults"] == []


async def test_invalid_requests_do_not_consume_faults(client: Client) -> None:
    await add_faults(client, {"kind": "status", "status": 500})
    await expect_error(await analyze(client, task([REFERENCE]), headers={}), 401, "Unauthorized")
    await expect_error(await analyze(client, task([])), 400, "InvalidRequest")
    await expect_error(await analyze(client, task([REFERENCE])), 500, "InternalServerError")


async def test_hang_delays_then_answers(client: Client) -> None:
    await add_faults(client, {"kind": "hang", "seconds": 0.3})
    started = time.monotonic()
    await analyze_ok(client, task([REFERENCE]))
    assert time.monotonic() - started >= 0.29


async def test_hang_outlives_the_client_timeout_and_ends_with_the_client(client: Client) -> None:
    await add_faults(client, {"kind": "hang", "seconds": 3600})
    with pytest.raises(TimeoutError):
        await analyze(client, task([REFERENCE]), timeout=aiohttp.ClientTimeout(total=0.2))
    await _eventually(lambda s: s["in_flight"] == 0, client)
    await analyze_ok(client, task([REFERENCE]))


async def test_malformed_body(client: Client) -> None:
    await add_faults(client, {"kind": "malformed"})
    response = await analyze(client, task([REFERENCE]))
    assert response.status == 200
    assert response.content_type == "application/json"
    with pytest.raises(ValueError, match=r"Unterminated|Expecting"):
        json.loads(await response.text())


@pytest.mark.parametrize(("index", "kept"), [(None, ["1", "2"]), (0, ["2", "3"]), (1, ["1", "3"])])
async def test_drop_document(client: Client, index: int | None, kept: list[str]) -> None:
    fault: dict[str, Any] = {"kind": "drop_document"}
    if index is not None:
        fault["index"] = index
    await add_faults(client, fault)
    body = await analyze_ok(client, task(["a", "b", "c"]))
    assert [d["id"] for d in body["results"]["documents"]] == kept
    assert body["results"]["errors"] == []


async def test_document_error(client: Client) -> None:
    await add_faults(client, {"kind": "document_error", "index": 0})
    body = await analyze_ok(client, task([REFERENCE, "b"]))
    assert [d["id"] for d in body["results"]["documents"]] == ["2"]
    [error] = body["results"]["errors"]
    assert error["id"] == "1"
    assert error["error"]["code"] == "InternalServerError"


async def test_duplicate_and_unknown_documents(client: Client) -> None:
    await add_faults(client, {"kind": "duplicate_document"}, {"kind": "unknown_document"})
    first = await analyze_ok(client, task(["a", "b"]))
    assert [d["id"] for d in first["results"]["documents"]] == ["1", "2", "2"]
    second = await analyze_ok(client, task(["a", "b"]))
    ids = [d["id"] for d in second["results"]["documents"]]
    assert ids[:2] == ["1", "2"]
    assert len(ids) == 3
    assert ids[2] not in {"1", "2"}


@pytest.mark.parametrize("index_type", sorted(TRICKY_OFFSETS))
async def test_bad_offsets(client: Client, index_type: str) -> None:
    await add_faults(client, {"kind": "bad_offsets"})
    body = await analyze_ok(client, task([TRICKY], stringIndexType=index_type))
    [document] = body["results"]["documents"]
    size = len(_units(TRICKY, index_type))
    assert any(e["offset"] + e["length"] > size for e in document["entities"])


async def test_reset_mid_body(client: Client) -> None:
    await add_faults(client, {"kind": "reset"})
    response = await analyze(client, task([REFERENCE]))
    assert response.status == 200
    with pytest.raises(aiohttp.ClientPayloadError):
        await response.read()
    await analyze_ok(client, task([REFERENCE]))


async def test_trickle_spreads_the_body_over_time(client: Client) -> None:
    normal = await analyze_ok(client, task([REFERENCE]))
    await add_faults(client, {"kind": "trickle", "seconds": 0.3, "interval": 0.05})
    started = time.monotonic()
    response = await analyze(client, task([REFERENCE]))
    assert response.status == 200  # the status and headers come first, the body after them
    pieces = [chunk async for chunk in response.content.iter_any()]
    assert time.monotonic() - started >= 0.28  # a lower bound: a busy machine only adds to it
    assert len(pieces) >= 4
    assert json.loads(b"".join(pieces)) == normal


@pytest.mark.parametrize(
    "body",
    [
        {"faults": [{"kind": "explode"}]},
        {"faults": [{"kind": "status", "times": 0}]},
        {"faults": [{"kind": "status", "typo": 1}]},
        {"fault": []},
        [],
    ],
)
async def test_bad_fault_bodies_are_400(client: Client, body: Any) -> None:
    response = await client.post("/_emulator/faults", json=body)
    assert response.status == 400
    assert "error" in await response.json()


async def test_state_can_be_driven_directly(client: Client, state: EmulatorState) -> None:
    from emulator import Fault

    state.faults.add([Fault(kind="status", status=503)])
    await expect_error(await analyze(client, task([REFERENCE])), 503, "ServiceUnavailable")
    assert state.stats.statuses[503] == 1


# --- config and stats ---------------------------------------------------------------------------


async def test_latency(client: Client) -> None:
    response = await client.post("/_emulator/config", json={"latency_ms": 200})
    assert (await response.json())["latency_ms"] == 200
    started = time.monotonic()
    await analyze_ok(client, task([REFERENCE]))
    assert time.monotonic() - started >= 0.19


async def test_latency_jitter_is_bounded(client: Client, state: EmulatorState) -> None:
    await client.post("/_emulator/config", json={"latency_ms": 10, "latency_jitter_ms": 5})
    delays = [state.latency_seconds() for _ in range(200)]
    assert all(0.005 <= delay <= 0.015 for delay in delays)
    assert len(set(delays)) > 1


async def test_throttle_rate_with_retry_after(client: Client) -> None:
    await client.post("/_emulator/config", json={"throttle_rate": 1.0, "retry_after": "2"})
    response = await analyze(client, task([REFERENCE]))
    await expect_error(response, 429, "TooManyRequests")
    assert response.headers["Retry-After"] == "2"
    await client.post("/_emulator/config", json={"retry_after": None})
    response = await analyze(client, task([REFERENCE]))
    assert response.status == 429
    assert "Retry-After" not in response.headers


async def test_seeded_throttling_repeats(client: Client) -> None:
    runs = []
    for _ in range(2):
        await client.post("/_emulator/reset")
        await client.post("/_emulator/config", json={"throttle_rate": 0.5, "seed": 7})
        runs.append([(await analyze(client, task(["a"]))).status for _ in range(20)])
    assert runs[0] == runs[1]
    assert {200, 429} == set(runs[0])


async def test_api_key_change_survives_reset(client: Client) -> None:
    await client.post("/_emulator/config", json={"api_key": "new-key"})
    await expect_error(await analyze(client, task([REFERENCE])), 401, "Unauthorized")
    await client.post("/_emulator/reset")
    await analyze_ok(client, task([REFERENCE]), headers={"Ocp-Apim-Subscription-Key": "new-key"})


@pytest.mark.parametrize(
    "body", [{"throttle_rate": 2}, {"latency_ms": -1}, {"unknown": 1}, ["latency_ms"]]
)
async def test_bad_config_is_400(client: Client, body: Any) -> None:
    assert (await client.post("/_emulator/config", json=body)).status == 400


async def test_stats_count_calls(client: Client) -> None:
    await analyze_ok(client, task([REFERENCE, "abc"]))
    await analyze(client, task([REFERENCE]), headers={})
    await add_faults(client, {"kind": "status", "status": 429})
    await analyze(client, task(["xy"]), api_version="2026-05-01")
    result = await stats(client)
    assert result["requests"] == 3
    assert result["documents"] == 3
    assert result["characters"] == len(REFERENCE) + 3 + 2
    assert result["statuses"] == {"200": 1, "401": 1, "429": 1}
    assert result["in_flight"] == 0
    assert result["calls"][0] == {
        "documents": 2,
        "characters": len(REFERENCE) + 3,
        "status": 200,
        "api_version": "2024-11-01",
        "fault": None,
    }
    assert result["calls"][2]["api_version"] == "2026-05-01"
    assert result["calls"][2]["fault"] == "status"


async def test_in_flight_tracking(client: Client) -> None:
    await add_faults(client, {"kind": "hang", "seconds": 0.3, "times": 3})
    calls = [asyncio.create_task(analyze(client, task([REFERENCE]))) for _ in range(3)]
    during = await _eventually(lambda s: s["in_flight"] == 3, client)
    assert during["max_in_flight"] == 3
    assert [r.status for r in await asyncio.gather(*calls)] == [200, 200, 200]
    after = await stats(client)
    assert (after["in_flight"], after["max_in_flight"]) == (0, 3)


async def test_reset_clears_stats_faults_and_config(client: Client) -> None:
    await analyze_ok(client, task([REFERENCE]))
    await add_faults(client, {"kind": "status", "times": None})
    await client.post("/_emulator/config", json={"latency_ms": 5})
    assert (await client.post("/_emulator/reset")).status == 200
    assert (await stats(client))["requests"] == 0
    assert (await (await client.get("/_emulator/config")).json())["latency_ms"] == 0
    await analyze_ok(client, task([REFERENCE]))


async def _eventually(
    condition: Callable[[dict[str, Any]], bool], client: Client, within: float = 2.0
) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        current = await stats(client)
        if condition(current) or time.monotonic() > deadline:
            assert condition(current), current
            return current
        await asyncio.sleep(0.01)


# --- run_emulator -------------------------------------------------------------------------------


# Start-up of a subprocess on a busy machine: generous, it only bounds a hang.
STARTUP_S = 60.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.server
async def test_run_emulator_serves_until_stopped() -> None:
    port = _free_port()
    code = f"from emulator import run_emulator; run_emulator(port={port}, api_key='k1')"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, stderr=asyncio.subprocess.PIPE, env=env
    )
    try:
        async with aiohttp.ClientSession() as session:
            status = await _poll_status(session, port)
        assert status == 200
    finally:
        process.terminate()
        _, err = await asyncio.wait_for(process.communicate(), 10)
    assert f"http://127.0.0.1:{port}" in err.decode()
    assert "k1" in err.decode()


async def _poll_status(session: aiohttp.ClientSession, port: int) -> int:
    url = f"http://127.0.0.1:{port}{PATH}?api-version=2024-11-01"
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        try:
            async with session.post(
                url, json=task(["a"]), headers={"Ocp-Apim-Subscription-Key": "k1"}
            ) as r:
                return r.status
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.05)
    return 0


async def test_language_may_be_null_or_missing(client: Client) -> None:
    body = _documents({"id": "1", "text": REFERENCE, "language": None}, {"id": "2", "text": "x"})
    result = await analyze_ok(client, body)
    assert [d["id"] for d in result["results"]["documents"]] == ["1", "2"]


async def test_entity_mask_policy(client: Client) -> None:
    text = "😀 a@b.co, c@d.io and a@b.co"
    policies = [{"policyKind": "entityMask"}]
    body = await analyze_ok(
        client,
        task([text], redactionPolicies=policies, stringIndexType="Utf16CodeUnit"),
        api_version="2026-05-01",
    )
    [document] = body["results"]["documents"]
    assert document["redactedText"] == "😀 [EMAIL_1], [EMAIL_2] and [EMAIL_1]"
    masks = [(e["mask"], e["maskOffset"], e["maskLength"]) for e in document["entities"]]
    assert masks == [("[EMAIL_1]", 3, 9), ("[EMAIL_2]", 14, 9), ("[EMAIL_1]", 28, 9)]
    assert [e["offset"] for e in document["entities"]] == [3, 11, 22]
