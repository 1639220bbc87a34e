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

    .venv/bin/python bench/policy.py --cpu --checkout /tmp/wt-3a31444   # another commit's code

``--cpu`` times each pass in process CPU time (steadier than wall time on a shared machine);
``--checkout`` runs the code and corpus of another checkout (a ``git worktree`` of an older
commit, also one from before the feature folders of 229cf8b) with this script, so that commits
can be compared in one session.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LINES_PER_REQUEST = 20


# Where each name this bench drives lives: now, and before the feature folders (229cf8b).
_NAMES = {
    "Deadline": ("redaction.deadline", ""),
    "EmbeddedRecognizer": ("redaction.embedded", ""),
    "RedactConfig": ("redaction.models", ""),
    "RedactRequest": ("redaction.models", ""),
    "Limits": ("redaction.scanning", ""),
    "Scanner": ("redaction.scanning", ""),
    "RedactionService": ("redaction.service", ""),
    "EmbeddedDetector": ("redaction.detectors.local_detector", "redaction.local_detector"),
    "PolicyBook": ("redaction.policy.tenant", "redaction.policy"),
    "compile_policy": ("redaction.policy.tenant", "redaction.policy"),
}


def load(checkout: Path) -> SimpleNamespace:
    """What this bench drives, from the ``redaction`` package of ``checkout``."""
    sys.path.insert(0, str(checkout))
    names = {}
    for name, (module, before) in _NAMES.items():
        try:
            names[name] = getattr(importlib.import_module(module), name)
        except ModuleNotFoundError:
            names[name] = getattr(importlib.import_module(before), name)
    return SimpleNamespace(**names)


def corpus(checkout: Path) -> list[str]:
    paths = sorted((checkout / "tests" / "eval").glob("*.txt"))
    lines = [line for path in paths for line in path.read_text("utf-8").splitlines() if line]
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


def requests(m: SimpleNamespace, lines: list[str], config: dict[str, Any]) -> list[Any]:
    return [
        m.RedactRequest.model_validate(
            {
                "body": {"messages": [{"role": "user", "content": t} for t in lines[i : i + 20]]},
                "config": config,
            }
        )
        for i in range(0, len(lines), LINES_PER_REQUEST)
    ]


async def run(
    m: SimpleNamespace, service: Any, batch: list[Any], clock: Callable[[], float]
) -> float:
    started = clock()
    for request in batch:
        response = await service.redact(request, m.Deadline.after(60))
        assert response.status == "ok", response.diagnostics
    return clock() - started


async def main(repeats: int, checkout: Path, clock: Callable[[], float]) -> None:
    m = load(checkout)
    lines = corpus(checkout)
    characters = sum(len(line) for line in lines)
    fields = policy_fields()
    plain, with_policy = requests(m, lines, {}), requests(m, lines, fields)
    recognizer = m.EmbeddedRecognizer()
    scanner = m.Scanner(m.EmbeddedDetector(recognizer), m.Limits(), asyncio.Semaphore(32))
    warm = m.RedactionService(scanner, policies=m.PolicyBook())
    await run(m, warm, plain + with_policy, clock)
    times: dict[str, list[float]] = {"none": [], "policy": [], "policy, cold": []}
    compile_times: list[float] = []
    for _ in range(repeats):
        times["none"].append(await run(m, warm, plain, clock))
        times["policy"].append(await run(m, warm, with_policy, clock))
        started = clock()
        m.compile_policy(m.RedactConfig.model_validate(fields))
        compile_times.append(clock() - started)
        cold = m.RedactionService(scanner, policies=m.PolicyBook())
        times["policy, cold"].append(await run(m, cold, with_policy, clock))
    print(f"checkout: {checkout}; clock: {'CPU' if clock is time.process_time else 'wall'}")
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
    parser.add_argument("--cpu", action="store_true", help="time passes in process CPU time")
    parser.add_argument("--checkout", type=Path, default=ROOT, help="measure another checkout")
    args = parser.parse_args()
    clock = time.process_time if args.cpu else time.perf_counter
    asyncio.run(main(args.repeats, args.checkout.resolve(), clock))
