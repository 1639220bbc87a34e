"""Tail latency with and without hedging (``PII_HEDGE_ENABLED``), side by side in one run.

Replays the synthetic 20-turn conversations of ``bench/conversations.py`` (``--parallel`` of them
at a time, turns in order) through the served function app against the Language emulator in its
own process, with a jittered per-call latency and occasional slow calls: hang faults on a random
``--slow-share`` of the Language calls (a call that answers only after ``--slow-ms``). The two
configurations see the same conversations, the same emulator seed and the same slow-call
positions; everything else is the default settings (cache and packing on).

Reports per configuration the ``/redact`` round trip p50/p95/p99/max, Language calls, the hedges
the service reported, extra calls (hedges per call that was not a hedge), and the requests that
took at least half of ``--slow-ms`` (the slow calls no hedge rescued).

    .venv/bin/python bench/hedging.py [--conversations 40] [--latency-ms 50] [--jitter-ms 40]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.conversations import (  # noqa: E402
    EMULATOR_KEY,
    conversation,
    emulator_process,
    percentile,
)

CONFIGURATIONS: dict[str, dict[str, Any]] = {
    "hedging off": {"pii_hedge_enabled": False},
    "hedging on": {"pii_hedge_enabled": True},
}
CALL_POSITIONS = 20_000  # slow-call positions are drawn among the first calls of a run


@dataclass
class RunResult:
    latency_ms: list[float] = field(default_factory=list)
    calls: int = 0
    hedges: int = 0
    slow_calls: int = 0


def slow_faults(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Hang faults at random call positions (``after`` = calls to let through first)."""
    rng = random.Random(args.seed)
    positions = rng.sample(range(CALL_POSITIONS), round(CALL_POSITIONS * args.slow_share))
    seconds = args.slow_ms / 1000
    return [{"kind": "hang", "seconds": seconds, "after": p} for p in sorted(positions)]


async def run_configuration(
    overrides: dict[str, Any], emulator_url: str, args: argparse.Namespace
) -> RunResult:
    """All conversations through one freshly built served app, ``--parallel`` at a time."""
    import aiohttp
    from aiohttp.test_utils import TestClient, TestServer

    import function_app
    from redaction.http.server import build_app
    from redaction.settings import Settings

    settings = Settings(language_endpoint=emulator_url, language_api_key=EMULATOR_KEY, **overrides)
    result = RunResult()
    async with aiohttp.ClientSession(emulator_url) as emulator:
        await emulator.post("/_emulator/reset")
        config = {"latency_ms": args.latency_ms, "latency_jitter_ms": args.jitter_ms}
        await emulator.post("/_emulator/config", json={**config, "seed": args.seed})
        faults = slow_faults(args)
        await emulator.post("/_emulator/faults", json={"faults": faults})
        service = TestClient(TestServer(build_app(function_app.app, settings)))
        await service.start_server()
        gate = asyncio.Semaphore(args.parallel)
        try:
            await asyncio.gather(
                *(_replay(service, seed, gate, result) for seed in range(args.conversations))
            )
        finally:
            await service.close()
        stats = await (await emulator.get("/_emulator/stats")).json()
        pending = await (await emulator.get("/_emulator/faults")).json()
    result.calls = stats["requests"]
    result.slow_calls = len(faults) - len(pending["faults"])
    return result


async def _replay(service: Any, seed: int, gate: asyncio.Semaphore, result: RunResult) -> None:
    async with gate:
        for messages in conversation(seed):
            started = time.perf_counter()
            response = await service.post("/redact", json={"body": {"messages": messages}})
            answer = await response.json()
            result.latency_ms.append((time.perf_counter() - started) * 1000)
            if answer.get("status") != "ok":
                raise RuntimeError(f"redaction failed: {answer.get('error')}")
            result.hedges += answer["diagnostics"]["hedges"]


def report(results: dict[str, RunResult], args: argparse.Namespace) -> str:
    lines = [
        f"{args.conversations} conversations x 20 turns ({args.parallel} at a time), emulator "
        f"latency {args.latency_ms:g} ms +/- {args.jitter_ms:g} ms, {args.slow_share:.0%} of "
        f"calls slow ({args.slow_ms:g} ms), seed {args.seed}",
        "",
        "| configuration | requests | p50 ms | p95 ms | p99 ms | max ms | Language calls "
        "| slow calls | slow requests | hedges | extra calls |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        ms = r.latency_ms
        extra = r.hedges / max(r.calls - r.hedges, 1)  # duplicates per first call
        slow = sum(1 for value in ms if value >= args.slow_ms / 2)
        lines.append(
            f"| {name} | {len(ms)} | {percentile(ms, 0.5):.1f} | {percentile(ms, 0.95):.1f} | "
            f"{percentile(ms, 0.99):.1f} | {max(ms):.1f} | {r.calls} | {r.slow_calls} | {slow} | "
            f"{r.hedges} | {extra:+.1%} |"
        )
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> str:
    async with emulator_process() as url:
        results = {
            name: await run_configuration(overrides, url, args)
            for name, overrides in CONFIGURATIONS.items()
        }
    return report(results, args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--jitter-ms", type=float, default=40.0)
    parser.add_argument("--slow-share", type=float, default=0.02)
    parser.add_argument("--slow-ms", type=float, default=1000.0)
    parser.add_argument("--seed", type=int, default=1)
    print(asyncio.run(main_async(parser.parse_args(argv))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
