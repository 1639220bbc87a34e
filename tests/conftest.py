"""Shared fixtures: the served function app over real HTTP, and the Language emulator behind it."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as redis
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, Phase, settings

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import function_app  # noqa: E402
from emulator import EmulatorState, build_emulator_app  # noqa: E402
from redaction import runtime  # noqa: E402
from redaction.http.server import SERVER_OPTIONS, build_app  # noqa: E402
from redaction.settings import Settings  # noqa: E402

# Hypothesis: `make test` (and a plain `pytest`) is the same on every clone, run and machine: a
# fixed sequence of examples per test, no example database (nothing found once is replayed
# forever after), and no wall-clock limits (no per-example deadline, no too_slow health check).
# `make fuzz` (HYPOTHESIS_PROFILE=fuzz) explores at random, FUZZ_FACTOR times each test's own
# max_examples, and keeps what it finds in .hypothesis/ for the next fuzz run only.
_UNTIMED = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("deterministic", derandomize=True, database=None, **_UNTIMED)
settings.register_profile("fuzz", derandomize=False, print_blob=True, **_UNTIMED)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))
FUZZ_FACTOR = int(os.environ.get("FUZZ_FACTOR", "10"))

EMULATOR_KEY = "emulator-key"
# Fast but realistic test settings: short deadline and waits so fault tests finish quickly.
TEST_SETTINGS: dict[str, Any] = {
    "pii_deadline_s": 5.0,
    "pii_attempt_timeout_s": 1.0,
    "pii_backoff_base_s": 0.01,
    "pii_backoff_max_s": 0.05,
    # A tenant pattern scan's budget (100 ms a text by default) is wall-clock time: a busy machine
    # must not turn a short scan into a policy-timeout. Tests of the timeout inject a clock.
    "pii_policy_text_timeout_ms": 5_000.0,
    "pii_policy_request_budget_ms": 5_000.0,
}
REFERENCE_BODY = {
    "messages": [
        {"role": "user", "content": "My email is alice@example.com and my SSN is 123-45-6789"}
    ]
}
REFERENCE_MASKED = "My email is ################# and my SSN is ###########"


# A redis-server for the shared cache tier and the cluster-wide call budget: REDIS_URL, or the
# default local one (CI installs redis-server); skipped, saying so, where none answers.
REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379/0")


@pytest.fixture
async def redis_url() -> str:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
    try:
        await client.ping()
    except (redis.RedisError, OSError):
        pytest.skip(f"no Redis at {REDIS_URL}")
    finally:
        await client.aclose()
    return REDIS_URL


# Fixtures that start a server (in-process HTTP, a subprocess, Redis): their tests are marked
# `server`, and `make test-fast` (-m "not server") runs the rest. A test that starts a server
# by itself carries @pytest.mark.server.
SERVER_FIXTURES = frozenset(
    [
        "emulator",
        "make_service",
        "aiohttp_client",
        "aiohttp_server",
        "served",
        "redis_url",
        "silent_server",
    ]
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.server)
    if settings.get_current_profile_name() == "fuzz":
        _scale_examples(items)


def _scale_examples(items: list[pytest.Item]) -> None:
    """Under the fuzz profile, every property runs FUZZ_FACTOR times its own max_examples."""
    for item in items:
        test = getattr(item, "obj", None)
        # Where @given keeps a test's settings (Hypothesis has no public way to scale them).
        own = getattr(test, "_hypothesis_internal_use_settings", None)
        if isinstance(own, settings) and Phase.generate in own.phases:
            scaled = settings(own, max_examples=own.max_examples * FUZZ_FACTOR)
            test._hypothesis_internal_use_settings = scaled  # type: ignore[union-attr]


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings come from each test, never from the machine's environment."""
    for name in list(os.environ):
        if name.startswith(("LANGUAGE_", "PII_", "REDACTION_", "REDIS_", "APPLICATIONINSIGHTS_")):
            monkeypatch.delenv(name)
    yield
    runtime.configure(None)


@dataclass
class Emulator:
    server: TestServer
    client: TestClient[Any, Any]
    state: EmulatorState

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    async def inject(self, *faults: dict[str, Any]) -> None:
        response = await self.client.post("/_emulator/faults", json={"faults": list(faults)})
        assert response.status == 200, await response.text()

    async def configure(self, **config: Any) -> None:
        response = await self.client.post("/_emulator/config", json=config)
        assert response.status == 200, await response.text()

    async def stats(self) -> dict[str, Any]:
        response = await self.client.get("/_emulator/stats")
        result: dict[str, Any] = await response.json()
        return result


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    state = EmulatorState()
    server = TestServer(build_emulator_app(state, api_key=EMULATOR_KEY))
    client = TestClient(server)
    await client.start_server()
    yield Emulator(server, client, state)
    await client.close()


ServiceFactory = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def make_service() -> AsyncIterator[ServiceFactory]:
    """Starts the served function app with settings overrides; closes every one at the end."""
    clients: list[TestClient[Any, Any]] = []

    async def start(**overrides: Any) -> TestClient[Any, Any]:
        settings = Settings(**{**TEST_SETTINGS, **overrides})
        server = TestServer(build_app(function_app.app, settings))
        await server.start_server(**SERVER_OPTIONS)
        client = TestClient(server)
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


@pytest.fixture
async def local_service(make_service: ServiceFactory) -> TestClient[Any, Any]:
    return await make_service(pii_detector="local")


@pytest.fixture
async def azure_service(make_service: ServiceFactory, emulator: Emulator) -> TestClient[Any, Any]:
    return await make_service(language_endpoint=emulator.url, language_api_key=EMULATOR_KEY)


# The two detectors every leak test runs on: the embedded one, and the Azure path (the emulator).
DETECTORS = ("local", "azure")


@pytest.fixture(params=DETECTORS)
def service(request: pytest.FixtureRequest) -> tuple[str, TestClient[Any, Any]]:
    """The served app on the embedded detector, or on the Azure path through the emulator (a
    module's own ``service`` fixture takes its place there)."""
    client: TestClient[Any, Any] = request.getfixturevalue(f"{request.param}_service")
    return request.param, client


async def post_redact(
    client: TestClient[Any, Any], body: dict[str, Any], **config: Any
) -> tuple[int, dict[str, Any]]:
    payload: dict[str, Any] = {"body": body}
    if config:
        payload["config"] = config
    response = await client.post("/redact", json=payload)
    result: dict[str, Any] = await response.json()
    return response.status, result
