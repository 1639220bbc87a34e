"""The control API under `/_emulator/`: faults, load settings, statistics, reset.

- `POST /_emulator/faults` `{"faults": [Fault, ...]}` appends; `GET` lists what is pending;
  `DELETE` clears. Answers `{"faults": [...]}`.
- `POST /_emulator/config` merges `EmulatorConfig` fields (and `api_key`); `GET` reads it.
- `GET /_emulator/stats`: `EmulatorStats.as_dict()`.
- `POST /_emulator/reset`: clears faults, config and statistics; keeps the credentials.
Bad bodies get 400 `{"error": "..."}`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from emulator.faults import Fault
from emulator.state import EmulatorState


class _FaultList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    faults: list[Fault]


def add_control_routes(app: web.Application, state: EmulatorState) -> None:
    """Registers the control routes; handlers close over `state`."""

    async def post_faults(request: web.Request) -> web.Response:
        posted = _FaultList.model_validate(await _json_object(request))
        state.faults.add(posted.faults)
        return web.json_response({"faults": state.faults.pending()})

    async def get_faults(_: web.Request) -> web.Response:
        return web.json_response({"faults": state.faults.pending()})

    async def delete_faults(_: web.Request) -> web.Response:
        state.faults.clear()
        return web.json_response({"faults": []})

    async def post_config(request: web.Request) -> web.Response:
        changes = await _json_object(request)
        api_key = changes.pop("api_key", state.api_key)
        state.configure(changes)
        state.api_key = api_key
        return web.json_response(state.config.model_dump())

    async def get_config(_: web.Request) -> web.Response:
        return web.json_response(state.config.model_dump())

    async def get_stats(_: web.Request) -> web.Response:
        return web.json_response(state.stats.as_dict())

    async def post_reset(_: web.Request) -> web.Response:
        state.reset()
        return web.json_response({"reset": True})

    app.router.add_post("/_emulator/faults", _guarded(post_faults))
    app.router.add_get("/_emulator/faults", get_faults)
    app.router.add_delete("/_emulator/faults", delete_faults)
    app.router.add_post("/_emulator/config", _guarded(post_config))
    app.router.add_get("/_emulator/config", get_config)
    app.router.add_get("/_emulator/stats", get_stats)
    app.router.add_post("/_emulator/reset", post_reset)


async def _json_object(request: web.Request) -> dict[str, Any]:
    body = await request.json()
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


_Handler = Callable[[web.Request], Awaitable[web.Response]]


def _guarded(handler: _Handler) -> _Handler:
    """Turns bad control bodies into 400 `{"error": ...}` instead of a 500."""

    async def guarded(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except (ValueError, ValidationError) as exc:
            return web.json_response({"error": str(exc)}, status=400)

    return guarded
