"""Where entries go: one append blob per writer per hour, ``YYYY/MM/DD/HH/<writer>.jsonl``.

A writer is one process: its id is the instance (``WEBSITE_INSTANCE_ID`` in Azure, else the host
name) and a random part, so a restarted process starts a chain of its own. Names sort by hour,
so a writer's blobs read in name order are its entries in the order written.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
from datetime import UTC, datetime

SUFFIX = ".jsonl"
_UNSAFE = re.compile(r"[^A-Za-z0-9-]+")
_NAME = re.compile(r"^\d{4}/\d{2}/\d{2}/\d{2}/(?P<writer>[A-Za-z0-9-]+)\.jsonl$")


def new_writer_id(instance: str | None = None) -> str:
    base = instance or os.environ.get("WEBSITE_INSTANCE_ID") or socket.gethostname() or "local"
    safe = _UNSAFE.sub("-", base).strip("-")[:32] or "local"
    return f"{safe}-{secrets.token_hex(4)}"


def blob_name(writer: str, when: datetime) -> str:
    return f"{when.astimezone(UTC):%Y/%m/%d/%H}/{writer}{SUFFIX}"


def writer_of(name: str) -> str | None:
    """The writer a blob belongs to, or None for a name this layout never writes."""
    match = _NAME.match(name)
    return match["writer"] if match else None
