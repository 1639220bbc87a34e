"""JSON as this service reads it, everywhere: no duplicate keys, no NaN or Infinity, no number too
large to be finite. The request body and JSON inside strings (tool-call arguments) are read by
the same rules, so the scanner and the model never see different values."""

from __future__ import annotations

import json
import math
from typing import Any


class DuplicateKeyError(ValueError):
    """An object holds the same key twice (parsers disagree on which value wins)."""


def loads(text: str) -> Any:
    """``text`` parsed, or ``ValueError`` (``DuplicateKeyError``, ``json.JSONDecodeError`` or a
    plain ``ValueError`` for a constant or an overflowing number); ``RecursionError`` when it
    nests too deeply for the parser."""
    return json.loads(
        text, object_pairs_hook=_unique_pairs, parse_constant=_no_constant, parse_float=_finite
    )


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise DuplicateKeyError("duplicate key")
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite(literal: str) -> float:
    # 1e400 would parse to inf and be written back as `Infinity`, which is not JSON.
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value
