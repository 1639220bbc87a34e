"""Settings: typed, documented, and refused by name (never by value) when wrong."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from redaction.errors import SettingsError
from redaction.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
NAMES = [name.upper() for name in Settings.model_fields]


@pytest.mark.parametrize("name", NAMES)
def test_every_setting_is_in_the_example_and_the_settings_table(name: str) -> None:
    example = json.loads((ROOT / "local.settings.json.example").read_text())["Values"]
    assert name in example, f"add {name} to local.settings.json.example"
    assert name in documented_settings(), f"add {name} to the table in docs/settings.md"


def documented_settings() -> set[str]:
    """The names in the first column of docs/settings.md's table, which must be one table."""
    lines = (ROOT / "docs" / "settings.md").read_text().splitlines()
    start = lines.index("| setting | default | meaning |")
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


def test_the_example_values_are_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    example = json.loads((ROOT / "local.settings.json.example").read_text())["Values"]
    for name, value in example.items():
        if name in NAMES:
            monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.detector_kind == "local"


def test_a_bad_value_names_the_setting_not_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PII_DEADLINE_S", "soon-ish-value")
    monkeypatch.setenv("LANGUAGE_API_KEY", "super-secret-key")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert "PII_DEADLINE_S" in str(raised.value)
    assert "soon-ish" not in str(raised.value)
    assert "super-secret" not in str(raised.value)


def test_azure_needs_an_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PII_DETECTOR", "azure")
    with pytest.raises(SettingsError, match="LANGUAGE_ENDPOINT"):
        load_settings()


def test_an_endpoint_selects_azure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGUAGE_ENDPOINT", "https://x.cognitiveservices.azure.com/")
    settings = load_settings()
    assert settings.detector_kind == "azure"
    assert settings.language_endpoint == "https://x.cognitiveservices.azure.com"


def test_empty_values_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGUAGE_ENDPOINT", "")
    monkeypatch.setenv("REDACTION_API_KEY", "")
    settings = load_settings()
    assert settings.language_endpoint is None
    assert settings.redaction_api_key is None
