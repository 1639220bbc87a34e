"""Benchmark: what a tenant policy costs on the embedded detector's throughput.

    .venv/bin/python bench/policy.py [--repeats 7]

Runs ``RedactionService.redact`` in process (no HTTP, no detection cache) over the same corpus
(every line of tests/eval/*.txt as one user message, one request per 20 lines, with an employee
id planted in every tenth line) three ways in one run, interleaved per repeat:

- none: no policy;
- policy: 50 custom patterns (two with validators, five with context words) and a 1,000-entry
  allow list, with min_confidence and two category thresholds;
- policy, cold: the same policy, compiled again each repeat (what the first request pays).

Reports the median characters per second of each and the policy's slowdown (target: < 30%).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from redaction.deadline import Deadline  # noqa: E402
from redaction.detectors.local_detector import EmbeddedDetector  # noqa: E402
from redaction.embedded import EmbeddedRecognizer  # noqa: E402
from redaction.models import RedactConfig, RedactRequest  # noqa: E402
from redaction.policy.tenant import PolicyBook, compile_policy  # noqa: E402
from redaction.scanning import Limits, Scanner  # noqa: E402
from redaction.service import RedactionService  # noqa: E402

CORPUS = sorted((ROOT / "tests" / "eval").glob("*.txt"))
LINES_PER_REQUEST = 20


def corpus() -> list[str]:
    lines = [line for path in CORPUS for line in path.read_text("utf-8").splitlines() if line]
    return [f"{line} (EMP-{i:06d})" if i % 10 == 0 else line for i, line in enumerate(lines)]


def policy_fields() -> dict[str, Any]:
    patterns: list[dict[str, Any]] = [
        {"name": "employee", "pattern": r"\bEMP-\d{6}\b", "category": "EmployeeId"},
        {
            "name": "card",
            "pattern": r"\b\d{4}(?:[ -]?\d{4}){3}\b",
            "category": "Card",
            "validator": "luhn",
        },
        {
            "name": "iban",
            "pattern": r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}\b",
            "category": "Iban",
            "validator": "iban",
        },
    ]
    patterns += [
        {
            "name": f"cust{i}",
            "pattern": rf"\b\d{{{6 + i}}}\b",
            "category": "CustomerId",
            "context": ["customer", "cust no"],
        }
        for i in range(5)
    ]
    patterns += [
        {
            "name": f"ticket{i}",
            "pattern": rf"\b(?:T{i:02d}|TK{i:02d})-[A-Z]{{3}}\d{{5}}\b",
            "category": "TicketId",
        }
        for i in range(21)
    ]
    patterns += [
        {
            "name": f"account{i}",
            "pattern": rf"(?i)\bacct[-_ ]?{i:02d}[0-9a-f]{{8}}\b",
            "category": "AccountId",
            "score": 0.7,
        }
        for i in range(21)
    ]
    allow = [f"Product{i:04d}" for i in range(990)] + [
        "Contoso", "Fabrikam", "support@contoso.com", "Northwind", "Woodgrove",
        "Litware", "Tailspin", "Adatum", "Proseware", "Wingtip",
    ]  # fmt: skip
    assert len(patterns) == 50
    assert len(allow) == 1000
    return {
        "custom_patterns": patterns,
        "allow_list": allow,
        "allow_list_case_sensitive": False,
        "min_confidence": 0.5,
        "category_thresholds": {"PhoneNumber": 0.6, "EmployeeId": 0.5},
    }


def requests(lines: list[str], config: dict[str, Any]) -> list[RedactRequest]:
    return [
        RedactRequest.model_validate(
            {
                "body": {"messages": [{"role": "user", "content": t} for t in lines[i : i + 20]]},
                "config": config,
            }
        )
        for i in range(0, len(lines), LINES_PER_REQUEST)
    ]


async def run(service: RedactionService, batch: list[RedactRequest]) -> float:
    started = time.perf_counter()
    for request in batch:
        response = await service.redact(request, Deadline.after(60))
        assert response.status == "ok", response.diagnostics
    return time.perf_counter() - started


async def main(repeats: int) -> None:
    lines = corpus()
    characters = sum(len(line) for line in lines)
    fields = policy_fields()
    plain, with_policy = requests(lines, {}), requests(lines, fields)
    recognizer = EmbeddedRecognizer()
    scanner = Scanner(EmbeddedDetector(recognizer), Limits(), asyncio.Semaphore(32))
    warm = RedactionService(scanner, policies=PolicyBook())
    await run(warm, plain + with_policy)
    times: dict[str, list[float]] = {"none": [], "policy": [], "policy, cold": []}
    compile_times: list[float] = []
    for _ in range(repeats):
        times["none"].append(await run(warm, plain))
        times["policy"].append(await run(warm, with_policy))
        started = time.perf_counter()
        compile_policy(RedactConfig.model_validate(fields))
        compile_times.append(time.perf_counter() - started)
        cold = RedactionService(scanner, policies=PolicyBook())
        times["policy, cold"].append(await run(cold, with_policy))
    print(f"corpus: {len(lines)} texts, {characters} characters, {len(plain)} requests")
    print(f"policy: 50 custom patterns, 1,000 allow-list entries; compile {_ms(compile_times)}")
    base = statistics.median(times["none"])
    for name, samples in times.items():
        median = statistics.median(samples)
        slower = (median / base - 1) * 100
        print(
            f"{name:14} {characters / median / 1e6:6.2f} M chars/s  "
            f"median {median * 1000:7.1f} ms  {slower:+6.1f}% vs none"
        )


def _ms(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1000:.1f} ms"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    asyncio.run(main(parser.parse_args().repeats))
