"""Serves the routes a ``func.FunctionApp`` registers over aiohttp, for machines without Core Tools.

Routes, methods and auth levels are read from the FunctionApp object and requests are dispatched
to its very handlers; this module adds only what the Functions host would add (the function key).

Malformed HTTP, and any error aiohttp answers itself, gets our JSON error and a log line with the
status and the error's type only: aiohttp's own answer and log line quote the request's bytes.
"""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import azure.functions as func
from aiohttp import web, web_protocol, web_server
from aiohttp.web_request import BaseRequest
from azure.functions.decorators.http import HttpTrigger

from redaction import runtime
from redaction.http.api import Answer
from redaction.http.auditing import KEY_NAME_HEADER
from redaction.settings import Settings

logger = logging.getLogger("pii_redaction")
Handler = Callable[[func.HttpRequest], Awaitable[func.HttpResponse]]
KEY_HEADER = "x-functions-key"
# Request handler options: bodies are passed on as sent (a compressed body is refused with 415,
# never inflated), as the handlers expect.
SERVER_OPTIONS: dict[str, Any] = {"auto_decompress": False}


def build_app(functions: func.FunctionApp, settings: Settings) -> web.Application:
    """An aiohttp application serving every HTTP function of ``functions`` under ``settings``."""
    runtime.configure(settings)
    install_error_handler()
    # Options on the application itself, so every runner applies them (run_app filters its own).
    app = web.Application(
        client_max_size=settings.pii_max_body_bytes + 1, handler_args=SERVER_OPTIONS
    )
    keys = route_keys(settings)
    for function in registered_functions(functions):
        trigger = function.get_trigger()
        if not isinstance(trigger, HttpTrigger):
            continue
        route = "/" + str(trigger.route).lstrip("/")
        needs_key = keys is not None and str(trigger.auth_level).upper().endswith(
            ("FUNCTION", "ADMIN")
        )
        name = route.strip("/")
        key = keys.get(name, keys.get("redact")) if keys is not None else None
        handler = _dispatch(
            function.get_user_function(),
            (name, key) if needs_key else None,
            settings.pii_max_body_bytes,
        )
        for method in trigger.methods or ():
            app.router.add_route(str(getattr(method, "value", method)), route, handler)
    app.on_cleanup.append(_close_runtime)
    return app


def route_keys(settings: Settings) -> dict[str, str | None] | None:
    """The key of each route, as the Functions host keeps a key per function: /redact (and any
    other keyed route) opens with REDACTION_API_KEY, /restore with REDACTION_RESTORE_API_KEY
    only. None when neither is set (no keys: local use); a route whose key is unset is closed."""
    redact, restore = settings.redaction_api_key, settings.redaction_restore_api_key
    if redact is None and restore is None:
        return None
    return {
        "redact": redact.get_secret_value() if redact else None,
        "restore": restore.get_secret_value() if restore else None,
    }


@functools.cache
def registered_functions(functions: func.FunctionApp) -> tuple[func.Function, ...]:
    """The app's functions; indexed once, as the host does (indexing twice fails validation)."""
    return tuple(functions.get_functions())


def _dispatch(
    user_function: Handler, key: tuple[str, str | None] | None, max_body_bytes: int
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """``key``: the route's name and key (None: open; a None key: closed to every key)."""

    async def handle(request: web.Request) -> web.Response:
        if key is not None and not _key_matches(request, key[1]):
            return _answer(
                Answer(401, _error("Unauthorized", "a valid x-functions-key is required"))
            )
        if _too_large(request, max_body_bytes):
            return _answer(Answer(413, _error("PayloadTooLarge", "the body is too large")))
        try:
            body = await request.read() if request.can_read_body else b""
        except web.HTTPRequestEntityTooLarge:
            return _answer(Answer(413, _error("PayloadTooLarge", "the body is too large")))
        opened_by = key[0] if key is not None else None
        response = await user_function(_to_function_request(request, body, opened_by))
        return _to_web_response(response)

    return handle


def _key_matches(request: web.Request, key: str | None) -> bool:
    """Compares bytes as sent: aiohttp keeps undecodable header bytes as surrogate escapes."""
    given = request.headers.get(KEY_HEADER) or request.query.get("code") or ""
    sent = given.encode("utf-8", "surrogateescape")
    expected = key.encode("utf-8") if key is not None else b""
    return hmac.compare_digest(sent, expected) and key is not None


def _too_large(request: web.Request, max_body_bytes: int) -> bool:
    return request.content_length is not None and request.content_length > max_body_bytes


def _to_function_request(
    request: web.Request, body: bytes, opened_by: str | None
) -> func.HttpRequest:
    """``opened_by``: the name of the key that opened the route, for the audit record's caller;
    a header of that name from the client is dropped."""
    headers = {k: v for k, v in request.headers.items() if k.lower() != KEY_NAME_HEADER}
    if opened_by is not None:
        headers[KEY_NAME_HEADER] = opened_by
    return func.HttpRequest(
        method=request.method,
        url=str(request.url),
        headers=headers,
        params=dict(request.query),
        route_params=dict(request.match_info),
        body=body,
    )


def _to_web_response(response: func.HttpResponse) -> web.Response:
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
    return web.Response(
        body=response.get_body(),
        status=response.status_code,
        headers=headers,
        content_type=response.mimetype,
        charset=response.charset,
    )


def _answer(answer: Answer) -> web.Response:
    return web.Response(body=answer.body(), status=answer.status, content_type="application/json")


def _error(code: str, message: str) -> dict[str, Any]:
    return {
        "status": "error",
        "full_coverage": False,
        "error": {"code": code, "message": message, "details": []},
    }


async def _close_runtime(_app: web.Application) -> None:
    await runtime.shutdown()


_ERROR_ANSWERS = {
    400: ("BadRequest", "the request is not valid HTTP"),
    500: ("InternalError", "the service failed unexpectedly"),
    504: ("Timeout", "the request took too long"),
}


class JsonErrorRequestHandler(web_protocol.RequestHandler):
    """aiohttp's connection handler; errors it answers itself are answered and logged as ours."""

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        error_type = type(exc).__name__ if exc is not None else None
        level = logging.ERROR if status >= 500 else logging.INFO
        logger.log(
            level, "pii-http-error", extra={"pii-http-status": status, "pii-error-type": error_type}
        )
        if request.writer.output_size > 0:  # part of an answer went out: only closing is left
            raise ConnectionError("an answer was already started")
        code, text = _ERROR_ANSWERS.get(status, _ERROR_ANSWERS[400 if status < 500 else 500])
        response = _answer(Answer(status, _error(code, text)))
        response.force_close()
        return response


def install_error_handler() -> None:
    """Makes aiohttp's ``Server`` build ``JsonErrorRequestHandler`` connection handlers (it reads
    the module-level name on each connection; ``Application`` cannot be subclassed), so every
    runner in the process, ``serve`` and the tests' ``TestServer`` alike, answers with it."""
    web_server.RequestHandler = JsonErrorRequestHandler  # type: ignore[attr-defined]
