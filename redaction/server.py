"""Serves the routes a ``func.FunctionApp`` registers over aiohttp, for machines without Core Tools.

Routes, methods and auth levels are read from the FunctionApp object and requests are dispatched
to its very handlers; this module adds only what the Functions host would add (the function key).
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import azure.functions as func
from aiohttp import web
from azure.functions.decorators.http import HttpTrigger

from redaction import runtime
from redaction.api import Answer
from redaction.settings import Settings

Handler = Callable[[func.HttpRequest], Awaitable[func.HttpResponse]]
KEY_HEADER = "x-functions-key"
# Request handler options: bodies are passed on as sent (a compressed body is refused with 415,
# never inflated), as the handlers expect.
SERVER_OPTIONS: dict[str, Any] = {"auto_decompress": False}


def build_app(functions: func.FunctionApp, settings: Settings) -> web.Application:
    """An aiohttp application serving every HTTP function of ``functions`` under ``settings``."""
    runtime.configure(settings)
    # Options on the application itself, so every runner applies them (run_app filters its own).
    app = web.Application(
        client_max_size=settings.pii_max_body_bytes + 1, handler_args=SERVER_OPTIONS
    )
    key = settings.redaction_api_key.get_secret_value() if settings.redaction_api_key else None
    for function in registered_functions(functions):
        trigger = function.get_trigger()
        if not isinstance(trigger, HttpTrigger):
            continue
        route = "/" + str(trigger.route).lstrip("/")
        needs_key = key is not None and str(trigger.auth_level).upper().endswith(
            ("FUNCTION", "ADMIN")
        )
        handler = _dispatch(
            function.get_user_function(), key if needs_key else None, settings.pii_max_body_bytes
        )
        for method in trigger.methods or ():
            app.router.add_route(str(getattr(method, "value", method)), route, handler)
    app.on_cleanup.append(_close_runtime)
    return app


@functools.cache
def registered_functions(functions: func.FunctionApp) -> tuple[func.Function, ...]:
    """The app's functions; indexed once, as the host does (indexing twice fails validation)."""
    return tuple(functions.get_functions())


def _dispatch(
    user_function: Handler, key: str | None, max_body_bytes: int
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        if key is not None and not _key_matches(request, key):
            return _answer(
                Answer(401, _error("Unauthorized", "a valid x-functions-key is required"))
            )
        if _too_large(request, max_body_bytes):
            return _answer(Answer(413, _error("PayloadTooLarge", "the body is too large")))
        try:
            body = await request.read() if request.can_read_body else b""
        except web.HTTPRequestEntityTooLarge:
            return _answer(Answer(413, _error("PayloadTooLarge", "the body is too large")))
        response = await user_function(_to_function_request(request, body))
        return _to_web_response(response)

    return handle


def _key_matches(request: web.Request, key: str) -> bool:
    given = request.headers.get(KEY_HEADER) or request.query.get("code") or ""
    return hmac.compare_digest(given.encode("utf-8"), key.encode("utf-8"))


def _too_large(request: web.Request, max_body_bytes: int) -> bool:
    return request.content_length is not None and request.content_length > max_body_bytes


def _to_function_request(request: web.Request, body: bytes) -> func.HttpRequest:
    return func.HttpRequest(
        method=request.method,
        url=str(request.url),
        headers=dict(request.headers),
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
