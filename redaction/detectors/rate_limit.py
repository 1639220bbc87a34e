"""The rate half of the Language call budget, on the ``limits`` library: a moving window of at
most N calls in any minute, in this process or, with ``REDIS_URL``, in Redis for every instance.

A moving window is what a per-minute quota measures (no burst of 2N across a minute boundary, as
a fixed window allows). With Redis, ``limits`` keeps the window in one sorted list per key and
takes a token with one Lua script, so instances never race. When Redis fails or is slow, calls
take their token from this instance's own window instead (logged once per outage as
``pii-budget-redis-unavailable``, with the error type only) and Redis is tried again after
``REDIS_RETRY_S``.
"""

from __future__ import annotations

import logging
import time

import redis.asyncio as redis
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from redaction.deadline import Clock

KEY_PREFIX = "pii-budget"
REDIS_RETRY_S = 5.0
logger = logging.getLogger("pii_redaction")


class MovingWindowRate:
    """``budget.Rate`` on ``limits``' moving window, local or shared through Redis."""

    def __init__(
        self,
        item: RateLimitItem,
        resource: str,
        *,
        redis_url: str | None = None,
        redis_timeout_s: float = 0.05,
        clock: Clock = time.monotonic,
    ) -> None:
        self.item = item
        self._resource = resource  # the Language endpoint: one quota per resource
        self._local = MovingWindowRateLimiter(MemoryStorage())
        self._pool: redis.ConnectionPool | None = None
        self._shared: MovingWindowRateLimiter | None = None
        if redis_url is not None:
            self._pool = redis.ConnectionPool.from_url(
                redis_url, socket_timeout=redis_timeout_s, socket_connect_timeout=redis_timeout_s
            )
            storage = RedisStorage(
                "async+redis://",  # the pool says where; the URL never reaches limits
                implementation="redispy",
                wrap_exceptions=True,
                key_prefix=KEY_PREFIX,
                # limits hands it to redis.asyncio.Redis (its options are typed narrower)
                connection_pool=self._pool,  # type: ignore[arg-type]
            )
            self._shared = MovingWindowRateLimiter(storage)
        self._clock = clock
        self._shared_retry_at = 0.0

    @classmethod
    def per_minute(
        cls, calls: int, resource: str, redis_url: str | None = None, redis_timeout_s: float = 0.05
    ) -> MovingWindowRate:
        return cls(
            RateLimitItemPerMinute(calls),
            resource,
            redis_url=redis_url,
            redis_timeout_s=redis_timeout_s,
        )

    @property
    def shared(self) -> bool:
        """Whether tokens come from Redis now (False: none configured, or it is paused)."""
        return self._shared is not None and self._clock() >= self._shared_retry_at

    async def take(self) -> float | None:
        """Takes a token: None when taken, else the seconds until the oldest call leaves."""
        if self._shared is not None and self.shared:
            try:
                return await self._take(self._shared)
            except StorageError as error:
                self._pause_shared(error)
        return await self._take(self._local)

    async def _take(self, limiter: MovingWindowRateLimiter) -> float | None:
        if await limiter.hit(self.item, self._resource):
            return None
        stats = await limiter.get_window_stats(self.item, self._resource)
        return max(0.0, stats.reset_time - time.time())  # limits' windows are epoch seconds

    def _pause_shared(self, error: StorageError) -> None:
        cause = type(error.storage_error).__name__
        logger.warning("pii-budget-redis-unavailable", extra={"pii-error-type": cause})
        self._shared_retry_at = self._clock() + REDIS_RETRY_S

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()
