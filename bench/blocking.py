"""``/health`` latency while a 375 KB digit-heavy ``/redact`` is scanned by the embedded detector.

Serves a source tree with ``python -m redaction serve`` in its own process (``--source``, default
this checkout; point it at an extracted older commit to measure before/after), then:

1. idle: ``--probes`` sequential ``GET /health``;
2. ``--rounds`` times: one ``/redact`` of 15 messages of ~24,900 characters of phone numbers
   (75 documents of 5,000, 15 full batches), while ``GET /health`` is sent back to back (10 ms
   apart) and one small ``/redact`` goes out 100 ms after the big one.

Reports the health latency (idle and during the big request), the small request's latency, and
the big request's duration and outcome. Latency is the client's round trip.

    git archive <commit> | tar -x -C /tmp/pii-before     # the tree to compare with
    .venv/bin/python bench/blocking.py --source /tmp/pii-before
    .venv/bin/python bench/blocking.py [--workers 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = 15
MESSAGE_CHARS = 24_900  # 5 documents of at most 5,000 characters each: 75 documents in all
SMALL_BODY = {"messages": [{"role": "user", "content": "Call me at +1 415 555 0132, Bob."}]}


@dataclass
class Round:
    health_ms: list[float] = field(default_factory=list)
    health_at_ms: list[float] = field(default_factory=list)  # when each probe was sent
    small_ms: float = 0.0
    big_ms: float = 0.0
    big_status: str = ""


def phone_text(rng: random.Random, chars: int) -> str:
    """Digit-heavy text: US phone numbers, the embedded detector's most expensive input."""
    numbers: list[str] = []
    length = 0
    while length < chars:
        number = f"+1 {rng.randint(201, 989)} {rng.randint(200, 999)} {rng.randint(0, 9999):04d}"
        numbers.append(number)
        length += len(number) + 1
    return " ".join(numbers)[:chars]


def big_request(seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    texts = [phone_text(rng, MESSAGE_CHARS) for _ in range(MESSAGES)]
    return {"body": {"messages": [{"role": "user", "content": text} for text in texts]}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(source: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PII_", "LANGUAGE_"))}
    env.update({"PII_DETECTOR": "local", "PYTHONPATH": str(source)})
    env["PII_CPU_WORKERS"] = str(workers)  # a tree without the worker pool ignores it
    command = [sys.executable, "-m", "redaction", "serve", "--port", str(port)]
    return subprocess.Popen(command, cwd=source, env=env, stderr=subprocess.DEVNULL)


async def wait_ready(session: aiohttp.ClientSession, url: str) -> None:
    for _ in range(300):
        try:
            async with session.get(f"{url}/health") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the server did not start")


async def timed_get(session: aiohttp.ClientSession, url: str) -> float:
    started = time.perf_counter()
    async with session.get(url) as response:
        await response.read()
    return (time.perf_counter() - started) * 1000


async def timed_post(
    session: aiohttp.ClientSession, url: str, payload: dict[str, Any]
) -> tuple[float, str]:
    started = time.perf_counter()
    async with session.post(url, json=payload) as response:
        result = await response.json()
        outcome = f"{response.status} {result.get('status')}"
    return (time.perf_counter() - started) * 1000, outcome


async def one_round(session: aiohttp.ClientSession, url: str, seed: int) -> Round:
    result = Round()
    started = time.perf_counter()
    big = asyncio.create_task(timed_post(session, f"{url}/redact", big_request(seed)))
    await asyncio.sleep(0.1)
    small = asyncio.create_task(timed_post(session, f"{url}/redact", {"body": SMALL_BODY}))
    while not big.done():
        result.health_at_ms.append((time.perf_counter() - started) * 1000)
        result.health_ms.append(await timed_get(session, f"{url}/health"))
        await asyncio.sleep(0.01)
    result.big_ms, result.big_status = await big
    result.small_ms, _ = await small
    return result


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def measure(args: argparse.Namespace, source: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(source, port, args.workers)
    timeout = aiohttp.ClientTimeout(total=300)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            await wait_ready(session, url)
            await timed_post(session, f"{url}/redact", {"body": SMALL_BODY})  # warm-up
            idle = [await timed_get(session, f"{url}/health") for _ in range(args.probes)]
            rounds = [await one_round(session, url, seed) for seed in range(args.rounds)]
    finally:
        server.terminate()
        server.wait()
    report(args, idle, rounds)


def report(args: argparse.Namespace, idle: list[float], rounds: list[Round]) -> None:
    busy = [ms for r in rounds for ms in r.health_ms]
    print(f"source: {args.source} (PII_CPU_WORKERS={args.workers})")
    print(f"idle /health: n={len(idle)} p50 {percentile(idle, 0.5):.1f} ms max {max(idle):.1f}")
    print(
        f"/health during the big /redact: n={len(busy)} p50 {percentile(busy, 0.5):.1f} ms "
        f"p99 {percentile(busy, 0.99):.1f} max {max(busy):.1f}"
    )
    for index, r in enumerate(rounds):
        worst = max(range(len(r.health_ms)), key=r.health_ms.__getitem__)
        print(
            f"round {index}: big /redact {r.big_ms:.0f} ms ({r.big_status}), "
            f"small /redact {r.small_ms:.0f} ms, /health n={len(r.health_ms)} "
            f"max {r.health_ms[worst]:.1f} ms (sent at {r.health_at_ms[worst]:.0f} ms)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", default=str(ROOT), help="source tree to serve")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--probes", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="PII_CPU_WORKERS")
    args = parser.parse_args()
    asyncio.run(measure(args, Path(args.source).resolve()))


if __name__ == "__main__":
    main()
