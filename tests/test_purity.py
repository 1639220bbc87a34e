"""The pure core imports no I/O framework: it takes values and returns values."""

from __future__ import annotations

import subprocess
import sys

PURE = [
    "redaction.planning.body",
    "redaction.planning.canonical",
    "redaction.planning.vocabulary",
    "redaction.reasons",
    "redaction.strict_json",
    "redaction.headers",
    "redaction.planning.chunking",
    "redaction.planning.documents",
    "redaction.planning.batching",
    "redaction.planning.masking",
    "redaction.detectors.coverage",
    "redaction.detectors.retry",
    "redaction.deadline",
    "redaction.http.decoding",
    "redaction.models",
    "redaction.entities",
    "redaction.categories",
    "redaction.planning.packing",
    "redaction.cache.detection",
    "redaction.policy.tenant",
    "redaction.policy.patterns",
    "redaction.placeholders.pseudonyms",
    "redaction.placeholders.restore",
    "redaction.placeholders.streaming",
    "redaction.placeholders.sealing",
    "redaction.detectors.hedging",
    "redaction.detectors.budget",
    "redaction.audit.records",
    "redaction.audit.keys",
    "redaction.audit.chain",
    "redaction.audit.layout",
    "redaction.audit.verification",
]
IO_MODULES = [
    "aiohttp",
    "azure.functions",
    "azure.identity",
    "azure.storage",
    "opentelemetry",
    "azure.monitor",
]


def test_pure_modules_import_no_io_framework() -> None:
    code = (
        "import sys\n"
        f"for name in {PURE!r}: __import__(name)\n"
        f"print([m for m in {IO_MODULES!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
