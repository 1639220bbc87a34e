"""``python -m redaction serve | redact | emulator | audit verify``.

Problems a user can fix (a bad setting, a file that cannot be read, a port in use) end in one
line on standard error naming the problem, never a traceback: exit status 2 for a bad setting
or argument, 1 for a port in use.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import json
import sys
from pathlib import Path
from typing import Any

from redaction.errors import SettingsError

PROG = "python -m redaction"
DESCRIPTION = (
    "PII redaction for OpenAI requests: serve the Azure Functions routes locally, redact one "
    "request, or run a local Azure AI Language PII API. Settings are environment variables "
    "(docs/settings.md)."
)


class UsageError(Exception):
    """A problem with what the user asked for; its message is shown as the one line."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        result: int = args.run(args)
    except (SettingsError, UsageError) as error:
        print(f"pii-redaction: {error}", file=sys.stderr)
        return 2
    except PortInUseError as error:
        print(f"pii-redaction: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = _command(
        commands,
        "serve",
        "serve /redact, /restore, /health and /openapi.yaml over HTTP",
        " (the routes of function_app.py, with the function key REDACTION_API_KEY checked as "
        "the Functions host would). Settings come from the environment.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    serve.add_argument("--port", type=int, default=7071, help="port to listen on")
    serve.set_defaults(run=_serve)

    redact = _command(
        commands,
        "redact",
        "redact one request and print the answer",
        ": a /redact request or a bare OpenAI request body, as JSON. Exit status 0 on a 200 "
        "answer, 1 on any other answer, 2 when the file cannot be read or a setting is bad.",
    )
    redact.add_argument(
        "file", nargs="?", default="-", help="JSON file to read, or - for standard input"
    )
    redact.set_defaults(run=_redact)

    emulator = _command(
        commands,
        "emulator",
        "run a local Azure AI Language PII API",
        " with fault injection, to exercise the Azure path without Azure: "
        "LANGUAGE_ENDPOINT=http://127.0.0.1:5005 LANGUAGE_API_KEY=emulator-key.",
    )
    emulator.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    emulator.add_argument("--port", type=int, default=5005, help="port to listen on")
    emulator.add_argument(
        "--api-key", default="emulator-key", help="the Ocp-Apim-Subscription-Key it accepts"
    )
    emulator.set_defaults(run=_emulator)

    audit = commands.add_parser(
        "audit", help="the audit trail", description="Work with the audit trail."
    )
    audit_commands = audit.add_subparsers(required=True, metavar="ACTION")
    verify = _command(
        audit_commands,
        "verify",
        "check the audit trail's hash chains",
        " in the container of PII_AUDIT_ACCOUNT_URL or PII_AUDIT_CONNECTION_STRING and "
        "PII_AUDIT_CONTAINER (checkpoint signatures with PII_AUDIT_HMAC_KEY). Exit status 0 "
        "with a summary when intact, 1 naming the first broken, missing or reordered entry, "
        "2 when the store cannot be read or a setting is bad.",
    )
    verify.add_argument("--prefix", default="", help="only blobs under it, e.g. 2026/12/01/")
    verify.set_defaults(run=_audit_verify)
    return parser


def _command(commands: Any, name: str, summary: str, more: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description=f"{summary}{more}",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    return parser


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from redaction import telemetry
    from redaction.http.server import SERVER_OPTIONS, build_app
    from redaction.settings import load_settings

    settings = load_settings()
    mode = telemetry.configure_telemetry()  # once, before the app is imported, as the worker does
    if mode == "off":
        telemetry.log_to_console()
    sys.path.insert(0, str(Path.cwd()))
    import function_app

    app = build_app(function_app.app, settings)
    telemetry.instrument_server(app)
    ready = (
        f"pii-redaction serving http://{args.host}:{args.port}/redact "
        f"(detector: {settings.detector_kind}, telemetry: {mode})"
    )
    runner = web.AppRunner(app, **SERVER_OPTIONS)
    asyncio.run(_run_forever(runner, args.host, args.port, ready))
    return 0


async def _run_forever(runner: Any, host: str, port: int, ready: str) -> None:
    """``web.run_app`` without its handler-argument filtering, so SERVER_OPTIONS apply; says
    it is serving only once it listens."""
    from aiohttp import web

    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as error:
            raise PortInUseError.from_bind(error, host, port) from None
        print(ready, file=sys.stderr)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


class PortInUseError(Exception):
    """The port cannot be listened on (in use, or not allowed)."""

    @classmethod
    def from_bind(cls, error: OSError, host: str, port: int) -> PortInUseError:
        if error.errno == errno.EADDRINUSE:
            problem = (
                "is already in use: stop the other server, or choose another port "
                "(--port; make run PORT=)"
            )
        else:
            problem = f"cannot be listened on ({error.strerror or type(error).__name__})"
        return cls(f"{host}:{port} {problem}")


def _redact(args: argparse.Namespace) -> int:
    from redaction import runtime
    from redaction.http import api

    raw = sys.stdin.buffer.read() if args.file == "-" else _read(Path(args.file))
    runtime.current_settings()
    answer = asyncio.run(_redact_once(api, _as_request(raw)))
    print(json.dumps(answer.payload, ensure_ascii=False, indent=2))
    return 0 if answer.status == 200 else 1


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, not a JSON file") from None
    except OSError as error:
        raise UsageError(
            f"{path}: cannot be read ({error.strerror or type(error).__name__})"
        ) from None


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


def _audit_verify(args: argparse.Namespace) -> int:
    from redaction.audit.command import verify
    from redaction.audit.store import AuditStoreError
    from redaction.runtime import audit_keys, audit_store
    from redaction.settings import load_settings

    settings = load_settings()
    if not settings.audit_enabled:
        raise UsageError("set PII_AUDIT_ACCOUNT_URL or PII_AUDIT_CONNECTION_STRING")
    try:
        store = audit_store(settings)
    except AuditStoreError as error:
        raise UsageError(str(error)) from None
    return asyncio.run(verify(store, audit_keys(settings), args.prefix))


def _emulator(args: argparse.Namespace) -> int:
    try:  # a test double beside the package in a checkout; never deployed (.funcignore)
        from emulator import run_emulator
    except ModuleNotFoundError as error:
        if error.name != "emulator":
            raise
        raise UsageError(
            "the Language emulator is not here: it is emulator/ beside redaction/ in a checkout "
            "of the repository (run from its root), and is not part of a deployed package"
        ) from None

    try:
        run_emulator(args.host, args.port, args.api_key)
    except OSError as error:
        raise PortInUseError.from_bind(error, args.host, args.port) from None
    return 0


if __name__ == "__main__":
    sys.exit(main())
