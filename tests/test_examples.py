"""Every request body in ``examples/`` (the ones the README and the docs use), posted to
``python -m redaction serve`` in a subprocess, comes back 200 ``ok`` with everything scanned and
its personal data masked."""

from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_hostile_input import serving

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
# Planted in the examples; none may come back.
PLANTED = ["alice@example.com", "123-45-6789", "bob.smith@contoso.com", "4111 1111 1111 1111"]


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    key = base64.b64encode(b"examples-restore-key-32-bytes-ok").decode()
    with serving(PII_RESTORE_KEY=key) as (url, _):
        yield url


def test_there_are_examples_and_the_readme_names_each() -> None:
    assert len(EXAMPLES) >= 5
    readme = (ROOT / "README.md").read_text()
    for path in EXAMPLES:
        assert f"examples/{path.name}" in readme, f"{path.name} is not in the README's table"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_each_example_is_redacted_ok(served: str, path: Path) -> None:
    request = urllib.request.Request(
        f"{served}/redact", data=path.read_bytes(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        status, result = response.status, json.load(response)
    assert status == 200
    assert result["status"] == "ok"
    assert result["full_coverage"] is True
    assert result["diagnostics"]["entity_count"] >= 1
    answer = json.dumps(result["redacted_body"], ensure_ascii=False)
    for planted in PLANTED:
        assert planted not in answer
