"""The detection cache: keys, values, and the bounded in-process tier (pure, fake clock)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import pytest

from redaction.cache.detection import (
    CacheScope,
    DetectionCache,
    MemoryCache,
    cache_key,
    decode_entities,
    encode_entities,
    entry_size,
)
from redaction.entities import Entity

SCOPE = CacheScope("tenant-a", "azure", "2024-11-01", "en", "")
TEXT = "Mail me at alice@example.com"
ENTITIES = (Entity(11, 17, "Email", 0.8),)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_keys_are_hmacs_scoped_by_every_field() -> None:
    key = cache_key(b"secret", SCOPE, TEXT)
    assert len(key) == 32
    assert TEXT.encode() not in key
    assert key == cache_key(b"secret", SCOPE, TEXT)
    others = [
        cache_key(b"other", SCOPE, TEXT),
        cache_key(b"secret", SCOPE, TEXT + " "),
        *(
            cache_key(b"secret", replace(SCOPE, **{name: "x"}), TEXT)
            for name in ("tenant", "detector", "api_version", "language", "domain")
        ),
    ]
    assert key not in others
    assert len(set(others)) == len(others)


def test_scope_fields_cannot_run_into_each_other() -> None:
    a = CacheScope("ab", "c", "", "", "")
    b = CacheScope("a", "bc", "", "", "")
    assert cache_key(b"s", a, "t") != cache_key(b"s", b, "t")


def test_lone_surrogates_are_hashed_not_refused() -> None:
    assert len(cache_key(b"s", SCOPE, "broken \ud800 text")) == 32


def test_values_hold_spans_never_text() -> None:
    value = encode_entities(ENTITIES)
    assert b"alice" not in value
    assert decode_entities(value, len(TEXT)) == ENTITIES
    assert decode_entities(encode_entities(()), 0) == ()


@pytest.mark.parametrize(
    "value",
    [
        b"not json",
        b"{}",
        b"[[1,2,3]]",
        b'[["1",2,"Email",0.5]]',
        b'[[0,0,"Email",0.5]]',
        b'[[20,17,"Email",0.5]]',
        b'[[-1,3,"Email",0.5]]',
        b'[[true,3,"Email",0.5]]',
    ],
)
def test_malformed_or_out_of_range_values_are_misses(value: bytes) -> None:
    assert decode_entities(value, len(TEXT)) is None


def test_lru_evicts_the_least_recently_used_beyond_max_entries() -> None:
    cache = MemoryCache(max_entries=2, max_bytes=10_000, ttl_s=60)
    cache.put(b"a", b"1")
    cache.put(b"b", b"2")
    assert cache.get(b"a") == b"1"
    cache.put(b"c", b"3")
    assert (cache.get(b"a"), cache.get(b"b"), cache.get(b"c")) == (b"1", None, b"3")
    assert len(cache) == 2


def test_bytes_bound_holds_after_every_put() -> None:
    per_entry = entry_size(b"k" * 32, b"v" * 100)
    cache = MemoryCache(max_entries=1000, max_bytes=per_entry * 3 + 10, ttl_s=60)
    for index in range(50):
        cache.put(index.to_bytes(32, "big"), b"v" * 100)
        assert cache.size_bytes <= cache.max_bytes
    assert len(cache) == 3
    assert cache.size_bytes == per_entry * 3


def test_an_entry_larger_than_the_bound_is_not_stored() -> None:
    cache = MemoryCache(max_entries=10, max_bytes=300, ttl_s=60)
    cache.put(b"k", b"v" * 1000)
    assert len(cache) == 0
    assert cache.size_bytes == 0


def test_entries_expire_after_the_ttl() -> None:
    clock = Clock()
    cache = MemoryCache(max_entries=10, max_bytes=10_000, ttl_s=5, clock=clock)
    cache.put(b"k", b"v")
    clock.now = 4.9
    assert cache.get(b"k") == b"v"
    clock.now = 5.0
    assert cache.get(b"k") is None
    assert cache.size_bytes == 0


def test_replacing_a_key_keeps_the_accounting_exact() -> None:
    cache = MemoryCache(max_entries=10, max_bytes=10_000, ttl_s=60)
    cache.put(b"k", b"short")
    cache.put(b"k", b"much longer value")
    assert cache.size_bytes == entry_size(b"k", b"much longer value")


class DictTier:
    """A shared tier over a dict: the real ``SharedTier`` interface, no Redis."""

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}
        self.closed = False

    async def get_many(self, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        return {key: self.data[key] for key in keys if key in self.data}

    def put_many(self, items: Mapping[bytes, bytes]) -> None:
        self.data.update(items)

    async def close(self) -> None:
        self.closed = True


async def test_shared_hits_fill_the_memory_tier() -> None:
    shared = DictTier()
    writer = DetectionCache(b"s", MemoryCache(10, 10_000, 60), shared)
    key = writer.key(SCOPE, TEXT)
    writer.store({key: ENTITIES})
    reader = DetectionCache(b"s", MemoryCache(10, 10_000, 60), shared)
    assert await reader.lookup({key: len(TEXT)}) == {key: ENTITIES}
    assert reader.memory.get(key) is not None
    await reader.close()
    assert shared.closed


async def test_an_entry_that_does_not_fit_the_text_is_a_miss() -> None:
    cache = DetectionCache(b"s", MemoryCache(10, 10_000, 60))
    key = cache.key(SCOPE, TEXT)
    cache.store({key: ENTITIES})
    assert await cache.lookup({key: 5}) == {}


def test_chunk_starts_are_remembered_without_text() -> None:
    from redaction.planning.documents import chunk_starts_valid

    cache = DetectionCache(b"s", MemoryCache(10, 10_000, 60))
    text = "long text " * 900
    assert cache.get_starts(text, 5000) is None
    cache.put_starts(text, 5000, [0, 4990])
    assert cache.get_starts(text, 5000) == [0, 4990]
    assert cache.get_starts(text, 4000) is None
    assert chunk_starts_valid([0, 4990], len(text), 5000)
    assert not chunk_starts_valid([0, 6000], len(text), 5000)
    assert not chunk_starts_valid([10], len(text), 50_000)
    assert not chunk_starts_valid([], len(text), 50_000)
