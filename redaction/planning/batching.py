"""Grouping documents into detector calls within the service's limits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from redaction.errors import PayloadTooLargeError

T = TypeVar("T")


def plan_batches(documents: Sequence[T], per_batch: int, max_batches: int) -> list[list[T]]:
    """Consecutive batches of at most ``per_batch``; refuses more than ``max_batches``."""
    batches = [list(documents[i : i + per_batch]) for i in range(0, len(documents), per_batch)]
    if len(batches) > max_batches:
        raise PayloadTooLargeError(
            f"the request needs {len(documents)} documents in {len(batches)} batches; "
            f"at most {max_batches} batches of {per_batch} documents are allowed",
            [{"field": "body", "documents": len(documents), "limit": max_batches * per_batch}],
        )
    return batches
