"""Added latency of one ``/redact`` by payload size: 1 to 15 batches vs one Language round trip.

Issue 6 asks that a request's batches go out together, so that a payload of up to 15 batches costs
about one Language round trip. This sends payloads of 1, 5, 10 and 15 batches of 5 documents
through the served function app against the emulator in its own process with a set latency,
cache off (every request reaches Language), and reports the p50/p95 ``/redact`` round trip
against one emulated Language call measured in the same run, in two shapes:

- ``short``: documents of ~300 characters with packing off (so each is its own document and the
  batches are really 1 to 15): the emulator's own detection work is negligible, so the ratio
  shows whether batches go out together;
- ``full``: documents of ~4,800 characters (packing cannot merge them): the emulator runs the
  embedded detector in one process, so its CPU work (~0.04 s per batch here) is serialised across
  concurrent batches, which a real Language service spreads over its own machines. The baseline
  for this shape is one direct emulator call with one full batch.

    .venv/bin/python bench/payloads.py [--latency-ms 50] [--requests 20]
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

from bench.conversations import (  # noqa: E402
    EMULATOR_KEY,
    direct_call_ms,
    emulator_process,
    percentile,
    round_trip_ms,
)

BATCHES = (1, 5, 10, 15)
SENTENCE = "The quarterly review covers logistics, staffing and the new depot. "


SIZES = {"short": 300, "full": 4800}


def payload(batches: int, salt: int, size: int) -> dict[str, Any]:
    """``batches`` x 5 messages of ~``size`` characters, one planted e-mail each."""
    filler = SENTENCE * (size // len(SENTENCE))
    messages = [
        {"role": "user", "content": f"{salt}-{index} mail p{index}@example.com. {filler}"}
        for index in range(batches * 5)
    ]
    return {"body": {"model": "gpt-4o", "messages": messages}}


async def measure(
    emulator_url: str, batches: int, requests: int, size: int
) -> tuple[list[float], float]:
    """Round trips in ms, and the median CPU ms this process (the service) spent per request."""
    from aiohttp.test_utils import TestClient, TestServer

    import function_app
    from redaction.http.server import build_app
    from redaction.settings import Settings

    settings = Settings(
        language_endpoint=emulator_url,
        language_api_key=EMULATOR_KEY,
        pii_cache_enabled=False,
        pii_packing_enabled=False,
    )
    times: list[float] = []
    cpu: list[float] = []
    async with TestClient(TestServer(build_app(function_app.app, settings))) as service:
        for number in range(requests + 1):
            started, cpu_started = time.perf_counter(), time.process_time()
            response = await service.post("/redact", json=payload(batches, number, size))
            answer = await response.json()
            elapsed = (time.perf_counter() - started) * 1000
            assert answer["status"] == "ok", answer.get("diagnostics")
            assert answer["diagnostics"]["batches"] == batches
            if number:  # the first request warms the runtime up
                times.append(elapsed)
                cpu.append((time.process_time() - cpu_started) * 1000)
    return times, statistics.median(cpu)


async def direct_batch_ms(emulator_url: str, size: int, samples: int = 20) -> float:
    """One emulator call with one batch of five ``size``-character documents, straight."""
    messages = payload(1, 0, size)["body"]["messages"]
    return await direct_call_ms(emulator_url, [m["content"] for m in messages], samples)


async def reset_stats(emulator_url: str) -> Any:
    """Clears the emulator's statistics (keeping its latency); returns a reader of the peak number
    of Language calls in flight since, which shows whether a request's batches went out together."""
    import aiohttp

    async with aiohttp.ClientSession(emulator_url) as emulator:
        config = await (await emulator.get("/_emulator/config")).json()
        await emulator.post("/_emulator/reset")
        await emulator.post("/_emulator/config", json={"latency_ms": config["latency_ms"]})

    async def peak() -> int:
        async with aiohttp.ClientSession(emulator_url) as emulator:
            stats = await (await emulator.get("/_emulator/stats")).json()
        return int(stats["max_in_flight"])

    return peak


async def main_async(args: argparse.Namespace) -> str:
    lines = []
    async with emulator_process() as url:
        reference = await round_trip_ms(url, args.latency_ms)
        lines.append(f"one emulated call, one 1,000-char document: {reference:.1f} ms")
        for shape, size in SIZES.items():
            one_call = await direct_batch_ms(url, size)
            lines.append(f"\n{shape} documents (~{size} chars): one direct call, one batch")
            lines[-1] += f" {one_call:.1f} ms"
            lines.append(
                f"{'batches':>7} {'docs':>5} {'p50 ms':>8} {'p95 ms':>8} {'p50 / one call':>15} "
                f"{'max in flight':>14} {'service CPU ms':>15}"
            )
            for batches in BATCHES:
                in_flight = await reset_stats(url)
                times, cpu_ms = await measure(url, batches, args.requests, size)
                p50 = statistics.median(times)
                lines.append(
                    f"{batches:>7} {batches * 5:>5} {p50:>8.1f} {percentile(times, 0.95):>8.1f} "
                    f"{p50 / one_call:>15.2f} {await in_flight():>14} {cpu_ms:>15.1f}"
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--requests", type=int, default=20)
    print(asyncio.run(main_async(parser.parse_args(argv))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
