"""The shared cache tier in Redis (Azure Cache for Redis in production): the only module that
sees ``redis``.

Every operation runs inside a small timeout. Any error or slowness is a miss (reads) or a lost
write, never a failed request, and pauses the tier for ``pause_s`` so that a Redis outage costs
each request at most one timeout. Writes go out in the background after the answer is known.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence

import redis.asyncio as redis

logger = logging.getLogger("pii_redaction")

KEY_PREFIX = b"pii:v1:"


class RedisTier:
    def __init__(
        self,
        client: redis.Redis,
        timeout_s: float,
        ttl_s: float,
        pause_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._timeout_s = timeout_s
        self._ttl_ms = max(1, round(ttl_s * 1000))
        self._pause_s = pause_s
        self._clock = clock
        self._paused_until = 0.0
        self._writes: set[asyncio.Task[None]] = set()

    @classmethod
    def from_url(cls, url: str, timeout_s: float, ttl_s: float) -> RedisTier:
        client = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        return cls(client, timeout_s, ttl_s)

    @property
    def available(self) -> bool:
        return self._clock() >= self._paused_until

    async def get_many(self, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        if not keys or not self.available:
            return {}
        try:
            async with asyncio.timeout(self._timeout_s):
                values = await self._client.mget([KEY_PREFIX + key for key in keys])
        except Exception as error:  # noqa: BLE001 - any Redis failure is a miss
            self._pause("get", error)
            return {}
        return {
            key: value for key, value in zip(keys, values, strict=True) if isinstance(value, bytes)
        }

    def put_many(self, items: Mapping[bytes, bytes]) -> None:
        if not items or not self.available:
            return
        task = asyncio.create_task(self._write(dict(items)))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _write(self, items: dict[bytes, bytes]) -> None:
        try:
            async with asyncio.timeout(self._timeout_s):
                pipeline = self._client.pipeline(transaction=False)
                for key, value in items.items():
                    pipeline.set(KEY_PREFIX + key, value, px=self._ttl_ms)
                await pipeline.execute()
        except Exception as error:  # noqa: BLE001 - a lost write only costs a later miss
            self._pause("put", error)

    def _pause(self, operation: str, error: BaseException) -> None:
        self._paused_until = self._clock() + self._pause_s
        logger.warning(
            "pii-cache-redis-unavailable",
            extra={"pii-operation": operation, "pii-error-type": type(error).__name__},
        )

    async def close(self) -> None:
        if self._writes:
            await asyncio.wait(set(self._writes), timeout=self._timeout_s)
        for task in self._writes:
            task.cancel()
        await self._client.aclose()
