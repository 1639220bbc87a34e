"""Cost and latency of multi-turn chats: the detection cache and document packing vs the baseline.

Replays synthetic 20-turn conversations (short replies, long tool outputs, planted personal data)
through the served function app (``redaction.http.server.build_app``) against the Language emulator
with a set per-call latency. Chat clients resend the whole conversation every turn, so each
request holds every earlier message. Four configurations run side by side in one process:

- baseline: one document per message chunk, no cache, no packing (the design this replaces)
- packing: packing only
- cache: cache only
- both: cache and packing (the defaults)

Per turn and in total it reports Language calls and documents (from the emulator's statistics),
billed text records (sum over documents of ceil(chars / 1000)) and p50/p95 added latency (the
client's round trip to ``/redact``). Then it fills the in-process cache from 10,000 conversations
and reports the entries, the accounted bytes and the memory tracemalloc measures.

    .venv/bin/python bench/conversations.py [--conversations 10] [--latency-ms 50]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import socket
import statistics
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TURNS = 20
EMULATOR_KEY = "emulator-key"
CONFIGURATIONS: dict[str, dict[str, Any]] = {
    "baseline": {"pii_cache_enabled": False, "pii_packing_enabled": False},
    "packing": {"pii_cache_enabled": False, "pii_packing_enabled": True},
    "cache": {"pii_cache_enabled": True, "pii_packing_enabled": False},
    "both": {"pii_cache_enabled": True, "pii_packing_enabled": True},
}

_FIRST = ["Alice", "Bob", "Chen", "Dana", "Emeka", "Fatima", "Grace", "Hiro", "Ines", "Jonas"]
_LAST = ["Smith", "Okafor", "Garcia", "Nguyen", "Muller", "Rossi", "Kowalski", "Tanaka"]
_PHONES = ["+1 206-555-0143", "+44 20 7946 0958", "(425) 882-8080", "+1 312-555-0199"]
_CARDS = ["4111 1111 1111 1111", "5500 0000 0000 0004", "3400 0000 0000 009"]
_IBANS = ["GB82 WEST 1234 5698 7654 32", "DE89 3704 0044 0532 0130 00"]
_SHORT = ["ok", "thanks!", "Yes, go ahead.", "no", "Perfect, thank you.", "Can you do that?"]
_ASKS = [
    "Can you look up the account for {name}? Their email is {email}.",
    "Please update the phone number to {phone} for this customer.",
    "The customer said their card {card} was charged twice last week.",
    "Refund to IBAN {iban}, please, and confirm by mail to {email}.",
    "Summarise the last three tickets for me.",
    "What does the shipping policy say about returns after 30 days?",
    "Draft a polite reply explaining the delay.",
    "Login attempts came from {ip}; is that one of ours?",
]
_FILLER = (
    "The order was shipped from the central warehouse and handed to the carrier on time. "
    "According to the policy, refunds are processed within five business days once the "
    "returned item has been inspected. Loyalty points are credited after the return window. "
)


@dataclass
class Person:
    name: str
    email: str
    phone: str


def _person(rng: random.Random) -> Person:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    email = f"{first.lower()}.{last.lower()}{rng.randint(1, 999)}@example.com"
    return Person(f"{first} {last}", email, rng.choice(_PHONES))


def _ask(rng: random.Random, person: Person) -> str:
    if rng.random() < 0.25:
        return rng.choice(_SHORT)
    return rng.choice(_ASKS).format(
        name=person.name,
        email=person.email,
        phone=person.phone,
        card=rng.choice(_CARDS),
        iban=rng.choice(_IBANS),
        ip=f"203.0.113.{rng.randint(1, 254)}",
    )


def _reply(rng: random.Random, person: Person) -> str:
    if rng.random() < 0.3:
        return rng.choice(["Done.", "Sure, one moment.", "Updated."])
    sentences = rng.randint(2, 12)
    text = " ".join(_FILLER.split(". ")[i % 3] + "." for i in range(sentences))
    return f"I checked with {person.name} ({person.email}). {text}"


def _tool_output(rng: random.Random) -> str:
    rows = [
        {
            "customer": (p := _person(rng)).name,
            "email": p.email,
            "phone": p.phone,
            "note": _FILLER[: rng.randint(40, len(_FILLER))],
            "last_login_ip": f"198.51.100.{rng.randint(1, 254)}",
        }
        for _ in range(rng.randint(4, 30))
    ]
    return json.dumps({"results": rows}, indent=1)


def conversation(seed: int, turns: int = TURNS) -> list[list[dict[str, Any]]]:
    """The message lists a chat client sends on each turn (each holds all earlier messages)."""
    rng = random.Random(seed)
    person = _person(rng)
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You are a support agent for Contoso. " + _FILLER}
    ]
    requests: list[list[dict[str, Any]]] = []
    for turn in range(turns):
        messages.append({"role": "user", "content": _ask(rng, person)})
        requests.append(list(messages))
        if rng.random() < 0.3:
            call = {"id": f"call_{turn}", "type": "function"}
            arguments = json.dumps({"query": person.email, "limit": rng.randint(5, 30)})
            call["function"] = {"name": "search_crm", "arguments": arguments}  # type: ignore[assignment]
            messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
            messages.append(
                {"role": "tool", "tool_call_id": f"call_{turn}", "content": _tool_output(rng)}
            )
        messages.append({"role": "assistant", "content": _reply(rng, person)})
    return requests


def conversation_texts(seed: int, turns: int = TURNS) -> list[str]:
    """Every message text of one conversation, in order (for the memory run)."""
    final = conversation(seed, turns)[-1]
    return [m["content"] for m in final if isinstance(m.get("content"), str)]


@dataclass
class TurnStats:
    calls: list[int] = field(default_factory=list)
    documents: list[int] = field(default_factory=list)
    records: list[int] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)


@dataclass
class RunResult:
    turns: list[TurnStats]
    masked: list[list[dict[str, Any]]]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def run_configuration(
    overrides: dict[str, Any], seeds: list[int], emulator_url: str, latency_ms: float
) -> RunResult:
    """All conversations, turn by turn, through one freshly built served app."""
    import aiohttp
    from aiohttp.test_utils import TestClient, TestServer

    import function_app
    from redaction.http.server import build_app
    from redaction.settings import Settings

    settings = Settings(language_endpoint=emulator_url, language_api_key=EMULATOR_KEY, **overrides)
    result = RunResult([TurnStats() for _ in range(TURNS)], [])
    async with aiohttp.ClientSession(emulator_url) as emulator:
        await emulator.post("/_emulator/reset")
        await emulator.post("/_emulator/config", json={"latency_ms": latency_ms})
        service = TestClient(TestServer(build_app(function_app.app, settings)))
        await service.start_server()
        try:
            for seed in seeds:
                for turn, messages in enumerate(conversation(seed)):
                    masked = await _one_turn(service, emulator, messages, result.turns[turn])
                    result.masked.append(masked)
        finally:
            await service.close()
    return result


async def _one_turn(
    service: Any, emulator: Any, messages: list[dict[str, Any]], stats: TurnStats
) -> list[dict[str, Any]]:
    before = await (await emulator.get("/_emulator/stats")).json()
    started = time.perf_counter()
    response = await service.post("/redact", json={"body": {"messages": messages}})
    elapsed = (time.perf_counter() - started) * 1000
    answer = await response.json()
    after = await (await emulator.get("/_emulator/stats")).json()
    if answer.get("status") != "ok":
        raise RuntimeError(f"redaction failed: {answer.get('error')}")
    stats.calls.append(after["requests"] - before["requests"])
    stats.documents.append(after["documents"] - before["documents"])
    stats.records.append(answer["diagnostics"]["billed_records"])
    stats.latency_ms.append(elapsed)
    masked: list[dict[str, Any]] = answer["redacted_body"]["messages"]
    return masked


@asynccontextmanager
async def emulator_process() -> AsyncIterator[str]:
    """``python -m redaction emulator`` in its own process, as Language is a remote service."""
    import aiohttp

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "redaction",
        "emulator",
        "--port",
        str(port),
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession(url) as session:
            for _ in range(200):
                try:
                    await session.get("/_emulator/stats")
                    break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
        yield url
    finally:
        process.terminate()
        await process.wait()


async def round_trip_ms(emulator_url: str, latency_ms: float, samples: int = 30) -> float:
    """The median time of one emulated Language call with one typical document (a 1,000-char
    message), measured straight against the emulator."""
    import aiohttp

    async with aiohttp.ClientSession(emulator_url) as emulator:
        await emulator.post("/_emulator/config", json={"latency_ms": latency_ms})
    text = ("Reach me at jane.doe@example.com. " + _FILLER * 4)[:1000]
    return await direct_call_ms(emulator_url, [text], samples)


async def direct_call_ms(emulator_url: str, texts: list[str], samples: int = 30) -> float:
    """The median time of one emulator call carrying ``texts`` as its documents, sent straight."""
    import aiohttp

    documents = [{"id": str(i), "language": "en", "text": t} for i, t in enumerate(texts)]
    body = {"kind": "PiiEntityRecognition", "analysisInput": {"documents": documents}}
    times = []
    async with aiohttp.ClientSession(emulator_url) as emulator:
        for _ in range(samples):
            started = time.perf_counter()
            async with emulator.post(
                "/language/:analyze-text",
                params={"api-version": "2024-11-01"},
                json=body,
                headers={"Ocp-Apim-Subscription-Key": EMULATOR_KEY},
            ) as response:
                await response.read()
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def memory_run(conversations: int, max_entries: int, max_bytes: int) -> dict[str, float]:
    """Fills a cache turn by turn from ``conversations`` chats; reports its bound and footprint."""
    from redaction.cache.detection import CacheScope, DetectionCache, MemoryCache
    from redaction.entities import Entity

    rng = random.Random(7)
    scope = CacheScope("tenant", "azure", "2024-11-01", "en", "")
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    cache = DetectionCache(b"bench-secret", MemoryCache(max_entries, max_bytes, 3600.0))
    lookups = hits = 0
    peak_entries = peak_bytes = 0
    for seed in range(conversations):
        keys = [cache.key(scope, text) for text in _memory_texts(seed)]
        for turn in range(1, len(keys) + 1):
            wanted = {key: 10_000 for key in keys[:turn]}
            found = await cache.lookup(wanted)
            lookups += len(wanted)
            hits += len(found)
            fresh = [k for k in wanted if k not in found]
            cache.store({k: _entities(rng, Entity) for k in fresh})
            peak_entries = max(peak_entries, len(cache.memory))
            peak_bytes = max(peak_bytes, cache.memory.size_bytes)
        del keys
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return {
        "conversations": conversations,
        "max_entries": max_entries,
        "max_bytes": max_bytes,
        "entries": len(cache.memory),
        "peak_entries": peak_entries,
        "accounted_bytes": cache.memory.size_bytes,
        "peak_accounted_bytes": peak_bytes,
        "measured_bytes": held,
        "hit_rate": hits / lookups if lookups else 0.0,
    }


def _memory_texts(seed: int) -> Iterator[str]:
    """Stand-ins for one conversation's ~30 message chunks (distinct per conversation)."""
    for index in range(30):
        yield f"conversation {seed} message {index} " + "x" * (index * 37 % 400)


def _entities(rng: random.Random, entity: Any) -> list[Any]:
    return [
        entity(rng.randint(0, 200), rng.randint(5, 30), "Email", 0.8)
        for _ in range(rng.randint(0, 3))
    ]


def report(results: dict[str, RunResult], round_trip: float, args: argparse.Namespace) -> str:
    lines = [
        f"{args.conversations} conversations x {TURNS} turns, emulator latency "
        f"{args.latency_ms:g} ms (measured round trip {round_trip:.1f} ms)",
        "",
        "Per turn (sums over conversations; latency p50/p95 in ms):",
        "",
        "| turn | " + " | ".join(f"{n} calls/docs/records/p50/p95" for n in results) + " |",
        "|---:|" + "---|" * len(results),
    ]
    for turn in range(TURNS):
        cells = []
        for result in results.values():
            s = result.turns[turn]
            cells.append(
                f"{sum(s.calls)}/{sum(s.documents)}/{sum(s.records)}/"
                f"{percentile(s.latency_ms, 0.5):.0f}/{percentile(s.latency_ms, 0.95):.0f}"
            )
        lines.append(f"| {turn + 1} | " + " | ".join(cells) + " |")
    lines += ["", "Totals (ratios against the baseline of this run):", ""]
    lines += [
        "| configuration | calls | documents | billed records | p50 ms | p95 ms | "
        "p50 / round trip |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    base = _totals(results["baseline"])
    for name, result in results.items():
        t = _totals(result)
        lines.append(
            f"| {name} | {t['calls']} ({base['calls'] / max(t['calls'], 1):.1f}x fewer) | "
            f"{t['documents']} | {t['records']} ({base['records'] / max(t['records'], 1):.1f}x "
            f"fewer) | {t['p50']:.1f} | {t['p95']:.1f} | {t['p50'] / round_trip:.2f} |"
        )
    return "\n".join(lines)


def _totals(result: RunResult) -> dict[str, float]:
    latencies = [ms for s in result.turns for ms in s.latency_ms]
    return {
        "calls": sum(sum(s.calls) for s in result.turns),
        "documents": sum(sum(s.documents) for s in result.turns),
        "records": sum(sum(s.records) for s in result.turns),
        "p50": percentile(latencies, 0.5),
        "p95": percentile(latencies, 0.95),
    }


async def main_async(args: argparse.Namespace) -> str:
    seeds = list(range(args.conversations))
    async with emulator_process() as url:
        round_trip = await round_trip_ms(url, args.latency_ms)
        results = {
            name: await run_configuration(overrides, seeds, url, args.latency_ms)
            for name, overrides in CONFIGURATIONS.items()
        }
    identical = all(r.masked == results["baseline"].masked for r in results.values())
    text = report(results, round_trip, args)
    return text + f"\n\nMasked output identical across the four configurations: {identical}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--conversations", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--memory-conversations", type=int, default=10_000)
    args = parser.parse_args(argv)
    print(asyncio.run(main_async(args)))
    print()
    print("Memory bound (in-process cache, turn-by-turn lookups and stores):")
    print()
    print(
        "| conversations | max entries | max bytes | entries | accounted bytes | measured bytes "
        "| hit rate |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for max_entries, max_bytes in ((100_000, 64 * 1024 * 1024), (1_000_000, 8 * 1024 * 1024)):
        m = asyncio.run(memory_run(args.memory_conversations, max_entries, max_bytes))
        print(
            f"| {m['conversations']} | {m['max_entries']} | {m['max_bytes']} | "
            f"{m['peak_entries']} | {m['peak_accounted_bytes']} | {m['measured_bytes']} | "
            f"{m['hit_rate']:.3f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
