"""Cold start (issue 15): with ``PII_DETECTOR=azure`` nothing of the embedded detector is imported
by ``import function_app`` nor by building the runtime; it is made on its first use
(``local_detector.DeferredDetector``), once, whoever asks."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading

import pytest

from redaction.deadline import Deadline
from redaction.detectors.detector import DetectionContext
from redaction.detectors.local_detector import DeferredDetector, EmbeddedDetector
from redaction.embedded import EmbeddedRecognizer
from redaction.entities import Document
from redaction.errors import DeadlineError
from tests.conftest import ROOT

EMBEDDED = ("redaction.embedded", "phonenumbers", "stdnum")
PROBE = f"""
import asyncio, json, sys
def loaded():
    return sorted(m for m in sys.modules if m.startswith({EMBEDDED!r}))
import function_app
after_import = loaded()
async def build():
    from redaction import runtime
    runtime.get_runtime()
    await runtime.shutdown()
asyncio.run(build())
print(json.dumps({{"import": after_import, "runtime": loaded()}}))
"""


def _modules_loaded(environment: dict[str, str]) -> dict[str, list[str]]:
    prefixes = ("PII_", "LANGUAGE_", "REDIS_", "APPLICATIONINSIGHTS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**env, **environment},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loaded: dict[str, list[str]] = json.loads(result.stdout.splitlines()[-1])
    return loaded


def test_azure_mode_imports_nothing_of_the_embedded_detector() -> None:
    azure = {"PII_DETECTOR": "azure", "LANGUAGE_ENDPOINT": "http://127.0.0.1:9"}
    loaded = _modules_loaded({**azure, "LANGUAGE_API_KEY": "k"})
    assert loaded == {"import": [], "runtime": []}


def test_local_mode_loads_it_when_the_runtime_is_built() -> None:
    """The check above is not vacuous: the same probe sees the modules in local mode."""
    loaded = _modules_loaded({"PII_DETECTOR": "local"})
    assert loaded["import"] == []
    assert {"redaction.embedded", "phonenumbers"} <= set(loaded["runtime"])


async def test_the_deferred_detector_is_made_once_for_every_caller() -> None:
    made = 0

    def build() -> EmbeddedDetector:
        nonlocal made
        made += 1
        return EmbeddedDetector(EmbeddedRecognizer())

    deferred = DeferredDetector(build)
    assert not deferred.loaded
    assert deferred.categories == frozenset()
    context = DetectionContext(Deadline.after(60), "en")
    documents = [Document("0", "mail alice@example.com")]
    results = await asyncio.gather(*(deferred.detect(documents, context) for _ in range(5)))
    assert made == 1
    assert deferred.loaded
    assert "Email" in deferred.categories
    assert {r.documents[0].entities[0].category for r in results} == {"Email"}


async def test_a_request_whose_deadline_comes_first_does_not_stop_the_build() -> None:
    release = threading.Event()

    def build() -> EmbeddedDetector:
        release.wait(timeout=60)
        return EmbeddedDetector(EmbeddedRecognizer())

    deferred = DeferredDetector(build)
    with pytest.raises(DeadlineError):
        await deferred.ready(Deadline.after(0.0))
    release.set()
    assert isinstance(await deferred.ready(Deadline.after(60)), EmbeddedDetector)
