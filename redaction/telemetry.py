"""The traces operators read in Application Insights, and the spans around Language calls.

This is the only module that imports OpenTelemetry. Records carry sizes, counts, timings and ids,
never text. Telemetry never fails a request: errors raised while emitting are swallowed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace

logger = logging.getLogger("pii_redaction")
_tracer = trace.get_tracer("pii_redaction")

Dimensions = Mapping[str, Any]


def emit(name: str, level: int, dimensions: Dimensions) -> None:
    """One trace record named ``name`` whose custom dimensions are ``dimensions``."""
    try:
        logger.log(level, name, extra={k: v for k, v in dimensions.items() if v is not None})
    except Exception:  # noqa: BLE001 - telemetry must never fail a request
        return


@contextmanager
def span(name: str, kind: trace.SpanKind, attributes: Dimensions) -> Iterator[trace.Span]:
    """A span with ``attributes``; attributes added later go through ``set_attributes``."""
    with _tracer.start_as_current_span(name, kind=kind, record_exception=False) as current:
        set_attributes(current, attributes)
        yield current


def set_attributes(current: trace.Span, attributes: Dimensions) -> None:
    try:
        current.set_attributes(
            {k: v for k, v in attributes.items() if isinstance(v, str | bool | int | float)}
        )
    except Exception:  # noqa: BLE001
        return


CLIENT = trace.SpanKind.CLIENT
INTERNAL = trace.SpanKind.INTERNAL
