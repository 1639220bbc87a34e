"""Azurite (the Azure Storage emulator, from npm) for the audit tests: the real Blob protocol.

`make test` and `.ci/run` start it on 127.0.0.1:10000 (in memory, telemetry off). Without it the
tests that need it skip, unless AUDIT_REQUIRE_AZURITE=1 (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import secrets
import socket
from urllib.parse import urlsplit

import pytest
from azure.storage.blob.aio import ContainerClient

BLOB_ENDPOINT = os.environ.get("AZURITE_BLOB_ENDPOINT", "http://127.0.0.1:10000/devstoreaccount1")
# Azurite's published development account and key: the same on every machine, not a secret.
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def connection_string(endpoint: str = BLOB_ENDPOINT) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
        f"BlobEndpoint={endpoint};"
    )


def closed_port_connection_string() -> str:
    """A store nobody listens on: every call is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return connection_string(f"http://127.0.0.1:{port}/{DEV_ACCOUNT}")


def azurite_running() -> bool:
    parts = urlsplit(BLOB_ENDPOINT)
    try:
        with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=0.5):
            return True
    except OSError:
        return False


def require_azurite() -> str:
    """The connection string of a running Azurite; skips (or fails in CI) without one."""
    if azurite_running():
        return connection_string()
    message = f"no Azurite at {BLOB_ENDPOINT} (npm install -g azurite; make test starts it)"
    if os.environ.get("AUDIT_REQUIRE_AZURITE") == "1":
        pytest.fail(message)
    pytest.skip(message)


def new_container_name() -> str:
    return f"audit-{secrets.token_hex(6)}"


async def read_container(name: str) -> dict[str, bytes]:
    """Every blob of a container, by name."""
    async with ContainerClient.from_connection_string(connection_string(), name) as container:
        found = {}
        async for blob in container.list_blob_names():
            found[blob] = await (await container.download_blob(blob)).readall()
        return found


async def replace_blob(container_name: str, name: str, data: bytes) -> None:
    """Rewrites an append blob (what the immutability policy forbids in Azure; Azurite has none)."""
    async with ContainerClient.from_connection_string(
        connection_string(), container_name
    ) as container:
        blob = container.get_blob_client(name)
        await blob.delete_blob()
        await blob.create_append_blob()
        if data:
            await blob.append_block(data)
