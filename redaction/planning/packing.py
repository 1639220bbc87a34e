"""Choosing which chunks share a document, so that a request bills the fewest text records.

Azure AI Language bills one text record per started 1,000 characters of each document, so a
40-character message sent alone costs as much as a 1,000-character one. The planner packs chunks
(with a separator between them) into documents of at most ``max_doc_chars`` and picks, among a
few greedy plans, the one with the fewest records, then calls, then documents.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

RECORD_CHARS = 1000
# Above this many chunks only the linear plan runs (best fit is quadratic).
BEST_FIT_LIMIT = 400


@dataclass(frozen=True)
class PackingLimits:
    max_doc_chars: int
    docs_per_batch: int
    separator_chars: int


@dataclass
class _Bin:
    capacity: int
    length: int
    members: list[int]


def billed_records(length: int) -> int:
    """Text records one document of ``length`` characters is billed for."""
    return -(-length // RECORD_CHARS)


def plan_cost(
    lengths: Sequence[int], groups: Sequence[Sequence[int]], limits: PackingLimits
) -> tuple[int, int, int]:
    """``(records, calls, documents)`` of a plan."""
    records = sum(billed_records(_joined(lengths, group, limits)) for group in groups)
    calls = -(-len(groups) // limits.docs_per_batch)
    return records, calls, len(groups)


def pack_chunks(lengths: Sequence[int], limits: PackingLimits) -> list[list[int]]:
    """Groups of indices into ``lengths``, each group one document within ``max_doc_chars``.

    Every length must be at most ``max_doc_chars``. Groups are in order of their first member.
    """
    if any(length > limits.max_doc_chars for length in lengths):
        raise ValueError("a chunk is longer than a document may be")
    if _one_document_is_best(lengths, limits):
        return [list(range(len(lengths)))]
    order = sorted(range(len(lengths)), key=lambda index: -lengths[index])
    plans = [_next_fit(order, lengths, limits)]
    if len(lengths) <= BEST_FIT_LIMIT:
        for capacity in _capacities(limits.max_doc_chars):
            plans.append(_best_fit(order, lengths, limits, capacity))
            if len(plans[-1]) == 1:
                break  # everything fits one document: every larger capacity gives this plan
    best = min(plans, key=lambda groups: plan_cost(lengths, groups, limits))
    return sorted((sorted(group) for group in best), key=lambda group: group[0])


def _one_document_is_best(lengths: Sequence[int], limits: PackingLimits) -> bool:
    """Whether every chunk in one document is the plan the search would pick (the common
    case, a request of a few short texts): it fits, and its separators start no extra record.
    Every plan's documents hold all the characters, so none is billed fewer records than
    ``billed_records(sum(lengths))``; one document also makes the fewest calls and documents."""
    if not lengths:
        return False
    total = sum(lengths)
    joined = total + limits.separator_chars * (len(lengths) - 1)
    return joined <= limits.max_doc_chars and billed_records(joined) == billed_records(total)


@functools.cache
def _capacities(max_doc_chars: int) -> tuple[int, ...]:
    """Record-aligned document sizes to try, and the largest allowed."""
    aligned = range(RECORD_CHARS, max_doc_chars + 1, RECORD_CHARS)
    return tuple(sorted({*aligned, max_doc_chars}))


def _best_fit(
    order: Sequence[int], lengths: Sequence[int], limits: PackingLimits, capacity: int
) -> list[list[int]]:
    """Decreasing best fit into bins of ``capacity``; a longer chunk opens a bin as large as
    the records it is billed for anyway, which smaller chunks may fill for free."""
    bins: list[_Bin] = []
    for index in order:
        length = lengths[index]
        chosen = _tightest(bins, limits.separator_chars + length)
        if chosen is not None:
            chosen.length += limits.separator_chars + length
            chosen.members.append(index)
            continue
        own = max(capacity, billed_records(length) * RECORD_CHARS)
        bins.append(_Bin(min(own, limits.max_doc_chars), length, [index]))
    return [b.members for b in bins]


def _tightest(bins: Sequence[_Bin], size: int) -> _Bin | None:
    """The first of the bins with room for ``size`` more that has the least room."""
    chosen, least = None, 0
    for candidate in bins:
        room = candidate.capacity - candidate.length
        if size <= room and (chosen is None or room < least):
            chosen, least = candidate, room
    return chosen


def _next_fit(
    order: Sequence[int], lengths: Sequence[int], limits: PackingLimits
) -> list[list[int]]:
    """Decreasing next fit into documents of ``max_doc_chars``: linear, for huge requests."""
    bins: list[_Bin] = []
    for index in order:
        length = lengths[index]
        current = bins[-1] if bins else None
        joined = length if current is None else current.length + limits.separator_chars + length
        if current is not None and joined <= current.capacity:
            current.length = joined
            current.members.append(index)
        else:
            bins.append(_Bin(limits.max_doc_chars, length, [index]))
    return [b.members for b in bins]


def _joined(lengths: Sequence[int], group: Sequence[int], limits: PackingLimits) -> int:
    return sum(lengths[index] for index in group) + limits.separator_chars * (len(group) - 1)
