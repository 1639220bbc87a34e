"""A call quota like a Language resource's: at most N accepted calls in any window (a minute by
default); calls beyond it are answered 429 with the seconds until a call leaves the window."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

Clock = Callable[[], float]


class CallQuota:
    """A moving window of accepted calls; refused calls do not count (as on Azure)."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._accepted: deque[float] = deque()

    def admit(self, limit: int | None, window_s: float) -> int | None:
        """None when the call is accepted (and counted); else the whole seconds to wait."""
        if limit is None:
            return None
        now = self._clock()
        while self._accepted and self._accepted[0] <= now - window_s:
            self._accepted.popleft()
        if len(self._accepted) >= limit:
            oldest = self._accepted[len(self._accepted) - limit]
            return max(1, math.ceil(oldest + window_s - now))
        self._accepted.append(now)
        return None

    def clear(self) -> None:
        self._accepted.clear()
