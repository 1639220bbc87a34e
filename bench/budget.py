"""429s and throughput with and without the Language call budget, against a rate-limited emulator.

The emulator (in its own process) accepts at most ``--quota`` calls in any minute and answers 429
with Retry-After beyond it, as a Language resource does. The served function app gets the same
open-loop load in each configuration: ``--rate`` one-document requests a second (each a distinct
e-mail, cache off, so each is one Language call) for ``--seconds``; fail-open, so a request the
service could not scan is a 200 ``partial`` with its reason. Configurations:

- ``no budget``: the app before issue 15 (``PII_LANGUAGE_ADAPTIVE=false``, no rate): every
  request calls Language, 429s are retried after their Retry-After while the deadline allows.
- ``adaptive``: adaptive concurrency only (the default): a 429's Retry-After pauses new calls.
- ``rate + adaptive``: ``PII_LANGUAGE_RATE_PER_MINUTE=--budget`` as well: calls wait for a token
  inside the deadline and are refused (``rate-limited``) when none comes in time.

Reported per configuration: requests scanned in full, Language calls, 429s, calls per scanned
request, throughput (scanned requests per minute of the run, to the last answer), p50/p95 of the
scanned requests' round trip, and how the others ended.

    .venv/bin/python bench/budget.py [--quota 120] [--budget 115] [--rate 3] [--seconds 90]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.conversations import EMULATOR_KEY, emulator_process, percentile  # noqa: E402


@dataclass
class RunResult:
    scanned_ms: list[float] = field(default_factory=list)
    others: Counter[str] = field(default_factory=Counter)
    calls: int = 0
    throttled: int = 0
    seconds: float = 0.0


def configurations(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    return {
        "no budget": {"pii_language_adaptive": False},
        "adaptive": {},
        "rate + adaptive": {"pii_language_rate_per_minute": args.budget},
    }


def body(number: int) -> dict[str, Any]:
    text = f"Please write to customer{number}@example.com about order {number}."
    return {"messages": [{"role": "user", "content": text}]}


async def run_configuration(
    overrides: dict[str, Any], emulator_url: str, args: argparse.Namespace
) -> RunResult:
    import aiohttp
    from aiohttp.test_utils import TestClient, TestServer

    import function_app
    from redaction.http.server import build_app
    from redaction.settings import Settings

    settings = Settings(
        language_endpoint=emulator_url,
        language_api_key=EMULATOR_KEY,
        pii_cache_enabled=False,
        pii_deadline_s=args.deadline_s,
        **overrides,
    )
    result = RunResult()
    async with aiohttp.ClientSession(emulator_url) as emulator:
        await emulator.post("/_emulator/reset")
        config = {"rate_per_minute": args.quota, "latency_ms": args.latency_ms, "seed": 1}
        await emulator.post("/_emulator/config", json=config)
        service = TestClient(TestServer(build_app(function_app.app, settings)))
        await service.start_server()
        started = time.perf_counter()
        try:
            numbers = range(round(args.rate * args.seconds))
            await asyncio.gather(*(_request(service, n, started, args, result) for n in numbers))
        finally:
            result.seconds = time.perf_counter() - started
            await service.close()
        stats = await (await emulator.get("/_emulator/stats")).json()
    result.calls = stats["requests"]
    result.throttled = stats["statuses"].get("429", 0)
    return result


async def _request(
    service: Any, number: int, started: float, args: argparse.Namespace, result: RunResult
) -> None:
    """Request ``number``, sent at its place in the open-loop schedule."""
    await asyncio.sleep(max(0.0, started + number / args.rate - time.perf_counter()))
    sent = time.perf_counter()
    response = await service.post("/redact", json={"body": body(number)})
    answer = await response.json()
    if answer.get("status") == "ok":
        result.scanned_ms.append((time.perf_counter() - sent) * 1000)
    else:
        result.others[answer["diagnostics"]["failure_reason"] or answer["status"]] += 1


def report(results: dict[str, RunResult], args: argparse.Namespace) -> str:
    offered = round(args.rate * args.seconds)
    lines = [
        f"Emulator quota {args.quota} calls/min (429 + Retry-After beyond), latency "
        f"{args.latency_ms:g} ms; offered {offered} one-call requests at {args.rate:g}/s "
        f"({args.rate * 60:g}/min) for {args.seconds:g} s, open loop, fail-open, deadline "
        f"{args.deadline_s:g} s; budget {args.budget}/min",
        "",
        "| configuration | scanned | Language calls | 429s | calls per scanned | scanned/min "
        "| p50 ms | p95 ms | the others ended |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in results.items():
        scanned = len(r.scanned_ms)
        per_minute = scanned / r.seconds * 60
        others = ", ".join(f"{reason} {count}" for reason, count in r.others.most_common())
        lines.append(
            f"| {name} | {scanned} | {r.calls} | {r.throttled} | "
            f"{r.calls / max(scanned, 1):.2f} | {per_minute:.1f} | "
            f"{percentile(r.scanned_ms, 0.5):.0f} | {percentile(r.scanned_ms, 0.95):.0f} | "
            f"{others or '-'} |"
        )
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> str:
    async with emulator_process() as url:
        results = {
            name: await run_configuration(overrides, url, args)
            for name, overrides in configurations(args).items()
        }
    return report(results, args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quota", type=int, default=120, help="emulator calls per minute")
    parser.add_argument("--budget", type=int, default=115, help="PII_LANGUAGE_RATE_PER_MINUTE")
    parser.add_argument("--rate", type=float, default=3.0, help="offered requests per second")
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--deadline-s", type=float, default=85.0)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    print(asyncio.run(main_async(parser.parse_args(argv))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
