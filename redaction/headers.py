"""An HTTP header by name, case-insensitively, from any framework's mapping of headers."""

from __future__ import annotations

from collections.abc import Mapping


def header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header ``name`` (lower case), or None."""
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None
