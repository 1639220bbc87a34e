"""``python -m redaction serve`` at the HTTP edge, over raw sockets: function keys that are not
UTF-8 get our JSON 401, malformed HTTP gets our JSON 400, and neither the answer nor the log
repeats a byte of the request."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.test_hostile_input import free_port, wait_ready

ROOT = Path(__file__).resolve().parent.parent
FUNCTION_KEY = "fk-3d5e7a9c1b2f4e6a8c0d"
CANARY = b"serve.canary@example.com"
SOCKET_TIMEOUT_S = 10.0  # a bound against hanging, not a performance threshold


@dataclass(frozen=True)
class Served:
    port: int
    log: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "stderr.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PII_", "LANGUAGE_"))}
    env.update(
        PII_DETECTOR="local",
        REDACTION_API_KEY=FUNCTION_KEY,
        APPLICATIONINSIGHTS_CONNECTION_STRING="",
    )
    command = [sys.executable, "-m", "redaction", "serve", "--port", str(port)]
    with log.open("wb") as stderr:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=stderr)
        try:
            wait_ready(f"http://127.0.0.1:{port}", process)
            yield Served(port, log)
        finally:
            process.terminate()
            process.wait()


def exchange(served: Served, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Sends ``raw`` as is; the status, headers and body of the answer (the server closes)."""
    with socket.create_connection(("127.0.0.1", served.port), timeout=SOCKET_TIMEOUT_S) as sock:
        sock.sendall(raw)  # no half-close: asyncio would close the connection on our EOF
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def redact_with_key(key: bytes) -> bytes:
    body = json.dumps({"body": {"messages": [{"role": "user", "content": "hi"}]}}).encode()
    return (
        b"POST /redact HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"x-functions-key: " + key + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
    )


def assert_json_error(headers: dict[str, str], body: bytes, code: str) -> None:
    assert headers["content-type"].startswith("application/json")
    result = json.loads(body)
    assert result["status"] == "error"
    assert result["error"]["code"] == code


def assert_log_clean(served: Served, *fragments: bytes) -> None:
    log = served.log.read_bytes()
    assert b"Traceback" not in log
    for fragment in fragments:
        assert fragment not in log


def test_the_right_key_is_accepted(served: Served) -> None:
    status, _, body = exchange(served, redact_with_key(FUNCTION_KEY.encode()))
    assert status == 200, body


@pytest.mark.parametrize(
    "key",
    [
        b"\xff\xfe" + FUNCTION_KEY.encode(),  # not UTF-8
        FUNCTION_KEY.encode() + b"\xc3",  # a truncated UTF-8 sequence
        b"\xed\xa0\x80" + CANARY,  # an encoded surrogate
        "ключ-é".encode(),  # UTF-8 beyond latin-1
        b"\x80\x9f\xa0" + CANARY,  # C1 controls, a no-break space
        b"a\tb" + CANARY,  # tab is legal in a header value
    ],
    ids=["invalid-utf8", "truncated", "surrogate", "beyond-latin1", "c1", "tab"],
)
def test_a_key_that_is_not_utf8_is_a_json_401(served: Served, key: bytes) -> None:
    status, headers, body = exchange(served, redact_with_key(key))
    assert status == 401
    assert_json_error(headers, body, "Unauthorized")
    assert CANARY not in body
    assert FUNCTION_KEY.encode() not in body
    assert_log_clean(served, CANARY, key)


@pytest.mark.parametrize("control", [b"\x00", b"\x01", b"\x1b", b"\x7f"])
def test_a_key_with_an_ascii_control_character_is_malformed_http_a_json_400(
    served: Served, control: bytes
) -> None:
    """The HTTP parser refuses these before any handler (and any key check) runs."""
    status, headers, body = exchange(served, redact_with_key(CANARY + control + CANARY))
    assert status == 400
    assert_json_error(headers, body, "BadRequest")
    assert CANARY not in body
    assert_log_clean(served, CANARY)


MALFORMED = {
    "garbage-request-line": b"GARBAGE " + CANARY + b" 123-45-6789\r\n\r\n",
    "header-without-colon": b"POST /redact HTTP/1.1\r\nHost: x\r\nBad Header "
    + CANARY
    + b"\r\n\r\n",
    "bad-content-length": b"POST /redact HTTP/1.1\r\nHost: x\r\nContent-Length: 12"
    + CANARY
    + b"\r\n\r\n",
    "control-in-target": b"GET /health?" + CANARY + b"\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
    "header-too-long": b"GET /health HTTP/1.1\r\nHost: x\r\nX-Note: "
    + b"a" * 9000
    + CANARY
    + b"\r\n\r\n",
    "bad-version": b"GET /health HTTP/9." + CANARY + b"\r\n\r\n",
    "bad-chunk-size": (
        b"POST /redact HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/json\r\nx-functions-key: " + FUNCTION_KEY.encode() + b"\r\n\r\n"
        b"zz" + CANARY + b"\r\n"
    ),
}


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_http_gets_our_json_400_and_a_log_line_without_its_bytes(
    served: Served, raw: bytes
) -> None:
    status, headers, body = exchange(served, raw)
    assert status == 400
    assert_json_error(headers, body, "BadRequest")
    assert CANARY not in body
    assert b"123-45-6789" not in body
    assert_log_clean(served, CANARY, b"123-45-6789", b"GARBAGE")
    assert b"pii-http-error" in served.log.read_bytes()


def test_the_service_still_answers_after_malformed_http(served: Served) -> None:
    for raw in MALFORMED.values():
        exchange(served, raw)
    status, _, body = exchange(served, redact_with_key(FUNCTION_KEY.encode()))
    assert status == 200, body
