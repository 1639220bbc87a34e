"""The shared Redis tier: a real ``redis-server`` when one is reachable (``REDIS_URL`` or
localhost:6379), and, with none, the guarantee that Redis down or silent is only a miss."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

import function_app
from redaction.cache.redis_tier import RedisTier
from redaction.http.server import build_app
from redaction.settings import Settings
from tests.conftest import EMULATOR_KEY, TEST_SETTINGS, Emulator, post_redact

BODY = {"messages": [{"role": "user", "content": "Mail alice@example.com"}]}


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """A TCP server that accepts connections and never answers."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"redis://127.0.0.1:{port}/0"
    server.close()
    await server.wait_closed()


def _closed_port_url() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


async def _served(emulator: Emulator, **overrides: Any) -> TestClient[Any, Any]:
    # A healthy Redis on a busy machine must never time out (a lost write fails the sharing test);
    # the tests of a silent or closed Redis pass their own short timeout.
    values = {"pii_redis_timeout_s": 5.0, **overrides}
    settings = Settings(
        **TEST_SETTINGS, language_endpoint=emulator.url, language_api_key=EMULATOR_KEY, **values
    )
    client = TestClient(TestServer(build_app(function_app.app, settings)))
    await client.start_server()
    return client


async def test_values_round_trip_through_redis(redis_url: str) -> None:
    tier = RedisTier.from_url(redis_url, timeout_s=1.0, ttl_s=60)
    key = secrets.token_bytes(32)
    tier.put_many({key: b'[[0,5,"Email",0.8]]'})
    await tier.close()
    tier = RedisTier.from_url(redis_url, timeout_s=1.0, ttl_s=60)
    try:
        assert await tier.get_many([key, secrets.token_bytes(32)]) == {key: b'[[0,5,"Email",0.8]]'}
    finally:
        await tier.close()


async def test_instances_share_results_through_redis(redis_url: str, emulator: Emulator) -> None:
    shared = {"redis_url": redis_url, "pii_cache_secret": secrets.token_hex(16)}
    first = await _served(emulator, **shared)
    _, scanned = await post_redact(first, BODY)
    await first.close()
    second = await _served(emulator, **shared)
    try:
        _, cached = await post_redact(second, BODY)
    finally:
        await second.close()
    assert (await emulator.stats())["requests"] == 1
    assert cached["diagnostics"]["cached_docs"] == 1
    assert cached["redacted_body"] == scanned["redacted_body"]


async def test_without_a_shared_secret_redis_is_not_used(
    redis_url: str, emulator: Emulator
) -> None:
    for _ in range(2):
        client = await _served(emulator, redis_url=redis_url)
        await post_redact(client, BODY)
        await client.close()
    assert (await emulator.stats())["requests"] == 2


@pytest.mark.parametrize("where", ["closed", "silent"])
async def test_redis_down_or_silent_is_a_miss_never_a_failure(
    emulator: Emulator, silent_server: str, where: str
) -> None:
    url = silent_server if where == "silent" else _closed_port_url()
    client = await _served(emulator, redis_url=url, pii_cache_secret="s", pii_redis_timeout_s=0.05)
    try:
        for _ in range(2):
            status, result = await post_redact(client, BODY, fail_closed=True)
            assert (status, result["status"]) == (200, "ok")
    finally:
        await client.close()
    assert (await emulator.stats())["requests"] == 1


async def test_a_silent_redis_pauses_the_tier(silent_server: str) -> None:
    tier = RedisTier.from_url(silent_server, timeout_s=0.05, ttl_s=60)
    try:
        assert await tier.get_many([b"k"]) == {}
        assert not tier.available
        assert await tier.get_many([b"k"]) == {}
    finally:
        await tier.close()
