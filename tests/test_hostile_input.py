"""Hostile and malformed requests against ``python -m redaction serve`` in a subprocess.

Each one must get the right 4xx with a JSON error body, in bounded time, the process must survive
(same pid), and the next normal request must still be redacted. The served process's peak memory
is checked once at the end. Limits come from the settings (PII_MAX_BODY_BYTES, PII_MAX_DEPTH,
PII_MAX_STRINGS); the body limit is raised to 40 MB here so that a million tiny messages fit in
the body and are refused by the string limit instead.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import pytest

from tests.conftest import REFERENCE_BODY, REFERENCE_MASKED

ROOT = Path(__file__).resolve().parent.parent
MAX_BODY_BYTES = 40 * 1024 * 1024
BOUND_S = 10.0  # generous: a correctness bound (no hang), not a performance threshold
PEAK_RSS_BOUND = 1536 * 1024 * 1024
JSON = {"Content-Type": "application/json"}
Payload = bytes | Callable[[], bytes]


@dataclass(frozen=True)
class Served:
    url: str
    process: psutil.Process


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def wait_ready(url: str, process: subprocess.Popen[bytes], healthy: bool = True) -> None:
    """Until /health answers 200 (or answers at all, for a server expected to be unhealthy)."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + 60  # start-up on a busy machine; only bounds a hang
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError:
            if not healthy:
                return
            time.sleep(0.05)
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the server did not become ready")


@contextlib.contextmanager
def serving(healthy: bool = True, **settings: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``python -m redaction serve`` in a subprocess with the embedded detector, no function
    key and no telemetry, plus ``settings``; yields its URL and process once /health answers
    200 (with ``healthy=False``: once it answers at all)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PII_", "LANGUAGE_"))}
    env.update(PII_DETECTOR="local", REDACTION_API_KEY="", APPLICATIONINSIGHTS_CONNECTION_STRING="")
    env.update(settings)
    command = [sys.executable, "-m", "redaction", "serve", "--port", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process, healthy)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    limits = {"PII_MAX_BODY_BYTES": str(MAX_BODY_BYTES), "PII_MAX_STRINGS": "100000"}
    with serving(**limits) as (url, process):
        yield Served(url, psutil.Process(process.pid))


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout, auto_decompress=False) as client:
        yield client


# --- the hostile requests -------------------------------------------------------------------


def request(body: Any, **config: Any) -> bytes:
    payload: dict[str, Any] = {"body": body}
    if config:
        payload["config"] = config
    return json.dumps(payload).encode()


def nested(depth: int, opening: str, closing: str) -> bytes:
    return f'{{"body":{{"x":{opening * depth}1{closing * depth}}}}}'.encode()


def fifty_megabytes() -> bytes:
    return request({"messages": [{"role": "user", "content": "x" * (50 * 1024 * 1024)}]})


def million_tiny_messages() -> bytes:
    message = b'{"role":"user","content":"a"}'
    return b'{"body":{"messages":[' + b",".join([message] * 1_000_000) + b"]}}"


def many_keys() -> bytes:
    return request({f"k{i}": 0 for i in range(150_000)})


def gzip_bomb() -> bytes:
    return gzip.compress(b" " * (64 * 1024 * 1024), compresslevel=9)


@dataclass(frozen=True)
class Hostile:
    name: str
    payload: Payload
    status: int
    code: str
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON))
    chunked: bool = False


def config_case(name: str, **config: Any) -> Hostile:
    return Hostile(name, request({}, **config), 400, "InvalidRequest")


NORMAL = request(REFERENCE_BODY)
GZIP = {**JSON, "Content-Encoding": "gzip"}
HOSTILE = [
    # not JSON, or not a JSON object
    Hostile("not-json", b"hello, world", 400, "InvalidRequest"),
    Hostile("empty-body", b"", 400, "InvalidRequest"),
    Hostile("truncated-json", b'{"body": {"messages": [', 400, "InvalidRequest"),
    Hostile("json-array", b"[1, 2, 3]", 400, "InvalidRequest"),
    Hostile("json-string", b'"body"', 400, "InvalidRequest"),
    Hostile("json-number", b"42", 400, "InvalidRequest"),
    Hostile("json-null", b"null", 400, "InvalidRequest"),
    Hostile("invalid-utf8", b'{"body": {"x": "\xff\xfe"}}', 400, "InvalidRequest"),
    Hostile("utf8-bom", b'\xef\xbb\xbf{"body": {}}', 400, "InvalidRequest"),
    Hostile("utf16-body", '{"body": {}}'.encode("utf-16"), 400, "InvalidRequest"),
    Hostile("trailing-garbage", b'{"body": {}} {"body": {}}', 400, "InvalidRequest"),
    # JSON that is not quite JSON
    Hostile("nan", b'{"body": {"t": NaN}}', 400, "InvalidRequest"),
    Hostile("infinity", b'{"body": {"t": Infinity}}', 400, "InvalidRequest"),
    Hostile("minus-infinity", b'{"body": {"t": -Infinity}}', 400, "InvalidRequest"),
    Hostile("float-overflows-to-infinity", b'{"body": {"t": 1e400}}', 400, "InvalidRequest"),
    Hostile("huge-integer", b'{"body": {"t": ' + b"9" * 10_000 + b"}}", 400, "InvalidRequest"),
    Hostile("lone-high-surrogate", b'{"body": {"t": "\\ud800"}}', 400, "InvalidRequest"),
    Hostile("lone-low-surrogate-key", b'{"body": {"\\udc00": 1}}', 400, "InvalidRequest"),
    Hostile("duplicate-top-key", b'{"body": {}, "body": {"a": 1}}', 400, "InvalidRequest"),
    Hostile("duplicate-nested-key", b'{"body": {"a": {"b": 1, "b": 2}}}', 400, "InvalidRequest"),
    # nesting
    Hostile("nesting-100000-arrays", nested(100_000, "[", "]"), 400, "InvalidRequest"),
    Hostile("nesting-100000-objects", nested(100_000, '{"a":', "}"), 400, "InvalidRequest"),
    Hostile("nesting-just-over-the-limit", nested(64, "[", "]"), 400, "InvalidRequest"),
    # wrong types everywhere
    Hostile("missing-body", b"{}", 400, "InvalidRequest"),
    Hostile("body-string", request("hello"), 400, "InvalidRequest"),
    Hostile("body-array", request([{"role": "user"}]), 400, "InvalidRequest"),
    Hostile("body-null", request(None), 400, "InvalidRequest"),
    Hostile("unknown-top-level-field", b'{"body": {}, "extra": 1}', 400, "InvalidRequest"),
    Hostile("config-string", b'{"body": {}, "config": "strict"}', 400, "InvalidRequest"),
    Hostile("config-array", b'{"body": {}, "config": []}', 400, "InvalidRequest"),
    config_case("fail-closed-string", fail_closed="true"),
    config_case("fail-closed-number", fail_closed=1),
    config_case("excluded-categories-string", excluded_categories="Email"),
    config_case("excluded-categories-number", excluded_categories=[1]),
    config_case("excluded-categories-unknown", excluded_categories=["NotACategory"]),
    config_case("excluded-categories-too-many", excluded_categories=["Email"] * 257),
    config_case("detection-language-number", detection_language=42),
    config_case("detection-language-pattern", detection_language="en; DROP TABLE"),
    config_case("scan-roles-string", scan_roles="user"),
    config_case("scan-roles-empty-name", scan_roles=[""]),
    config_case("redaction-character-empty", redaction_character=""),
    config_case("redaction-character-two", redaction_character="##"),
    config_case("correlation-id-too-long", correlation_id="c" * 300),
    config_case("correlation-id-an-address", correlation_id="jane.doe@example.com"),
    config_case("correlation-id-a-line-break", correlation_id="req-1\nforged log line"),
    config_case("correlation-id-a-nul", correlation_id="req-1\x00"),
    config_case("subscription-id-a-colon", subscription_id="jane.doe:example.com"),
    config_case("subscription-id-a-line-break", subscription_id="tenant\nforged log line"),
    config_case("subscription-id-blank", subscription_id="  "),
    config_case("subscription-id-a-c1-control", subscription_id="tenant\x85a"),
    config_case("unknown-config-field", surprise=True),
    # content-type lies and compression
    Hostile("text-plain", NORMAL, 415, "UnsupportedMediaType", {"Content-Type": "text/plain"}),
    Hostile("xml", NORMAL, 415, "UnsupportedMediaType", {"Content-Type": "application/xml"}),
    Hostile(
        "form-urlencoded",
        b"body=1",
        415,
        "UnsupportedMediaType",
        {"Content-Type": "application/x-www-form-urlencoded"},
    ),
    Hostile("json-label-on-form-data", b"body=%7B%7D&x=1", 400, "InvalidRequest"),
    Hostile("gzip", lambda: gzip.compress(NORMAL), 415, "UnsupportedMediaType", GZIP),
    Hostile("gzip-bomb", gzip_bomb, 415, "UnsupportedMediaType", GZIP),
    Hostile(
        "deflate",
        lambda: zlib.compress(NORMAL),
        415,
        "UnsupportedMediaType",
        {**JSON, "Content-Encoding": "deflate"},
    ),
    Hostile(
        "brotli-label", NORMAL, 415, "UnsupportedMediaType", {**JSON, "Content-Encoding": "br"}
    ),
    Hostile("gzip-without-header", lambda: gzip.compress(NORMAL), 400, "InvalidRequest"),
    # size
    Hostile("50-mb-body", fifty_megabytes, 413, "PayloadTooLarge"),
    Hostile("50-mb-body-chunked", fifty_megabytes, 413, "PayloadTooLarge", chunked=True),
    Hostile("million-tiny-messages", million_tiny_messages, 413, "PayloadTooLarge"),
    Hostile("150000-keys", many_keys, 413, "PayloadTooLarge"),
]


async def chunks(data: bytes, size: int = 1024 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def post(
    session: aiohttp.ClientSession, served: Served, case: Hostile
) -> tuple[int, dict[str, Any]]:
    data = case.payload() if callable(case.payload) else case.payload
    body: Any = chunks(data) if case.chunked else io.BytesIO(data)
    try:
        async with session.post(
            f"{served.url}/redact", data=body, headers=case.headers
        ) as response:
            return response.status, json.loads(await response.read())
    except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError):
        # The server answered early and closed while the body was still being sent.
        pytest.fail("the server closed the connection before answering")


async def assert_still_serving(session: aiohttp.ClientSession, served: Served, pid: int) -> None:
    assert served.process.is_running()
    assert served.process.pid == pid
    async with session.post(f"{served.url}/redact", data=NORMAL, headers=JSON) as response:
        assert response.status == 200
        result = await response.json()
    assert result["redacted_body"]["messages"][0]["content"] == REFERENCE_MASKED


@pytest.mark.parametrize("case", HOSTILE, ids=[case.name for case in HOSTILE])
async def test_hostile_request_gets_its_4xx(
    served: Served, session: aiohttp.ClientSession, case: Hostile
) -> None:
    pid = served.process.pid
    started = time.monotonic()
    status, result = await post(session, served, case)
    elapsed = time.monotonic() - started
    assert (status, result["error"]["code"]) == (case.status, case.code), result
    assert result["status"] == "error"
    assert result["full_coverage"] is False
    assert result["error"]["message"]
    assert "redacted_body" not in result
    assert elapsed < BOUND_S
    await assert_still_serving(session, served, pid)


def test_there_are_at_least_forty_hostile_requests() -> None:
    assert len(HOSTILE) >= 40
    assert len({case.name for case in HOSTILE}) == len(HOSTILE)


async def test_wrong_method_is_405(served: Served, session: aiohttp.ClientSession) -> None:
    async with session.get(f"{served.url}/redact") as response:
        assert response.status == 405
    await assert_still_serving(session, served, served.process.pid)


def test_peak_memory_of_the_served_process_stays_bounded(served: Served) -> None:
    """Runs after the hostile requests (module order): the high-water mark of the server."""
    status = Path(f"/proc/{served.process.pid}/status").read_text()
    peak_kb = int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1])
    assert peak_kb * 1024 < PEAK_RSS_BOUND, f"peak RSS {peak_kb // 1024} MB"


def tool_call_request(arguments: str) -> bytes:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": arguments}}
    return request({"messages": [{"role": "assistant", "content": None, "tool_calls": [call]}]})


async def test_duplicate_keys_in_tool_call_arguments_do_not_hide_text(
    served: Served, session: aiohttp.ClientSession
) -> None:
    secret = "hidden.dup@example.com"
    raw = tool_call_request(f'{{"note": "write to {secret}", "note": "nothing here"}}')
    async with session.post(f"{served.url}/redact", data=raw, headers=JSON) as response:
        text = await response.text()
    assert response.status < 500
    assert secret not in text


async def test_escaped_lone_surrogate_in_tool_call_arguments_is_not_a_500(
    served: Served, session: aiohttp.ClientSession
) -> None:
    raw = tool_call_request('{"note": "\\ud800 write to x@example.com"}')
    async with session.post(f"{served.url}/redact", data=raw, headers=JSON) as response:
        assert response.status < 500
        json.loads(await response.read())
    await assert_still_serving(session, served, served.process.pid)
