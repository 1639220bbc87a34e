"""Language api-versions (issue 15): 2025-11-01 (the newest GA, the default) and 2024-11-01, both
against the emulator; ``detection_language: "auto"`` only where the api-version detects the
language, else a 400 naming the field before any call."""

from __future__ import annotations

import typing
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from redaction.detectors.language_client import API_VERSIONS, NEWEST_GA, supports_auto_language
from redaction.errors import SettingsError
from redaction.settings import Settings, load_settings
from tests.conftest import (
    EMULATOR_KEY,
    REFERENCE_BODY,
    REFERENCE_MASKED,
    Emulator,
    ServiceFactory,
    post_redact,
)


def test_settings_take_the_versions_the_client_was_checked_against() -> None:
    annotation = Settings.model_fields["language_api_version"].annotation
    assert set(typing.get_args(annotation)) == set(API_VERSIONS)
    assert Settings().language_api_version == NEWEST_GA == max(API_VERSIONS)


def test_an_unknown_version_stops_start_up_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LANGUAGE_API_VERSION", "2023-04-15-preview")
    with pytest.raises(SettingsError, match="LANGUAGE_API_VERSION") as raised:
        load_settings()
    assert "2023-04-15-preview" not in str(raised.value)


@pytest.mark.parametrize("version", sorted(API_VERSIONS))
async def test_each_version_redacts_against_the_emulator(
    make_service: ServiceFactory, emulator: Emulator, version: str
) -> None:
    service = await make_service(
        language_endpoint=emulator.url, language_api_key=EMULATOR_KEY, language_api_version=version
    )
    status, result = await post_redact(service, REFERENCE_BODY)
    assert (status, result["status"]) == (200, "ok")
    assert result["redacted_body"]["messages"][0]["content"] == REFERENCE_MASKED
    assert result["diagnostics"]["api_version"] == version
    assert [call["api_version"] for call in (await emulator.stats())["calls"]] == [version]


async def test_auto_language_is_a_400_where_the_version_cannot_detect_it(
    make_service: ServiceFactory, emulator: Emulator
) -> None:
    assert not supports_auto_language("2024-11-01")
    service = await make_service(
        language_endpoint=emulator.url,
        language_api_key=EMULATOR_KEY,
        language_api_version="2024-11-01",
    )
    status, result = await post_redact(service, REFERENCE_BODY, detection_language="auto")
    assert status == 400
    assert result["error"]["code"] == "InvalidRequest"
    assert result["error"]["message"].startswith("config.detection_language:")
    assert result["error"]["details"][0]["field"] == "config.detection_language"
    assert "alice" not in str(result)
    assert (await emulator.stats())["requests"] == 0


async def test_auto_language_is_sent_where_the_version_detects_it(
    azure_service: TestClient[Any, Any], emulator: Emulator
) -> None:
    status, result = await post_redact(azure_service, REFERENCE_BODY, detection_language="auto")
    assert (status, result["status"]) == (200, "ok")
    assert result["diagnostics"]["api_version"] == "2025-11-01"


async def test_the_embedded_detector_reads_any_language(
    local_service: TestClient[Any, Any],
) -> None:
    status, result = await post_redact(local_service, REFERENCE_BODY, detection_language="auto")
    assert (status, result["status"]) == (200, "ok")
