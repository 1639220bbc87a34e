"""The detection cache: what the detector found in a chunk of text, so no chunk is scanned twice.

Keys are HMAC-SHA256 digests of the chunk text under a secret, scoped by tenant, detector,
api-version, language and domain, and by the detector's fingerprint (``fingerprint``: the
settings that change findings and the build of the code), so instances that differ in either
never read each other's entries from a shared tier. Values are entity spans (offset, length,
category, score) in the chunk's offsets, encoded as compact JSON; never text. Excluded categories
and masking apply after the lookup, so one entry serves every request config.

Two tiers: ``MemoryCache``, an in-process LRU bounded by entries and bytes with a TTL, and an
optional ``SharedTier`` (Redis, ``redis_tier``) whose failures and slowness count as misses.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from redaction.entities import Entity

# Python objects per entry beyond key and value bytes: the OrderedDict slot and node, the entry
# tuple, the expiry float and both bytes headers (tracemalloc, CPython 3.11, rounded up; see
# the memory run of bench/conversations.py).
ENTRY_OVERHEAD_BYTES = 360


@dataclass(frozen=True, slots=True)
class CacheScope:
    """What, besides the text, decides what a detector finds."""

    tenant: str
    detector: str
    api_version: str
    language: str
    domain: str


def cache_key(secret: bytes, scope: CacheScope, text: str, fingerprint: bytes = b"") -> bytes:
    """HMAC-SHA256 of the fingerprint, the scope fields (length-prefixed, so unambiguous) and
    the text."""
    mac = hmac.new(secret, digestmod=hashlib.sha256)
    mac.update(len(fingerprint).to_bytes(4, "big") + fingerprint)
    for part in (scope.tenant, scope.detector, scope.api_version, scope.language, scope.domain):
        encoded = part.encode("utf-8", "surrogatepass")
        mac.update(len(encoded).to_bytes(4, "big") + encoded)
    mac.update(text.encode("utf-8", "surrogatepass"))
    return mac.digest()


def encode_entities(entities: Sequence[Entity]) -> bytes:
    """``[[offset, length, category, score], ...]`` as compact JSON."""
    rows = [[e.offset, e.length, e.category, e.score] for e in entities]
    return json.dumps(rows, separators=(",", ":")).encode("ascii")


def decode_entities(value: bytes, text_length: int) -> tuple[Entity, ...] | None:
    """The spans in ``value``, or None if it is malformed or a span lies outside the text."""
    try:
        rows = json.loads(value)
        if not isinstance(rows, list):
            return None
        entities = tuple(_entity(row) for row in rows)
    except (ValueError, TypeError):
        return None
    if not all(e.offset >= 0 and e.length > 0 and e.end <= text_length for e in entities):
        return None
    return entities


def _entity(row: object) -> Entity:
    if not isinstance(row, list) or len(row) != 4:
        raise ValueError("not a span")
    offset, length, category, score = row
    if not (
        type(offset) is int
        and type(length) is int
        and isinstance(category, str)
        and isinstance(score, int | float)
    ):
        raise ValueError("not a span")
    return Entity(offset, length, category, float(score))


class MemoryCache:
    """An LRU of ``key -> value`` bytes, bounded by entries and by accounted bytes, with a TTL."""

    def __init__(
        self,
        max_entries: int,
        max_bytes: int,
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._ttl_s = ttl_s
        self._clock = clock
        self._entries: OrderedDict[bytes, tuple[float, bytes]] = OrderedDict()
        self.size_bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: bytes) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, value = entry
        if expires_at <= self._clock():
            self._remove(key)
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: bytes, value: bytes) -> None:
        size = entry_size(key, value)
        if size > self.max_bytes:
            return
        if key in self._entries:
            self._remove(key)
        self._entries[key] = (self._clock() + self._ttl_s, value)
        self.size_bytes += size
        while len(self._entries) > self.max_entries or self.size_bytes > self.max_bytes:
            self._remove(next(iter(self._entries)))

    def _remove(self, key: bytes) -> None:
        _, value = self._entries.pop(key)
        self.size_bytes -= entry_size(key, value)


def entry_size(key: bytes, value: bytes) -> int:
    """Bytes an entry is accounted for: key, value and the objects that hold them."""
    return len(key) + len(value) + ENTRY_OVERHEAD_BYTES


class SharedTier(Protocol):
    """A cache shared between instances. Never raises: any failure is a miss or a lost write."""

    async def get_many(self, keys: Sequence[bytes]) -> dict[bytes, bytes]: ...

    def put_many(self, items: Mapping[bytes, bytes]) -> None: ...

    async def close(self) -> None: ...


class DetectionCache:
    """Entity spans per chunk: the memory tier first, then the shared tier, if any."""

    def __init__(
        self,
        secret: bytes,
        memory: MemoryCache,
        shared: SharedTier | None = None,
        fingerprint: bytes = b"",
    ) -> None:
        """``fingerprint``: what else decides the findings (``fingerprint.fingerprint``);
        entries written under another one are misses."""
        self._secret = secret
        self._fingerprint = fingerprint
        self.memory = memory
        self.shared = shared

    def key(self, scope: CacheScope, text: str) -> bytes:
        return cache_key(self._secret, scope, text, self._fingerprint)

    async def lookup(self, keys: Mapping[bytes, int]) -> dict[bytes, tuple[Entity, ...]]:
        """The cached spans of each key whose entry is valid for a text of the given length."""
        found: dict[bytes, tuple[Entity, ...]] = {}
        for key, length in keys.items():
            value = self.memory.get(key)
            entities = None if value is None else decode_entities(value, length)
            if entities is not None:
                found[key] = entities
        missing = [key for key in keys if key not in found]
        if self.shared is None or not missing:
            return found
        for key, value in (await self.shared.get_many(missing)).items():
            entities = decode_entities(value, keys[key]) if key in keys else None
            if entities is not None:
                found[key] = entities
                self.memory.put(key, value)
        return found

    def get_starts(self, text: str, max_chars: int) -> list[int] | None:
        """Chunk starts remembered for ``text`` (memory tier only; the caller validates)."""
        value = self.memory.get(self._starts_key(text, max_chars))
        if value is None:
            return None
        try:
            starts = json.loads(value)
        except ValueError:
            return None
        if not isinstance(starts, list) or not all(type(s) is int for s in starts):
            return None
        return starts

    def put_starts(self, text: str, max_chars: int, starts: Sequence[int]) -> None:
        value = json.dumps(list(starts), separators=(",", ":")).encode("ascii")
        self.memory.put(self._starts_key(text, max_chars), value)

    def _starts_key(self, text: str, max_chars: int) -> bytes:
        scope = CacheScope("", "chunking", str(max_chars), "", "")
        return cache_key(self._secret, scope, text, self._fingerprint)

    def store(self, results: Mapping[bytes, Sequence[Entity]]) -> None:
        """Stores complete results (the caller checks coverage) in every tier."""
        encoded = {key: encode_entities(entities) for key, entities in results.items()}
        for key, value in encoded.items():
            self.memory.put(key, value)
        if self.shared is not None and encoded:
            self.shared.put_many(encoded)

    async def close(self) -> None:
        if self.shared is not None:
            await self.shared.close()
