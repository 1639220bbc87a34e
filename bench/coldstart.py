"""Cold start of ``function_app``: with and without telemetry configured, and per detector.

Each case runs in a fresh interpreter and times, inside it, the import of ``function_app`` and
(where the case configures telemetry) ``telemetry.configure_telemetry()``, done before the import
as the Functions worker and ``python -m redaction serve`` do. The connection string points at a
closed local port, so nothing leaves the machine; exporting fails in the background only.

Then, in the same interpreter, the first request's set-up: ``runtime ms`` builds the runtime (as
the first request does) and ``embedded ms`` is what the first request that needs the embedded
detector waits for it on the Azure path (it is made on first use there; with the local detector
the runtime makes it). ``embedded at import`` says whether importing ``function_app`` loaded any of
it (``redaction.embedded``, phonenumbers, stdnum). ``PII_DETECTOR=azure`` points at a closed local
port: building the runtime makes no call.

    .venv/bin/python bench/coldstart.py [--runs 15] [--importtime]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONNECTION = (
    "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/"
)

PROBE = """
import asyncio, json, sys, time
EMBEDDED = ("redaction.embedded", "phonenumbers", "stdnum")
t0 = time.perf_counter()
from redaction import telemetry
mode = telemetry.configure_telemetry() if {configure} else None
t1 = time.perf_counter()
import function_app
t2 = time.perf_counter()
at_import = any(m.startswith(EMBEDDED) for m in sys.modules)

async def first_request():
    from redaction import runtime
    from redaction.deadline import Deadline
    started = time.perf_counter()
    state = runtime.get_runtime()
    built = time.perf_counter()
    if state.embedded is not None:
        await state.embedded.ready(Deadline.after(60))
    ready = time.perf_counter()
    await runtime.shutdown()
    return (built - started) * 1000, (ready - built) * 1000

runtime_ms, embedded_ms = asyncio.run(first_request())
print(json.dumps({{"mode": mode, "configure_ms": (t1 - t0) * 1000, "import_ms": (t2 - t1) * 1000,
    "runtime_ms": runtime_ms, "embedded_ms": embedded_ms, "embedded_at_import": at_import,
    "distro_loaded": "azure.monitor.opentelemetry" in sys.modules}}))
"""

AZURE = {
    "PII_DETECTOR": "azure",
    "LANGUAGE_ENDPOINT": "http://127.0.0.1:9",
    "LANGUAGE_API_KEY": "k",
}
CASES: dict[str, tuple[dict[str, str], bool]] = {
    "PII_DETECTOR=azure, telemetry off": (AZURE, True),
    "PII_DETECTOR=local, telemetry off": ({"PII_DETECTOR": "local"}, True),
    "no connection string (off)": ({}, True),
    "connection string set, not configured": (
        {"APPLICATIONINSIGHTS_CONNECTION_STRING": CONNECTION},
        False,
    ),
    "connection string set, configured (serve)": (
        {"APPLICATIONINSIGHTS_CONNECTION_STRING": CONNECTION},
        True,
    ),
}


def clean_environment() -> dict[str, str]:
    prefixes = ("APPLICATIONINSIGHTS_", "FUNCTIONS_", "PYTHON_APPLICATIONINSIGHTS_", "OTEL_")
    prefixes += ("PII_", "LANGUAGE_", "REDIS_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def run_once(env: dict[str, str], configure: bool) -> dict[str, float | str | bool | None]:
    started = _now()
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(configure=configure)],
        cwd=ROOT,
        env={**clean_environment(), **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    measured: dict[str, float | str | bool | None] = json.loads(result.stdout.splitlines()[-1])
    measured["process_ms"] = (_now() - started) * 1000
    return measured


def _now() -> float:
    import time

    return time.perf_counter()


def measure(runs: int) -> None:
    print(f"python {sys.version.split()[0]}, {runs} fresh interpreters per case; median (min)")
    titles = ["configure ms", "import ms", "runtime ms", "embedded ms", "process ms"]
    header = f"{'case':44} {'mode':14} " + " ".join(f"{t:>13}" for t in titles)
    print(f"{header} embedded at import")
    for name, (env, configure) in CASES.items():
        samples = [run_once(env, configure) for _ in range(runs)]
        cells = " ".join(f"{_cell([float(s[key] or 0) for s in samples]):>13}" for key in _KEYS)
        at_import = any(s["embedded_at_import"] for s in samples)
        print(f"{name:44} {samples[0]['mode']!s:14} {cells} {at_import}")
        assert all(s["distro_loaded"] == (s["mode"] == "azure-monitor") for s in samples)


_KEYS = ("configure_ms", "import_ms", "runtime_ms", "embedded_ms", "process_ms")


def _cell(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} ({min(values):.0f})"


def importtime(top: int = 15) -> None:
    """The slowest top-level packages (cumulative, where first imported) under
    ``import function_app``, from ``-X importtime``."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import function_app"],
        cwd=ROOT,
        env=clean_environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| \s*(\S+)", line)
        if match and "." not in match.group(2) and not match.group(2).startswith("_"):
            rows.append((int(match.group(1)), match.group(2)))
    print("\n-X importtime: slowest packages under import function_app (cumulative ms)")
    for micros, module in sorted(rows, reverse=True)[:top]:
        print(f"  {micros / 1000:8.1f}  {module}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--importtime", action="store_true", help="also list the slowest imports")
    args = parser.parse_args()
    measure(args.runs)
    if args.importtime:
        importtime()


if __name__ == "__main__":
    main()
