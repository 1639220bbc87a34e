"""The traces operators read in Application Insights, the spans around Language calls, metrics,
and the one place telemetry is set up.

This is the only module that imports OpenTelemetry. Records carry sizes, counts, timings and ids,
never text. Telemetry never fails a request: errors raised while emitting are swallowed, and
exporters run on the SDK's background threads, which log their own trouble and carry on.

Set-up happens once per process (``configure_telemetry``):

- In Azure Functions the Python worker configures Azure Monitor itself before ``function_app`` is
  imported (host.json ``"telemetryMode": "OpenTelemetry"`` with the app setting
  ``PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY=true``). Configuring it again would export
  everything twice, so here it is only checked, never done.
- Under ``python -m redaction serve``, Azure Monitor is configured iff
  ``APPLICATIONINSIGHTS_CONNECTION_STRING`` is set; the distro is imported only then.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from opentelemetry import metrics, trace
from opentelemetry.trace import Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from redaction.reasons import FailureReason

if TYPE_CHECKING:
    from aiohttp import web

logger = logging.getLogger("pii_redaction")

Dimensions = Mapping[str, Any]
_Handler = Callable[["web.Request"], Awaitable["web.StreamResponse"]]
Mode = Literal[
    "off",  # nothing exports (no connection string): the API's no-op providers
    "azure-monitor",  # this process called configure_azure_monitor()
    "external",  # an SDK provider was already installed by someone else; left alone
    "functions-opentelemetry",  # the Functions worker configured Azure Monitor
    "functions-classic",  # Functions classic host logging: custom dimensions are dropped
    "functions-missing",  # the worker was asked to configure Azure Monitor and did not
]

CONNECTION_STRING = "APPLICATIONINSIGHTS_CONNECTION_STRING"
WORKER_RUNTIME = "FUNCTIONS_WORKER_RUNTIME"
WORKER_TELEMETRY = "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"
LOGGER_NAME = "PYTHON_APPLICATIONINSIGHTS_LOGGER_NAME"
DEFAULT_LOGGER_NAME = "pii_redaction"

CLIENT = trace.SpanKind.CLIENT
INTERNAL = trace.SpanKind.INTERNAL
SERVER = trace.SpanKind.SERVER


class _Instruments:
    """The tracer and metric instruments, from the global providers unless given others."""

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self.tracer = trace.get_tracer("pii_redaction", tracer_provider=tracer_provider)
        meter = metrics.get_meter("pii_redaction", meter_provider=meter_provider)
        self.duration = meter.create_histogram(
            "pii.redaction.duration", unit="ms", description="Duration of one /redact"
        )
        self.entities = meter.create_counter(
            "pii.redaction.entities", unit="{entity}", description="Entities masked, by category"
        )
        self.blocked = meter.create_counter(
            "pii.redaction.blocked", unit="{request}", description="Requests refused fail-closed"
        )
        self.retries = meter.create_counter(
            "pii.language.retries", unit="{retry}", description="Language attempts retried"
        )
        self.throttles = meter.create_counter(
            "pii.language.throttles", unit="{response}", description="Language HTTP 429 answers"
        )
        self.budget_wait = meter.create_histogram(
            "pii.language.budget_wait",
            unit="ms",
            description="Wait of one Language call for the call budget (rate and concurrency)",
        )


_instruments = _Instruments()
_mode: Mode | None = None


def use_providers(
    tracer_provider: trace.TracerProvider | None = None,
    meter_provider: metrics.MeterProvider | None = None,
) -> None:
    """Sends spans and metrics to these providers (None: the global ones). For tests."""
    global _instruments  # noqa: PLW0603 - one process-wide set of instruments
    _instruments = _Instruments(tracer_provider, meter_provider)


# --- set-up ---------------------------------------------------------------------------------


def configure_telemetry(env: Mapping[str, str] | None = None) -> Mode:
    """Sets telemetry up once per process from ``env`` (default ``os.environ``); later calls
    return the first answer and do nothing."""
    global _mode  # noqa: PLW0603 - configuration happens exactly once per process
    if _mode is None:
        _mode = _configure(os.environ if env is None else env)
    return _mode


class ConsoleFormatter(logging.Formatter):
    """``time level name {dimensions}``: the same records Application Insights gets, on stderr."""

    def format(self, record: logging.LogRecord) -> str:
        dimensions = {k: v for k, v in vars(record).items() if k.startswith("pii-")}
        stamp = self.formatTime(record, "%H:%M:%S")
        return f"{stamp} {record.levelname:<7} {record.getMessage()} {json.dumps(dimensions)}"


def log_to_console() -> None:
    """Under ``serve`` without a connection string: print the traces, so a local run shows them."""
    handler = logging.StreamHandler()
    handler.setFormatter(ConsoleFormatter())
    logger.addHandler(handler)
    logger.propagate = False


def _configure(env: Mapping[str, str]) -> Mode:
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)  # the root logger's WARNING would drop pii-outbound
    if env.get(WORKER_RUNTIME):
        return _check_worker(env)
    connection_string = env.get(CONNECTION_STRING, "").strip()
    if not connection_string:
        return "off"
    if sdk_provider_active():
        return "external"
    return _start_azure_monitor(connection_string, env.get(LOGGER_NAME) or DEFAULT_LOGGER_NAME)


def _check_worker(env: Mapping[str, str]) -> Mode:
    """Functions: the worker configures Azure Monitor (never us); warn if it was asked and
    did not (e.g. azure-monitor-opentelemetry missing from requirements.txt)."""
    if not _is_true(env.get(WORKER_TELEMETRY)):
        return "functions-classic"
    if sdk_provider_active():
        return "functions-opentelemetry"
    logger.warning(
        "pii-telemetry-not-configured",
        extra={
            "pii-telemetry-mode": "functions",
            "pii-telemetry-problem": f"{WORKER_TELEMETRY} is true but no OpenTelemetry SDK "
            "tracer provider is active; is azure-monitor-opentelemetry in requirements.txt?",
        },
    )
    return "functions-missing"


def _start_azure_monitor(connection_string: str, logger_name: str) -> Mode:
    try:
        from azure.monitor.opentelemetry import configure_azure_monitor

        configure_azure_monitor(connection_string=connection_string, logger_name=logger_name)
    except Exception as error:  # noqa: BLE001 - no telemetry is better than no service
        # The type only: a bad connection string's message may repeat the string.
        logger.warning("pii-telemetry-not-configured", extra={"pii-error-type": _name(error)})
        return "off"
    return "azure-monitor"


def sdk_provider_active() -> bool:
    """Whether the global tracer provider is the SDK's (so someone configured exporting).

    Looks only at modules already imported, so it costs nothing when nobody configured."""
    sdk = sys.modules.get("opentelemetry.sdk.trace")
    return sdk is not None and isinstance(trace.get_tracer_provider(), sdk.TracerProvider)


def _is_true(value: str | None) -> bool:
    """The worker's reading of a boolean app setting."""
    return (value or "").strip().lower() in ("1", "true", "t", "yes", "y")


# --- the facts: one table, each fact's names (docs/telemetry.md) ------------------------------


@dataclass(frozen=True)
class Fact:
    """One fact telemetry carries: ``name`` in ``models.Diagnostics`` (``REDACTION``) or in an
    attempt's values (``ATTEMPT``), its trace-record ``dimension`` (None: not one) and its span
    ``attribute`` (None: the span carries the dimension's name, as ``pii-redaction`` does)."""

    name: str
    dimension: str | None
    attribute: str | None = None
    scan: bool = False  # counted by the scan (scanning.ScanReport or its AttemptStats), same name
    only_if_any: bool = False  # left out at 0 / False

    def value(self, values: Mapping[str, Any]) -> Any:
        found = values[self.name]
        return None if self.only_if_any and not found else found


# Which request: the attributes the pii-redaction span starts with.
REDACTION_IDS = (Fact("correlation_id", "pii-correlation-id", "pii.correlation_id"),)
# One /redact: its diagnostics, its pii-anonymization dimensions and so its pii-redaction span.
REDACTION = (
    *REDACTION_IDS,
    Fact("entity_count", "pii-entity-count"),
    Fact("total_docs", "pii-document-count", scan=True),
    Fact("unscanned_docs", "pii-unscanned-count", scan=True),
    Fact("cached_docs", None, scan=True),
    Fact("sent_docs", None, scan=True),
    Fact("billed_records", None, scan=True),
    Fact("batches", "pii-batch-count", scan=True),
    Fact("characters", None, scan=True),
    Fact("attempts", "pii-attempt-count", scan=True),
    Fact("retries", "pii-retry-count", scan=True),
    Fact("hedges", "pii-hedge-count", scan=True, only_if_any=True),
    Fact("fallback_docs", "pii-fallback-count", scan=True, only_if_any=True),
    Fact("duration_ms", "pii-duration-ms"),
    Fact("detector", "pii-detector"),
    Fact("failure_reason", "pii-failure-detail"),
)
# Which attempt of which batch of which request: on pii-outbound, pii-inbound and its span.
ATTEMPT_IDS = (
    Fact("correlation_id", "pii-correlation-id", "pii.correlation_id"),
    Fact("tenant_id", "pii-tenant-id", "pii.tenant_id"),
    Fact("batch_index", "pii-batch-index", "pii.batch_index"),
    Fact("attempt", "pii-attempt", "pii.attempt"),
    Fact("hedge", "pii-hedge", "pii.hedge", only_if_any=True),
)
# One Language call attempt as it is sent: pii-outbound and the pii-language-call span.
ATTEMPT = (
    *ATTEMPT_IDS,
    Fact("documents", "pii-document-count", "pii.documents"),
    Fact("characters", "pii-characters", "pii.characters"),
    Fact("target_host", "pii-target-host", "server.address"),
    Fact("api_version", "pii-api-version", "pii.api_version"),
)


def dimensions(facts: Sequence[Fact], values: Mapping[str, Any]) -> dict[str, Any]:
    """The trace-record dimensions of ``facts``, from ``values`` by fact name."""
    return {f.dimension: f.value(values) for f in facts if f.dimension is not None}


def attributes(facts: Sequence[Fact], values: Mapping[str, Any]) -> dict[str, Any]:
    """The span attributes of ``facts``, from ``values`` by fact name."""
    return {
        name: f.value(values) for f in facts if (name := f.attribute or f.dimension) is not None
    }


# --- traces (log records) -------------------------------------------------------------------


def emit(name: str, level: int, dimensions: Dimensions) -> None:
    """One trace record named ``name`` whose custom dimensions are ``dimensions``."""
    try:
        if _mode is None and WORKER_RUNTIME in os.environ:
            configure_telemetry()  # in Functions this only checks what the worker did
        extra = {k: v for k, v in dimensions.items() if v is not None}
        logger.log(level, _message(name, extra), extra=extra)
    except Exception:  # noqa: BLE001 - telemetry must never fail a request
        return


def _message(name: str, extra: Dimensions) -> str:
    """The name; in classic Functions logging, which drops ``extra``, the dimensions as JSON."""
    if _mode != "functions-classic":
        return name
    return f"{name} {json.dumps(extra, separators=(',', ':'), default=str)}"


# --- spans ----------------------------------------------------------------------------------


@contextmanager
def span(name: str, kind: trace.SpanKind, attributes: Dimensions) -> Iterator[trace.Span]:
    """A span with ``attributes``; attributes added later go through ``set_attributes``.

    An exception leaving the span (or a cancellation, e.g. by the request deadline) marks it
    failed with the exception's type name only: its message is never recorded."""
    if not _tracing():  # nothing would record it: no span, no context to switch
        yield trace.INVALID_SPAN
        return
    with ExitStack() as stack:
        current = _start(stack, name, kind)
        set_attributes(current, attributes)
        try:
            yield current
        except (Exception, asyncio.CancelledError) as error:
            _fail(current, error)
            raise


def _tracing() -> bool:
    """Whether a span would be recorded: a tracer provider was given (``use_providers``) or
    installed (Azure Monitor, the Functions worker, another SDK). Otherwise the API's tracer is
    a no-op whose spans record nothing, and they are skipped with their context switches."""
    tracer = _instruments.tracer
    if not isinstance(tracer, trace.ProxyTracer):
        return True
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def _start(stack: ExitStack, name: str, kind: trace.SpanKind) -> trace.Span:
    try:
        return stack.enter_context(
            _instruments.tracer.start_as_current_span(
                name, kind=kind, record_exception=False, set_status_on_exception=False
            )
        )
    except Exception:  # noqa: BLE001
        return trace.INVALID_SPAN


def _fail(current: trace.Span, error: BaseException) -> None:
    try:
        current.set_attribute("error.type", _name(error))
        current.set_status(Status(StatusCode.ERROR, _name(error)))
    except Exception:  # noqa: BLE001
        return


_ATTRIBUTE = (str, bool, int, float)  # the value types a span attribute takes (bool is an int)


def set_attributes(current: trace.Span, attributes: Dimensions) -> None:
    try:
        current.set_attributes({k: v for k, v in attributes.items() if isinstance(v, _ATTRIBUTE)})
    except Exception:  # noqa: BLE001
        return


def instrument_server(app: web.Application) -> None:
    """``python -m redaction serve`` only: one SERVER span per request, the child of the
    caller's ``traceparent`` (APIM sends one), so Application Insights gets a request row and
    every trace of the request shares its operation id. (In Functions the host does this.)"""
    from aiohttp import web

    @web.middleware
    async def request_span(request: web.Request, handler: _Handler) -> web.StreamResponse:
        with _server_span(request) as current:
            response = await handler(request)
            _answered(current, response.status)
            return response

    app.middlewares.append(request_span)


_PROPAGATOR = TraceContextTextMapPropagator()  # W3C traceparent; holds no state


@contextmanager
def _server_span(request: web.Request) -> Iterator[trace.Span]:
    """Named by method and route template: never the raw path or query (``code=`` is a key)."""
    if not _tracing():
        yield trace.INVALID_SPAN
        return
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "(unmatched)"
    attributes = {"http.request.method": request.method, "http.route": route}
    with ExitStack() as stack:
        try:
            parent = _PROPAGATOR.extract(request.headers)
            current = stack.enter_context(
                _instruments.tracer.start_as_current_span(
                    f"{request.method} {route}",
                    context=parent,
                    kind=SERVER,
                    attributes=attributes,
                    record_exception=False,
                    set_status_on_exception=False,
                )
            )
        except Exception:  # noqa: BLE001
            current = trace.INVALID_SPAN
        try:
            yield current
        except Exception as error:
            _answered(current, getattr(error, "status", 500))
            raise


def _answered(current: trace.Span, status: int) -> None:
    try:
        current.set_attribute("http.response.status_code", status)
        if status >= 500:
            current.set_status(Status(StatusCode.ERROR))
    except Exception:  # noqa: BLE001
        return


# --- metrics --------------------------------------------------------------------------------


def record_redaction(
    outcome: str,
    duration_ms: float,
    categories: Mapping[str, int],
    failure_reason: str | None,
    detector: str,
) -> None:
    """Metrics of one finished ``/redact``; ``failure_reason`` as ``map_failure_reason`` gives."""
    try:
        attributes = {"pii.outcome": outcome, "pii.detector": detector}
        if failure_reason is not None:
            attributes["pii.failure_reason"] = failure_reason
        _instruments.duration.record(duration_ms, attributes)
        for category, count in categories.items():
            _instruments.entities.add(count, {"pii.category": category})
        if outcome == "error" and failure_reason != FailureReason.PAYLOAD_TOO_LARGE:
            _instruments.blocked.add(1, {"pii.failure_reason": failure_reason or "unknown"})
    except Exception:  # noqa: BLE001
        return


def record_attempt(outcome: str, http_status: int | None, retried: bool) -> None:
    """Metrics of one finished Language attempt."""
    try:
        if retried:
            _instruments.retries.add(1, {"pii.outcome": outcome})
        if http_status == 429:
            _instruments.throttles.add(1)
    except Exception:  # noqa: BLE001
        return


def record_budget_wait(waited_ms: float, granted: bool) -> None:
    """Metrics of one Language call's wait for the call budget (granted, or ``rate-limited``)."""
    try:
        outcome = "granted" if granted else FailureReason.RATE_LIMITED.value
        _instruments.budget_wait.record(waited_ms, {"pii.budget.outcome": outcome})
    except Exception:  # noqa: BLE001
        return


# --- the failure-reason contract ------------------------------------------------------------

_NO_RESPONSE = frozenset(
    {FailureReason.TIMEOUT, FailureReason.CONNECTION_ERROR, FailureReason.CONNECTION_RESET}
)
_AS_IS = frozenset(
    {
        FailureReason.PAYLOAD_TOO_LARGE,
        FailureReason.INCOMPLETE_COVERAGE,
        FailureReason.DEADLINE,
        FailureReason.RATE_LIMITED,
    }
)
_HTTP = re.compile(r"^http-[1-5][0-9]{2}$")
_TOKEN = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,63}$")


def map_failure_reason(reason: str | None) -> str | None:
    """The dashboard's ``pii-failure-reason`` for a diagnostics ``failure_reason``.

    ``no-response``, ``payload-too-large``, ``http-<status>``, ``incomplete-coverage``,
    ``deadline`` and ``rate-limited`` are kept; anything else is ``service-error: <reason>``."""
    if reason is None:
        return None
    if reason in _NO_RESPONSE:
        return "no-response"
    if reason in _AS_IS or _HTTP.match(reason):
        return reason
    return f"service-error: {reason if _TOKEN.match(reason) else 'unknown'}"


def _name(error: BaseException) -> str:
    return type(error).__name__
