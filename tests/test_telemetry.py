"""Telemetry: set-up once per process, the failure-reason contract, and the traces, spans and
metrics of each path, captured over real HTTP with the OpenTelemetry SDK's in-memory exporters."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import types
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from conftest import EMULATOR_KEY, REFERENCE_BODY, TEST_SETTINGS, Emulator, ServiceFactory
from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import (
    InMemoryLogRecordExporter,
    LogRecordExporter,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import function_app
from redaction import telemetry
from redaction.http.server import build_app
from redaction.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
TWO_MESSAGES = {
    "messages": [
        {"role": "user", "content": "Mail alice@example.com today"},
        {"role": "user", "content": "Second message from bob@example.org"},
    ]
}


# --- capture --------------------------------------------------------------------------------


@dataclass
class Capture:
    spans: InMemorySpanExporter
    logs: InMemoryLogRecordExporter
    metrics: InMemoryMetricReader

    def traces(self, name: str) -> list[ReadableLogRecord]:
        return [r for r in self.logs.get_finished_logs() if r.log_record.body == name]

    def one(self, name: str) -> ReadableLogRecord:
        records = self.traces(name)
        assert len(records) == 1, [r.log_record.body for r in self.logs.get_finished_logs()]
        return records[0]

    def named_spans(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.spans.get_finished_spans() if s.name == name]

    def points(self, name: str) -> list[tuple[dict[str, Any], Any]]:
        """(attributes, data point) of every point of the metric ``name``."""
        data = self.metrics.get_metrics_data()
        found: list[tuple[dict[str, Any], Any]] = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        found += [(dict(p.attributes or {}), p) for p in metric.data.data_points]
        return found

    def total(self, name: str, **attributes: Any) -> int:
        return sum(p.value for a, p in self.points(name) if attributes.items() <= a.items())


def dims(record: ReadableLogRecord) -> dict[str, Any]:
    return dict(record.log_record.attributes or {})


def start_capture(
    span_exporter: SpanExporter | None = None, log_exporter: LogRecordExporter | None = None
) -> tuple[Capture, TracerProvider, LoggerProvider, MeterProvider, LoggingHandler]:
    spans, logs, reader = (
        InMemorySpanExporter(),
        InMemoryLogRecordExporter(),
        InMemoryMetricReader(),
    )
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(span_exporter or spans))
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter or logs))
    meter_provider = MeterProvider(metric_readers=[reader])
    handler = LoggingHandler(level=logging.DEBUG, logger_provider=logger_provider)
    telemetry.use_providers(tracer_provider, meter_provider)
    telemetry.logger.addHandler(handler)
    return Capture(spans, logs, reader), tracer_provider, logger_provider, meter_provider, handler


def stop_capture(
    tracer_provider: TracerProvider,
    logger_provider: LoggerProvider,
    meter_provider: MeterProvider,
    handler: LoggingHandler,
) -> None:
    telemetry.logger.removeHandler(handler)
    telemetry.use_providers()
    tracer_provider.shutdown()
    logger_provider.shutdown()
    meter_provider.shutdown()


@contextmanager
def logger_level(level: int) -> Iterator[None]:
    saved = telemetry.logger.level
    telemetry.logger.setLevel(level)
    try:
        yield
    finally:
        telemetry.logger.setLevel(saved)


@pytest.fixture
def capture() -> Iterator[Capture]:
    """Spans, trace records and metrics of this test only; nothing global is replaced."""
    with logger_level(logging.INFO):
        started = start_capture()
        yield started[0]
        stop_capture(*started[1:])


@pytest.fixture
async def azure(make_service: ServiceFactory, emulator: Emulator) -> Any:
    async def start(**overrides: Any) -> TestClient[Any, Any]:
        settings = {"pii_cache_enabled": False, "pii_packing_enabled": False, **overrides}
        return await make_service(
            language_endpoint=emulator.url, language_api_key=EMULATOR_KEY, **settings
        )

    return start


async def redact(
    client: TestClient[Any, Any], body: dict[str, Any], **config: Any
) -> tuple[int, dict[str, Any]]:
    payload: dict[str, Any] = {"body": body, "config": {"correlation_id": "corr-1", **config}}
    response = await client.post("/redact", json=payload, headers={"X-Tenant-Id": "tenant-7"})
    result: dict[str, Any] = await response.json()
    return response.status, result


def always_500(needle: str) -> dict[str, Any]:
    return {"kind": "status", "status": 500, "times": None, "batch_contains": needle}


# --- the failure-reason contract ------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (None, None),
        ("timeout", "no-response"),
        ("connection-error", "no-response"),
        ("connection-reset", "no-response"),
        ("payload-too-large", "payload-too-large"),
        ("http-500", "http-500"),
        ("http-429", "http-429"),
        ("incomplete-coverage", "incomplete-coverage"),
        ("deadline", "deadline"),
        ("invalid-response", "service-error: invalid-response"),
        ("document-error", "service-error: document-error"),
        ("detector-error", "service-error: detector-error"),
        ("credential-error", "service-error: credential-error"),
        ("not a code: alice@example.com", "service-error: unknown"),
    ],
)
def test_failure_reasons_map_to_the_dashboard_vocabulary(
    reason: str | None, expected: str | None
) -> None:
    assert telemetry.map_failure_reason(reason) == expected


# --- set-up ---------------------------------------------------------------------------------


@pytest.fixture
def fake_distro(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Replaces azure.monitor.opentelemetry with a recorder, and forgets earlier set-up."""
    calls: list[dict[str, Any]] = []
    module = types.ModuleType("azure.monitor.opentelemetry")

    def configure_azure_monitor(**kwargs: Any) -> None:
        calls.append(kwargs)

    module.configure_azure_monitor = configure_azure_monitor  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "azure.monitor.opentelemetry", module)
    monkeypatch.setattr(telemetry, "_mode", None)
    with logger_level(logging.NOTSET):
        yield calls


CONNECTION = "InstrumentationKey=00000000-0000-0000-0000-000000000000"


def test_serve_configures_azure_monitor_once_with_a_connection_string(
    fake_distro: list[dict[str, Any]],
) -> None:
    env = {telemetry.CONNECTION_STRING: CONNECTION}
    assert telemetry.configure_telemetry(env) == "azure-monitor"
    assert telemetry.configure_telemetry(env) == "azure-monitor"
    assert fake_distro == [{"connection_string": CONNECTION, "logger_name": "pii_redaction"}]
    assert telemetry.logger.level == logging.INFO


def test_serve_without_a_connection_string_configures_nothing(
    fake_distro: list[dict[str, Any]],
) -> None:
    assert telemetry.configure_telemetry({telemetry.CONNECTION_STRING: "  "}) == "off"
    assert telemetry.configure_telemetry({telemetry.CONNECTION_STRING: CONNECTION}) == "off"
    assert fake_distro == []


@pytest.mark.parametrize("enabled", ["true", "1", "false", ""])
def test_functions_never_configures_azure_monitor(
    fake_distro: list[dict[str, Any]], enabled: str
) -> None:
    env = {
        telemetry.WORKER_RUNTIME: "python",
        telemetry.WORKER_TELEMETRY: enabled,
        telemetry.CONNECTION_STRING: CONNECTION,
    }
    mode = telemetry.configure_telemetry(env)
    assert fake_distro == []
    expected = "functions-missing" if enabled in ("true", "1") else "functions-classic"
    assert mode == expected


def test_functions_warns_when_the_worker_did_not_configure(
    fake_distro: list[dict[str, Any]], capture: Capture
) -> None:
    env = {telemetry.WORKER_RUNTIME: "python", telemetry.WORKER_TELEMETRY: "true"}
    assert telemetry.configure_telemetry(env) == "functions-missing"
    record = capture.one("pii-telemetry-not-configured")
    assert record.log_record.severity_text == "WARN"
    assert "requirements.txt" in dims(record)["pii-telemetry-problem"]


def test_a_failing_distro_is_logged_by_type_and_ignored(
    fake_distro: list[dict[str, Any]], capture: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_: Any) -> None:
        raise ValueError(f"bad connection string {CONNECTION}")

    distro = sys.modules["azure.monitor.opentelemetry"]
    monkeypatch.setattr(distro, "configure_azure_monitor", broken)
    assert telemetry.configure_telemetry({telemetry.CONNECTION_STRING: CONNECTION}) == "off"
    record = capture.one("pii-telemetry-not-configured")
    assert dims(record) == {"pii-error-type": "ValueError"}


def test_classic_functions_logging_carries_the_dimensions_in_the_message(
    fake_distro: list[dict[str, Any]], capture: Capture
) -> None:
    telemetry.configure_telemetry({telemetry.WORKER_RUNTIME: "python"})
    telemetry.emit("pii-outbound", logging.INFO, {"pii-attempt": 1, "pii-tenant-id": None})
    [record] = capture.logs.get_finished_logs()
    assert record.log_record.body == 'pii-outbound {"pii-attempt":1}'


def run_python(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("APPLICATIONINSIGHTS_",))}
    clean.pop(telemetry.WORKER_RUNTIME, None)
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_without_a_connection_string_nothing_can_export() -> None:
    code = (
        "import sys, function_app; from redaction import telemetry; "
        "m = telemetry.configure_telemetry(); "
        "print(m, any(n.startswith('azure.monitor') for n in sys.modules), "
        "telemetry.sdk_provider_active())"
    )
    assert run_python(code) == "off False False"


def test_functions_with_the_worker_configured_is_recognised() -> None:
    code = (
        "from opentelemetry import trace; from opentelemetry.sdk.trace import TracerProvider; "
        "trace.set_tracer_provider(TracerProvider()); "
        "from redaction import telemetry; print(telemetry.configure_telemetry())"
    )
    env = {telemetry.WORKER_RUNTIME: "python", telemetry.WORKER_TELEMETRY: "true"}
    assert run_python(code, **env) == "functions-opentelemetry"


def test_real_distro_exports_to_a_dead_endpoint_without_failing() -> None:
    """The real configure_azure_monitor(), exporting to a closed port: trouble stays inside."""
    code = (
        "import logging; from opentelemetry import trace; from redaction import telemetry; "
        "m = telemetry.configure_telemetry(); again = telemetry.configure_telemetry(); "
        "telemetry.emit('pii-outbound', logging.INFO, {'pii-attempt': 1}); "
        "span = telemetry.span('pii-redaction', telemetry.INTERNAL, {}); span.__enter__(); "
        "span.__exit__(None, None, None); "
        "provider = trace.get_tracer_provider(); provider.force_flush(5000); "
        "print(m, again, type(provider).__module__)"
    )
    connection = f"{CONNECTION};IngestionEndpoint=http://127.0.0.1:9/"
    env = {telemetry.CONNECTION_STRING: connection, "OTEL_EXPERIMENTAL_RESOURCE_DETECTORS": ""}
    assert run_python(code, **env) == "azure-monitor azure-monitor opentelemetry.sdk.trace"


# --- each path over HTTP --------------------------------------------------------------------


async def test_success_emits_outbound_inbound_and_anonymization(
    azure: Any, emulator: Emulator, capture: Capture
) -> None:
    status, answer = await redact(await azure(), REFERENCE_BODY)
    assert status == 200

    outbound = capture.one("pii-outbound")
    assert outbound.log_record.severity_text == "INFO"
    assert dims(outbound) == {
        "pii-correlation-id": "corr-1",
        "pii-tenant-id": "tenant-7",
        "pii-batch-index": 0,
        "pii-attempt": 1,
        "pii-document-count": 1,
        "pii-characters": len(REFERENCE_BODY["messages"][0]["content"]),
        "pii-target-host": "127.0.0.1",
        "pii-api-version": "2025-11-01",
    }
    inbound = dims(capture.one("pii-inbound"))
    assert inbound["pii-http-status"] == 200
    assert inbound["pii-outcome"] == "ok"
    assert inbound["pii-retry"] is False
    assert inbound["pii-response-bytes"] > 0
    assert inbound["pii-duration-ms"] >= 0
    assert "pii-retry-wait-ms" not in inbound

    anonymization = capture.one("pii-anonymization")
    assert anonymization.log_record.severity_text == "INFO"
    found = dims(anonymization)
    categories = answer["diagnostics"]["categories"]
    assert categories
    assert {k: v for k, v in found.items() if k.startswith("pii-category-")} == {
        f"pii-category-{name}": count for name, count in categories.items()
    }
    assert found["pii-outcome"] == "ok"
    assert found["pii-redaction-succeeded"] is True
    assert found["pii-coverage-full"] is True
    assert found["pii-content-changed"] is True
    assert found["pii-entity-count"] == sum(categories.values())
    assert found["pii-document-count"] == 1
    assert found["pii-tenant-id"] == "tenant-7"
    assert found["pii-duration-ms"] >= 0
    assert "pii-failure-reason" not in found

    [redaction] = capture.named_spans("pii-redaction")
    [call] = capture.named_spans("pii-language-call")
    assert call.kind is SpanKind.CLIENT
    assert call.parent is not None
    assert call.parent.span_id == redaction.context.span_id
    assert call.attributes is not None
    assert call.attributes["pii.documents"] == 1
    assert call.attributes["http.response.status_code"] == 200
    assert call.attributes["http.request.method"] == "POST"
    assert outbound.log_record.trace_id == redaction.context.trace_id

    [(attributes, point)] = capture.points("pii.redaction.duration")
    assert attributes == {"pii.outcome": "ok", "pii.detector": "azure"}
    assert point.count == 1
    for name, count in categories.items():
        assert capture.total("pii.redaction.entities", **{"pii.category": name}) == count


async def test_partial_is_a_warning_with_the_reason(
    azure: Any, emulator: Emulator, capture: Capture
) -> None:
    await emulator.inject(always_500("bob@"))
    status, answer = await redact(await azure(pii_docs_per_batch=1), TWO_MESSAGES)
    assert status == 200
    assert answer["status"] == "partial"

    anonymization = capture.one("pii-anonymization")
    assert anonymization.log_record.severity_text == "WARN"
    found = dims(anonymization)
    assert found["pii-outcome"] == "partial"
    assert found["pii-redaction-succeeded"] is False
    assert found["pii-coverage-full"] is False
    assert found["pii-failure-reason"] == "http-500"
    assert found["pii-content-changed"] is True

    failed = [dims(r) for r in capture.traces("pii-inbound") if dims(r)["pii-batch-index"] == 1]
    assert [d["pii-outcome"] for d in failed] == ["http-500"] * 4
    assert [d["pii-retry"] for d in failed] == [True, True, True, False]
    assert all(r.log_record.severity_text == "WARN" for r in capture.traces("pii-inbound")[1:])
    assert capture.total("pii.language.retries") == 3
    assert capture.total("pii.redaction.blocked") == 0


async def test_fail_closed_is_an_error_and_a_block(
    azure: Any, emulator: Emulator, capture: Capture
) -> None:
    await emulator.inject(always_500("bob@"))
    status, answer = await redact(await azure(pii_docs_per_batch=1), TWO_MESSAGES, fail_closed=True)
    assert status == 503
    assert answer["error"]["reason"] == "http-500"

    anonymization = capture.one("pii-anonymization")
    assert anonymization.log_record.severity_text == "ERROR"
    found = dims(anonymization)
    assert found["pii-outcome"] == "error"
    assert found["pii-redaction-succeeded"] is False
    assert found["pii-failure-reason"] == "http-500"
    assert found["pii-content-changed"] is False
    assert capture.total("pii.redaction.blocked", **{"pii.failure_reason": "http-500"}) == 1


async def test_payload_too_large_is_an_error_without_language_calls(
    azure: Any, capture: Capture
) -> None:
    client = await azure(pii_docs_per_batch=1, pii_max_batches=1)
    status, answer = await redact(client, TWO_MESSAGES)
    assert status == 413
    assert answer["error"]["code"] == "PayloadTooLarge"

    anonymization = capture.one("pii-anonymization")
    assert anonymization.log_record.severity_text == "ERROR"
    assert dims(anonymization)["pii-failure-reason"] == "payload-too-large"
    assert dims(anonymization)["pii-redaction-succeeded"] is False
    assert capture.traces("pii-outbound") == []
    [redaction] = capture.named_spans("pii-redaction")
    assert redaction.status.status_code is StatusCode.ERROR
    assert redaction.status.description == "PayloadTooLargeError"
    assert capture.total("pii.redaction.blocked") == 0
    [(attributes, _)] = capture.points("pii.redaction.duration")
    assert attributes["pii.failure_reason"] == "payload-too-large"


async def test_retry_after_429_is_one_throttle_and_one_retry(
    azure: Any, emulator: Emulator, capture: Capture
) -> None:
    await emulator.inject({"kind": "status", "status": 429, "headers": {"Retry-After": "0"}})
    status, answer = await redact(await azure(), REFERENCE_BODY)
    assert status == 200
    assert answer["status"] == "ok"

    outbound = [dims(r)["pii-attempt"] for r in capture.traces("pii-outbound")]
    assert outbound == [1, 2]
    first, second = capture.traces("pii-inbound")
    assert first.log_record.severity_text == "WARN"
    assert dims(first)["pii-http-status"] == 429
    assert dims(first)["pii-outcome"] == "http-429"
    assert dims(first)["pii-retry"] is True
    assert dims(first)["pii-retry-wait-ms"] == 0
    assert second.log_record.severity_text == "INFO"
    assert dims(second)["pii-outcome"] == "ok"
    assert dims(capture.one("pii-anonymization"))["pii-retry-count"] == 1
    assert capture.total("pii.language.throttles") == 1
    assert capture.total("pii.language.retries", **{"pii.outcome": "http-429"}) == 1
    calls = capture.named_spans("pii-language-call")
    assert [c.attributes["pii.attempt"] for c in calls if c.attributes] == [1, 2]


# --- what Application Insights makes of the spans ---------------------------------------------
# The pinned exporter's own span-to-envelope conversion (azure-monitor-opentelemetry-exporter, as
# azure-monitor-opentelemetry 1.8.11 installs it), run on the spans the app really made.

ANALYZE_PATH = "/language/:analyze-text"


def envelope(span: ReadableSpan) -> tuple[Any, dict[str, str]]:
    """(the envelope's base data, its tags) as the exporter would send them."""
    from azure.monitor.opentelemetry.exporter.export.trace._exporter import (
        _convert_span_to_envelope,
    )

    converted = _convert_span_to_envelope(span)
    assert converted.data is not None
    return converted.data.base_data, dict(converted.tags or {})


async def test_a_language_call_is_an_http_dependency_on_the_language_host(
    azure: Any, emulator: Emulator, capture: Capture
) -> None:
    await emulator.inject({"kind": "status", "status": 429, "headers": {"Retry-After": "0"}})
    status, _ = await redact(await azure(), REFERENCE_BODY)
    assert status == 200
    throttled, answered = capture.named_spans("pii-language-call")
    port = emulator.server.port
    for span, code, success in ((throttled, "429", False), (answered, "200", True)):
        data, tags = envelope(span)
        assert type(data).__name__ == "RemoteDependencyData"
        assert data.type == "HTTP"
        assert data.target == f"127.0.0.1:{port}"  # the emulator's port is not http's default
        assert data.result_code == code
        assert data.success is success
        assert data.data == f"{emulator.url}{ANALYZE_PATH}?api-version=2025-11-01"
        # The exporter names every HTTP dependency "<method> <url path>" and gives it that
        # operation name (no attribute changes either in this version); before, with no URL,
        # both were "POST /", the shape of a request name.
        assert data.name == f"POST {ANALYZE_PATH}"
        assert tags["ai.operation.name"] == data.name
        assert data.properties["pii.attempt"] in ("1", "2")
        assert "None" not in data.target
    [redaction] = capture.named_spans("pii-redaction")
    data, tags = envelope(redaction)
    assert (data.type, data.name) == ("InProc", "pii-redaction")
    assert tags["ai.operation.id"] == envelope(answered)[1]["ai.operation.id"]


async def test_the_target_of_an_https_endpoint_is_its_bare_host(
    make_service: ServiceFactory, capture: Capture
) -> None:
    # Nothing listens on localhost:443 here: the call fails at once, without an answer.
    client = await make_service(
        language_endpoint="https://localhost/", language_api_key="k", pii_max_attempts=1
    )
    status, answer = await redact(client, REFERENCE_BODY)
    assert (status, answer["status"]) == (200, "partial")
    [call] = capture.named_spans("pii-language-call")
    data, _ = envelope(call)
    assert (data.type, data.target) == ("HTTP", "localhost")
    assert data.result_code == "0"  # no answer, no status
    assert data.success is False
    assert data.data == f"https://localhost{ANALYZE_PATH}?api-version=2025-11-01"


async def test_deadline_is_an_error_with_reason_deadline(
    azure: Any, emulator: Emulator, capture: Capture
) -> None:
    await emulator.inject({"kind": "hang", "seconds": 5, "times": None})
    client = await azure(pii_deadline_s=0.6, pii_attempt_timeout_s=0.25)
    status, _ = await redact(client, REFERENCE_BODY, fail_closed=True)
    assert status == 503

    anonymization = capture.one("pii-anonymization")
    assert anonymization.log_record.severity_text == "ERROR"
    assert dims(anonymization)["pii-failure-reason"] == "deadline"
    inbound = [dims(r)["pii-outcome"] for r in capture.traces("pii-inbound")]
    assert inbound
    assert set(inbound) <= {"timeout", "deadline"}
    calls = capture.named_spans("pii-language-call")
    assert {c.status.status_code for c in calls} == {StatusCode.ERROR}


async def test_every_outbound_has_its_inbound_when_the_deadline_cancels(
    azure: Any, emulator: Emulator, capture: Capture
) -> None:
    await emulator.inject({"kind": "hang", "seconds": 5, "times": None})
    client = await azure(pii_deadline_s=0.6, pii_attempt_timeout_s=0.25)
    await redact(client, REFERENCE_BODY, fail_closed=True)
    outbound = [dims(r)["pii-attempt"] for r in capture.traces("pii-outbound")]
    inbound = [dims(r)["pii-attempt"] for r in capture.traces("pii-inbound")]
    assert inbound == outbound


async def test_exporter_trouble_never_fails_a_request(
    azure: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(SpanExporter, LogRecordExporter):
        def export(self, batch: Sequence[Any]) -> Any:
            raise ConnectionError("the ingestion endpoint is down")

        def shutdown(self) -> None:
            return None

    with logger_level(logging.INFO):
        started = start_capture(span_exporter=Broken(), log_exporter=Broken())
        try:
            status, answer = await redact(await azure(), REFERENCE_BODY)
        finally:
            stop_capture(*started[1:])
    assert status == 200
    assert answer["status"] == "ok"
    assert any("Exception while exporting" in r.getMessage() for r in caplog.records)


# --- under `python -m redaction serve` ------------------------------------------------------


@pytest.fixture
async def served() -> AsyncIterator[TestClient[Any, Any]]:
    app = build_app(function_app.app, Settings(pii_detector="local", **TEST_SETTINGS))
    telemetry.instrument_server(app)
    client = TestClient(TestServer(app))
    await client.start_server()
    yield client
    await client.close()


async def test_serve_parents_every_signal_on_the_callers_traceparent(
    served: TestClient[Any, Any], capture: Capture
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    headers = {"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}
    response = await served.post(
        "/redact?code=secret-key", json={"body": REFERENCE_BODY}, headers=headers
    )
    assert response.status == 200

    [request] = capture.named_spans("POST /redact")
    assert request.kind is SpanKind.SERVER
    assert f"{request.context.trace_id:032x}" == trace_id
    assert request.parent is not None
    assert f"{request.parent.span_id:016x}" == "00f067aa0ba902b7"
    assert request.attributes == {
        "http.request.method": "POST",
        "http.route": "/redact",
        "http.response.status_code": 200,
    }
    [redaction] = capture.named_spans("pii-redaction")
    assert redaction.parent is not None
    assert redaction.parent.span_id == request.context.span_id
    anonymization = capture.one("pii-anonymization")
    assert f"{anonymization.log_record.trace_id:032x}" == trace_id


async def test_serve_names_unmatched_paths_without_repeating_them(
    served: TestClient[Any, Any], capture: Capture
) -> None:
    response = await served.get("/alice@example.com")
    assert response.status == 404
    [request] = capture.spans.get_finished_spans()
    assert request.name == "GET (unmatched)"
    assert request.attributes is not None
    assert request.attributes["http.response.status_code"] == 404
    assert "alice" not in json.dumps(dict(request.attributes))


def test_console_lines_carry_the_dimensions() -> None:
    record = logging.LogRecord("pii_redaction", logging.INFO, "f", 1, "pii-inbound", None, None)
    record.__dict__.update({"pii-attempt": 2, "pii-outcome": "ok", "unrelated": "x"})
    line = telemetry.ConsoleFormatter().format(record)
    assert line.endswith('pii-inbound {"pii-attempt": 2, "pii-outcome": "ok"}')
    assert "INFO" in line
