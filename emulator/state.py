"""The emulator's mutable state: auth, the fault queue, load settings and call statistics."""

from __future__ import annotations

import random
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from emulator.faults import FaultQueue
from emulator.quota import CallQuota

MAX_CALL_RECORDS = 1000


class EmulatorConfig(BaseModel):
    """Load-test settings, set through `POST /_emulator/config` (partial updates merge)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latency_ms: float = Field(default=0.0, ge=0.0)
    latency_jitter_ms: float = Field(default=0.0, ge=0.0)
    throttle_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    retry_after: str | None = "1"
    seed: int | None = None
    # A resource's rate limit: at most this many accepted calls in any `rate_window_s` (429 with
    # Retry-After beyond it). None: unlimited.
    rate_per_minute: int | None = Field(default=None, ge=1)
    rate_window_s: float = Field(default=60.0, gt=0.0)


@dataclass(slots=True)
class CallRecord:
    """One analyze call; filled in as the request is understood."""

    documents: int = 0
    characters: int = 0
    status: int = 0
    api_version: str | None = None
    fault: str | None = None


class EmulatorStats:
    def __init__(self) -> None:
        self.requests = 0
        self.documents = 0
        self.characters = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.statuses: Counter[int] = Counter()
        self.calls: deque[CallRecord] = deque(maxlen=MAX_CALL_RECORDS)

    @contextmanager
    def track(self) -> Iterator[CallRecord]:
        """Counts the call in flight while it runs, then records it."""
        call = CallRecord()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            yield call
        finally:
            self.in_flight -= 1
            self._record(call)

    def _record(self, call: CallRecord) -> None:
        self.requests += 1
        self.documents += call.documents
        self.characters += call.characters
        self.statuses[call.status] += 1
        self.calls.append(call)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "documents": self.documents,
            "characters": self.characters,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "statuses": {str(status): count for status, count in sorted(self.statuses.items())},
            "calls": [asdict(call) for call in self.calls],
        }


class EmulatorState:
    """Everything a test or the control API may change; one per emulator app."""

    def __init__(self, *, api_key: str | None = "emulator-key", bearer_token: str | None = None):
        self.api_key = api_key
        self.bearer_token = bearer_token
        self.faults = FaultQueue()
        self.config = EmulatorConfig()
        self.stats = EmulatorStats()
        self.random = random.Random()
        self.quota = CallQuota()

    def configure(self, changes: dict[str, Any]) -> EmulatorConfig:
        """Merges changes into the config; raises pydantic's `ValidationError` on bad values."""
        self.config = EmulatorConfig.model_validate({**self.config.model_dump(), **changes})
        if "seed" in changes:
            self.random.seed(self.config.seed)
        return self.config

    def reset(self) -> None:
        """Clears faults, config and statistics; keeps the credentials."""
        self.faults.clear()
        self.config = EmulatorConfig()
        self.stats = EmulatorStats()
        self.random = random.Random()
        self.quota.clear()

    def latency_seconds(self) -> float:
        jitter = self.config.latency_jitter_ms
        delay_ms = self.config.latency_ms + self.random.uniform(-jitter, jitter)
        return max(delay_ms, 0.0) / 1000

    def over_quota(self) -> int | None:
        """Seconds to wait when the call exceeds `rate_per_minute` (None: it is accepted)."""
        return self.quota.admit(self.config.rate_per_minute, self.config.rate_window_s)

    def should_throttle(self) -> bool:
        rate = self.config.throttle_rate
        return rate > 0 and self.random.random() < rate
