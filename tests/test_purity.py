"""The pure core imports no I/O framework: it takes values and returns values."""

from __future__ import annotations

import subprocess
import sys

PURE = [
    "redaction.body",
    "redaction.canonical",
    "redaction.vocabulary",
    "redaction.reasons",
    "redaction.chunking",
    "redaction.documents",
    "redaction.batching",
    "redaction.masking",
    "redaction.coverage",
    "redaction.retry",
    "redaction.deadline",
    "redaction.decoding",
    "redaction.models",
    "redaction.entities",
    "redaction.categories",
    "redaction.packing",
    "redaction.cache",
    "redaction.policy",
    "redaction.patterns",
    "redaction.pseudonyms",
    "redaction.restore",
    "redaction.streaming",
    "redaction.sealing",
    "redaction.hedging",
]
IO_MODULES = ["aiohttp", "azure.functions", "azure.identity", "opentelemetry", "azure.monitor"]


def test_pure_modules_import_no_io_framework() -> None:
    code = (
        "import sys\n"
        f"for name in {PURE!r}: __import__(name)\n"
        f"print([m for m in {IO_MODULES!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
