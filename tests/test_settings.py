"""Settings: typed, documented, and refused by name (never by value) when wrong."""

from __future__ import annotations

import json
import re
import sys
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


def test_a_ner_model_without_spacy_stops_start_up_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "path", [p for p in sys.path if not (Path(p) / "spacy").exists()])
    monkeypatch.setenv("PII_NER_MODEL", "en_core_web_sm")
    with pytest.raises(SettingsError, match=r"PII_NER_MODEL: needs spaCy.*pip install"):
        load_settings()


def test_a_ner_model_that_is_not_installed_stops_start_up_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "spacy").mkdir()
    (tmp_path / "spacy" / "__init__.py").write_text("")  # found, never imported
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PII_NER_MODEL", "xx_no_such_model_sm")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert "PII_NER_MODEL: names no installed spaCy model package" in str(raised.value)
    assert "xx_no_such" not in str(raised.value)
    (tmp_path / "xx_no_such_model_sm").mkdir()
    (tmp_path / "xx_no_such_model_sm" / "__init__.py").write_text("")
    assert load_settings().pii_ner_model == "xx_no_such_model_sm"


def test_names_without_the_names_extra_stop_start_up_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import redaction.settings as settings_module

    monkeypatch.setattr(settings_module, "_importable", lambda name: name != "faker")
    monkeypatch.setenv("PII_EMBEDDED_NAMES", "true")
    with pytest.raises(SettingsError, match="PII_EMBEDDED_NAMES") as raised:
        load_settings()
    assert "[names]" in str(raised.value)
