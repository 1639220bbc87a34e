"""Load test: N concurrent clients against ``python -m redaction serve`` backed by the emulator.

Both run as subprocesses on 127.0.0.1 (nothing else is ever targeted). The emulator answers with a
set latency and throttles a share of calls with 429 + Retry-After; the detection cache is off by
default so every request reaches Language. Reports throughput, p50/p95/p99 latency, errors, the
peak number of Language calls in flight (which must never exceed PII_INSTANCE_CONCURRENCY), and
the server's RSS and open file descriptors over time (flat after warm-up: no leaks).

    .venv/bin/python bench/load.py --clients 64 --duration 60
    .venv/bin/python bench/load.py --clients 64 --duration 60 --audit   # audit trail on (Azurite)

The loop is bounded by ``--duration`` and ``--max-requests``; exit status 1 if any check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psutil

# Azurite's published development account (make azurite): the same on every machine.
AZURITE = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJ"
    "PLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
    "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
)

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
EMULATOR_KEY = "emulator-key"
NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    partial: int = 0

    def add(self, seconds: float, outcome: str) -> None:
        self.latencies.append(seconds)
        self.statuses[outcome] = self.statuses.get(outcome, 0) + 1
        if outcome.startswith("partial"):
            self.partial += 1
        elif outcome != "ok":
            self.errors += 1


@dataclass
class Samples:
    rss: list[tuple[float, int]] = field(default_factory=list)
    fds: list[tuple[float, int]] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port


def start(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "redaction", *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def wait_ready(session: aiohttp.ClientSession, url: str) -> None:
    for _ in range(300):
        try:
            async with session.get(url) as response:
                if response.status < 500:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


def chat_body(rng: random.Random, number: int) -> dict[str, Any]:
    """A realistic chat request with a few PII-bearing turns; unique so no two are alike."""
    name = rng.choice(NAMES)
    turns = [
        {"role": "system", "content": "You are a helpful support assistant."},
        {
            "role": "user",
            "content": f"Hi, I'm {name} (ticket {number}). Reach me at {name}{number}@example.com "
            f"or +1 206 555 {rng.randint(1000, 9999)}. My card 4111 1111 1111 1111 was charged "
            "twice last week, can you check?",
        },
        {"role": "assistant", "content": f"Sorry to hear that, {name}. Which order was it?"},
        {
            "role": "user",
            "content": f"Order {rng.randint(10**6, 10**7)} from 10.0.{number % 255}.7",
        },
    ]
    return {"body": {"model": "gpt-4o", "messages": turns}}


async def client(
    session: aiohttp.ClientSession, url: str, stop_at: float, budget: list[int], tally: Tally
) -> None:
    rng = random.Random()
    while time.monotonic() < stop_at and budget[0] > 0:
        budget[0] -= 1
        payload = chat_body(rng, budget[0])
        started = time.monotonic()
        try:
            async with session.post(url, json=payload) as response:
                result = await response.json()
                outcome = (
                    result.get("status", "?") if response.status == 200 else str(response.status)
                )
                if outcome == "partial":  # keep the reason: a partial is worth explaining
                    outcome = f"partial: {result['diagnostics'].get('failure_reason')}"
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            outcome = type(error).__name__
        tally.add(time.monotonic() - started, outcome)


async def sample(process: psutil.Process, stop: asyncio.Event, samples: Samples) -> None:
    started = time.monotonic()
    while not stop.is_set():
        elapsed = time.monotonic() - started
        samples.rss.append((elapsed, process.memory_info().rss))
        samples.fds.append((elapsed, process.num_fds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def after_warmup(series: list[tuple[float, int]], warmup: float) -> list[int]:
    return [value for at, value in series if at >= warmup] or [series[-1][1]]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    emulator_port, serve_port = free_port(), free_port()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("PII_", "LANGUAGE_"))}
    emulator = start(["emulator", "--host", HOST, "--port", str(emulator_port)], base_env)
    serve_env = {
        **base_env,
        "LANGUAGE_ENDPOINT": f"http://{HOST}:{emulator_port}",
        "LANGUAGE_API_KEY": EMULATOR_KEY,
        "PII_INSTANCE_CONCURRENCY": str(args.instance_concurrency),
        "PII_CACHE_ENABLED": "true" if args.cache else "false",
        "REDACTION_API_KEY": "",
        "REDACTION_RESTORE_API_KEY": "",
        "APPLICATIONINSIGHTS_CONNECTION_STRING": "",
        **audit_env(args),
    }
    server = start(["serve", "--host", HOST, "--port", str(serve_port)], serve_env)
    emulator_url, serve_url = f"http://{HOST}:{emulator_port}", f"http://{HOST}:{serve_port}"
    connector = aiohttp.TCPConnector(limit=args.clients)
    timeout = aiohttp.ClientTimeout(total=120)
    try:
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            await wait_ready(session, f"{emulator_url}/_emulator/stats")
            await wait_ready(session, f"{serve_url}/health")
            config = {
                "latency_ms": args.latency_ms,
                "throttle_rate": args.throttle_rate,
                "retry_after": args.retry_after,
                "seed": 7,
            }
            async with session.post(f"{emulator_url}/_emulator/config", json=config) as response:
                response.raise_for_status()
            process = psutil.Process(server.pid)
            tally, samples, stop = Tally(), Samples(), asyncio.Event()
            sampler = asyncio.create_task(sample(process, stop, samples))
            started = time.monotonic()
            budget = [args.max_requests]
            stop_at = started + args.duration
            await asyncio.gather(
                *(
                    client(session, f"{serve_url}/redact", stop_at, budget, tally)
                    for _ in range(args.clients)
                )
            )
            elapsed = time.monotonic() - started
            stop.set()
            await sampler
            async with session.get(f"{emulator_url}/_emulator/stats") as response:
                stats = await response.json()
            async with session.get(f"{serve_url}/health") as response:
                stats["audit"] = (await response.json()).get("audit")
            alive = server.poll() is None
    finally:
        for process_handle in (server, emulator):
            process_handle.terminate()
            process_handle.wait(timeout=10)
    return report(args, tally, samples, stats, elapsed, alive)


def audit_env(args: argparse.Namespace) -> dict[str, str]:
    """The audit trail's settings with --audit: a new container per run on Azurite."""
    if not args.audit:
        return {}
    return {
        "PII_AUDIT_CONNECTION_STRING": args.audit_connection_string,
        "PII_AUDIT_CONTAINER": f"bench-{os.getpid()}-{int(time.time())}",
        "PII_AUDIT_HMAC_KEY": "YmVuY2gtYXVkaXQta2V5LWJlbmNoLWF1ZGl0LWtleS0=",
        "PII_AUDIT_REQUIRED": "true" if args.audit_required else "false",
    }


def report(
    args: argparse.Namespace,
    tally: Tally,
    samples: Samples,
    stats: dict[str, Any],
    elapsed: float,
    alive: bool,
) -> dict[str, Any]:
    warm_rss = after_warmup(samples.rss, args.warmup)
    warm_fds = after_warmup(samples.fds, args.warmup)
    mib = 1024 * 1024
    return {
        "clients": args.clients,
        "duration_s": round(elapsed, 1),
        "requests": len(tally.latencies),
        "throughput_rps": round(len(tally.latencies) / elapsed, 1),
        "latency_ms": {
            "p50": round(percentile(tally.latencies, 0.50) * 1000, 1),
            "p95": round(percentile(tally.latencies, 0.95) * 1000, 1),
            "p99": round(percentile(tally.latencies, 0.99) * 1000, 1),
            "mean": round(statistics.fmean(tally.latencies) * 1000, 1) if tally.latencies else 0,
        },
        "outcomes": tally.statuses,
        "errors": tally.errors,
        "partial": tally.partial,
        "language_calls": stats["requests"],
        "language_statuses": stats["statuses"],
        "peak_language_in_flight": stats["max_in_flight"],
        "instance_concurrency": args.instance_concurrency,
        "rss_mib": {
            "peak": round(max(v for _, v in samples.rss) / mib, 1),
            "after_warmup_first": round(warm_rss[0] / mib, 1),
            "after_warmup_last": round(warm_rss[-1] / mib, 1),
            "after_warmup_max": round(max(warm_rss) / mib, 1),
        },
        "open_fds": {"after_warmup_first": warm_fds[0], "last": warm_fds[-1]},
        "server_alive": alive,
        "audit": stats.get("audit"),
    }


def failures(result: dict[str, Any], rss_growth_mib: float) -> list[str]:
    problems = []
    if result["errors"]:
        problems.append(f"{result['errors']} errors")
    if result["peak_language_in_flight"] > result["instance_concurrency"]:
        problems.append("Language calls in flight exceeded PII_INSTANCE_CONCURRENCY")
    rss = result["rss_mib"]
    if rss["after_warmup_last"] - rss["after_warmup_first"] > rss_growth_mib:
        problems.append(f"RSS grew by more than {rss_growth_mib} MiB after warm-up")
    fds = result["open_fds"]
    if fds["last"] > fds["after_warmup_first"] + 16:
        problems.append("open file descriptors grew after warm-up")
    if not result["server_alive"]:
        problems.append("the server died")
    if result["audit"] is not None and result["audit"]["dropped"]:
        problems.append(f"{result['audit']['dropped']} audit records dropped")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds before RSS counts")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="emulator latency")
    parser.add_argument("--throttle-rate", type=float, default=0.05, help="share of 429s")
    parser.add_argument("--retry-after", default="0.2", help="Retry-After of the 429s")
    parser.add_argument("--instance-concurrency", type=int, default=32)
    parser.add_argument("--rss-growth-mib", type=float, default=32.0)
    parser.add_argument("--cache", action="store_true", help="keep the detection cache on")
    parser.add_argument("--audit", action="store_true", help="audit trail on (make azurite)")
    parser.add_argument("--audit-required", action="store_true", help="PII_AUDIT_REQUIRED=true")
    parser.add_argument("--audit-connection-string", default=AZURITE)
    args = parser.parse_args()
    result = asyncio.run(run(args))
    print(json.dumps(result, indent=2))
    problems = failures(result, args.rss_growth_mib)
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
