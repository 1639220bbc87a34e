"""The aiohttp side: `POST /language/:analyze-text`, fault playback, the app and its runner."""

from __future__ import annotations

import asyncio
import hmac
import json
import math
import sys
import uuid
from typing import Any

from aiohttp import web

from emulator.analysis import analyze_batch
from emulator.control import add_control_routes
from emulator.errors import AzureError, default_message, error_body, error_code_for
from emulator.faults import RESULT_FAULTS, Fault, tamper
from emulator.request import AnalyzeRequest, check_api_version, parse_analyze_request
from emulator.state import CallRecord, EmulatorState
from redaction.embedded import EmbeddedRecognizer

ANALYZE_PATH = "/language/:analyze-text"
MAX_REQUEST_BYTES = 1024 * 1024
_POLL_SECONDS = 0.02

STATE_KEY = web.AppKey("emulator_state", EmulatorState)
RECOGNIZER_KEY = web.AppKey("emulator_recognizer", EmbeddedRecognizer)


def build_emulator_app(
    state: EmulatorState | None = None,
    *,
    api_key: str | None = "emulator-key",
    bearer_token: str | None = None,
) -> web.Application:
    """The emulator app. `api_key=None` disables key auth (only bearer tokens are accepted)."""
    state = state or EmulatorState()
    state.api_key = api_key
    state.bearer_token = bearer_token
    # Larger than the service limit, so oversized bodies get the service's 413, not aiohttp's.
    app = web.Application(client_max_size=4 * MAX_REQUEST_BYTES)
    app[STATE_KEY] = state
    app[RECOGNIZER_KEY] = EmbeddedRecognizer()
    app.router.add_post(ANALYZE_PATH, analyze_text)
    add_control_routes(app, state)
    app.on_response_prepare.append(_add_request_id)
    return app


def run_emulator(
    host: str = "127.0.0.1", port: int = 5005, api_key: str | None = "emulator-key"
) -> None:
    """Serves the emulator until interrupted."""
    app = build_emulator_app(api_key=api_key)
    endpoint = f"http://{host}:{port}"
    print(f"Azure AI Language emulator: POST {endpoint}{ANALYZE_PATH}", file=sys.stderr)
    print(f"Endpoint (LANGUAGE_ENDPOINT): {endpoint}", file=sys.stderr)
    print(
        f"Ocp-Apim-Subscription-Key: {api_key or '(disabled; use a bearer token)'}", file=sys.stderr
    )
    web.run_app(app, host=host, port=port, print=None, handler_cancellation=True)


async def _add_request_id(request: web.Request, response: web.StreamResponse) -> None:
    if request.path.startswith("/language"):
        response.headers.setdefault("apim-request-id", str(uuid.uuid4()))


async def analyze_text(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    with state.stats.track() as call:
        response = await _answer(request, state, call)
        call.status = response.status
        return response


async def _answer(
    request: web.Request, state: EmulatorState, call: CallRecord
) -> web.StreamResponse:
    try:
        analyze = await _read_analyze_request(request, state)
    except AzureError as exc:
        return error_response(exc.status, exc.body())
    call.api_version = analyze.api_version
    call.documents = len(analyze.documents)
    call.characters = sum(len(document.text) for document in analyze.documents)
    wait = state.over_quota()
    if wait is not None:
        call.fault = "quota"
        return _throttled(state, str(wait))
    await asyncio.sleep(state.latency_seconds())
    fault = state.faults.take([document.text for document in analyze.documents])
    if fault is None and state.should_throttle():
        return _throttled(state)
    call.fault = fault.kind if fault else None
    show_stats = request.query.get("showStats", "false").lower() == "true"
    body = analyze_batch(analyze, request.app[RECOGNIZER_KEY], show_stats=show_stats)
    return await play(request, fault, body)


async def _read_analyze_request(request: web.Request, state: EmulatorState) -> AnalyzeRequest:
    check_auth(request, state)
    api_version = check_api_version(request.query.get("api-version"))
    if request.content_type != "application/json":
        message = f"Content-Type must be application/json, not '{request.content_type}'."
        raise AzureError(415, message, "InvalidRequestBodyFormat")
    raw = await _read_body(request)
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise AzureError(
            400, "Request body is not valid JSON.", "InvalidRequestBodyFormat"
        ) from exc
    return parse_analyze_request(api_version, body)


def check_auth(request: web.Request, state: EmulatorState) -> None:
    """A subscription key, or a bearer token (equal to the configured one, if any)."""
    key = request.headers.get("Ocp-Apim-Subscription-Key")
    if key is not None:
        if state.api_key is None or not hmac.compare_digest(key.encode(), state.api_key.encode()):
            raise AzureError(
                401, "Access denied due to invalid subscription key or wrong API endpoint."
            )
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AzureError(401, "Access denied due to missing subscription key or bearer token.")
    if state.bearer_token is not None and not hmac.compare_digest(
        token.encode(), state.bearer_token.encode()
    ):
        raise AzureError(401, "Access denied due to an invalid bearer token.")


async def _read_body(request: web.Request) -> bytes:
    too_large = AzureError(
        413,
        "Request Payload sent is too large to be processed. "
        f"Limit request size to: {MAX_REQUEST_BYTES}",
        "InvalidDocumentBatch",
    )
    if (request.content_length or 0) > MAX_REQUEST_BYTES:
        raise too_large
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise too_large from exc
    if len(raw) > MAX_REQUEST_BYTES:
        raise too_large
    return raw


def error_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> web.Response:
    code = body["error"]["code"]
    return web.json_response(
        body, status=status, headers={**(headers or {}), "x-ms-error-code": code}
    )


def _throttled(state: EmulatorState, retry_after: str | None = None) -> web.Response:
    retry_after = retry_after or state.config.retry_after
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return error_response(
        429, error_body("TooManyRequests", default_message("TooManyRequests")), headers
    )


def _encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def _json(payload: bytes) -> web.Response:
    return web.Response(body=payload, content_type="application/json", charset="utf-8")


async def play(
    request: web.Request, fault: Fault | None, body: dict[str, Any]
) -> web.StreamResponse:
    """The answer to a valid request, as changed by the fault drawn for it (if any)."""
    if fault is None:
        return _json(_encode(body))
    if fault.kind == "status":
        code = error_code_for(fault.status)
        return error_response(fault.status, error_body(code, default_message(code)), fault.headers)
    if fault.kind == "hang":
        await wait_while_connected(request, fault.seconds)
    elif fault.kind in RESULT_FAULTS:
        tamper(body, fault)
    payload = _encode(body)
    if fault.kind == "malformed":
        return _json(payload[: len(payload) // 2])
    if fault.kind == "reset":
        return await _reset_mid_body(request, payload)
    if fault.kind == "trickle":
        return await _trickle(request, payload, fault.seconds, fault.interval)
    return _json(payload)


async def wait_while_connected(request: web.Request, seconds: float) -> bool:
    """Sleeps up to `seconds`, returning early (False) once the client has gone away."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        if request.transport is None or request.transport.is_closing():
            return False
        await asyncio.sleep(min(left, _POLL_SECONDS))
    return True


async def _start_stream(request: web.Request, payload: bytes) -> web.StreamResponse:
    response = web.StreamResponse(status=200)
    response.content_type = "application/json"
    response.charset = "utf-8"
    response.content_length = len(payload)
    await response.prepare(request)
    return response


async def _reset_mid_body(request: web.Request, payload: bytes) -> web.StreamResponse:
    """Headers and half the body, then the connection is closed under the client."""
    response = await _start_stream(request, payload)
    await response.write(payload[: len(payload) // 2])
    if request.transport is not None:
        request.transport.close()
    return response


async def _trickle(
    request: web.Request, payload: bytes, seconds: float, interval: float
) -> web.StreamResponse:
    """The body in pieces `interval` apart, spread over about `seconds`."""
    response = await _start_stream(request, payload)
    pieces = max(1, round(seconds / interval) + 1)
    size = max(1, math.ceil(len(payload) / pieces))
    for start in range(0, len(payload), size):
        if start and not await wait_while_connected(request, interval):
            break
        try:
            await response.write(payload[start : start + size])
        except ConnectionError:
            break
    return response
