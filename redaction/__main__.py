"""``python -m redaction serve | redact | emulator``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from redaction.errors import SettingsError


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        result: int = args.run(args)
    except SettingsError as error:
        print(f"pii-redaction: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m redaction", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve /redact and /health (the function_app routes)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=7071)
    serve.set_defaults(run=_serve)

    redact = commands.add_parser(
        "redact", help="redact one request (or bare OpenAI body) to stdout"
    )
    redact.add_argument("file", nargs="?", default="-", help="JSON file, or - for standard input")
    redact.set_defaults(run=_redact)

    emulator = commands.add_parser("emulator", help="a local Azure AI Language PII API")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=5005)
    emulator.add_argument("--api-key", default="emulator-key")
    emulator.set_defaults(run=_emulator)
    return parser


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from redaction import telemetry
    from redaction.server import SERVER_OPTIONS, build_app
    from redaction.settings import load_settings

    settings = load_settings()
    mode = telemetry.configure_telemetry()  # once, before the app is imported, as the worker does
    if mode == "off":
        telemetry.log_to_console()
    sys.path.insert(0, str(Path.cwd()))
    import function_app

    app = build_app(function_app.app, settings)
    telemetry.instrument_server(app)
    print(
        f"pii-redaction serving http://{args.host}:{args.port}/redact "
        f"(detector: {settings.detector_kind}, telemetry: {mode})",
        file=sys.stderr,
    )
    asyncio.run(_run_forever(web.AppRunner(app, **SERVER_OPTIONS), args.host, args.port))
    return 0


async def _run_forever(runner: Any, host: str, port: int) -> None:
    """``web.run_app`` without its handler-argument filtering, so SERVER_OPTIONS apply."""
    from aiohttp import web

    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def _redact(args: argparse.Namespace) -> int:
    from redaction import api, runtime

    raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    runtime.current_settings()
    answer = asyncio.run(_redact_once(api, _as_request(raw)))
    print(json.dumps(answer.payload, ensure_ascii=False, indent=2))
    return 0 if answer.status == 200 else 1


async def _redact_once(api: Any, raw: bytes) -> Any:
    from redaction import runtime

    try:
        return await api.redact(raw, {"content-type": "application/json"})
    finally:
        await runtime.shutdown()


def _as_request(raw: bytes) -> bytes:
    """Wraps a bare OpenAI body as ``{"body": ...}``; passes a ``/redact`` request through."""
    try:
        document = json.loads(raw)
    except ValueError:
        return raw
    if isinstance(document, dict) and "body" not in document:
        return json.dumps({"body": document}).encode("utf-8")
    return raw


def _emulator(args: argparse.Namespace) -> int:
    from redaction.emulator import run_emulator

    run_emulator(args.host, args.port, args.api_key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
