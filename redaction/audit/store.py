"""The audit trail's one I/O seam: append blobs in one container, through ``azure-storage-blob``
(async). The only module that imports the Storage SDK; its errors become ``AuditStoreError``
here. The SDK's own retries are off: the trail decides what to try again, within its budget.

Appends name the position they expect to start at, so an append whose answer was lost and is
sent again cannot land twice: the second one is refused, and the blob's size says whether the
first one landed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from azure.core.exceptions import AzureError, HttpResponseError, ResourceExistsError

if TYPE_CHECKING:  # the SDK is imported only when an audit store is built (cold start)
    from azure.storage.blob.aio import ContainerClient

T = TypeVar("T")


class AuditError(Exception):
    """Base of the audit trail's errors."""


class AuditStoreError(AuditError):
    """The store could not be reached, or refused an operation (names the operation only)."""


class AppendConflictError(AuditStoreError):
    """The blob does not end where this writer's previous append left it."""


class AuditStore(Protocol):
    async def prepare(self) -> None:
        """Make sure the container exists (only a local store may create it)."""

    async def create(self, name: str) -> None:
        """A new, empty append blob (an existing blob of that name is left as it is)."""

    async def append(self, name: str, data: bytes, position: int) -> None:
        """Append ``data`` where the blob is ``position`` bytes long."""

    async def names(self, prefix: str = "") -> list[str]: ...

    async def read(self, name: str) -> bytes: ...

    async def close(self) -> None: ...


class BlobAuditStore:
    def __init__(
        self, container: ContainerClient, timeout_s: float, *, may_create: bool = False
    ) -> None:
        self._container = container
        self._timeout_s = timeout_s
        self._may_create = may_create
        self._credential: Any = None

    @classmethod
    def from_settings(
        cls,
        container: str,
        *,
        account_url: str | None = None,
        connection_string: str | None = None,
        timeout_s: float = 5.0,
    ) -> BlobAuditStore:
        """A connection string (local: Azurite) wins; else ``account_url`` with the managed
        identity (developer credentials outside Azure)."""
        from azure.storage.blob.aio import ContainerClient

        options: dict[str, Any] = {
            "retry_total": 0,
            "connection_timeout": timeout_s,
            "read_timeout": timeout_s,
        }
        if connection_string:
            client = ContainerClient.from_connection_string(connection_string, container, **options)
            return cls(client, timeout_s, may_create=True)
        if not account_url:
            raise AuditStoreError("no PII_AUDIT_ACCOUNT_URL or PII_AUDIT_CONNECTION_STRING")
        from azure.identity.aio import DefaultAzureCredential

        credential = DefaultAzureCredential()
        store = cls(ContainerClient(account_url, container, credential, **options), timeout_s)
        store._credential = credential
        return store

    async def prepare(self) -> None:
        if not self._may_create:
            return
        try:
            await self._call("create the container", self._container.create_container())
        except AuditStoreError as error:
            if not isinstance(error.__cause__, ResourceExistsError):
                raise

    async def create(self, name: str) -> None:
        blob = self._container.get_blob_client(name)
        try:
            await self._call("create a blob", blob.create_append_blob(if_none_match="*"))
        except AuditStoreError as error:
            if not isinstance(error.__cause__, ResourceExistsError):
                raise

    async def append(self, name: str, data: bytes, position: int) -> None:
        blob = self._container.get_blob_client(name)
        try:
            await self._call(
                "append", blob.append_block(data, len(data), appendpos_condition=position)
            )
        except AuditStoreError as error:
            if _error_code(error.__cause__) != "AppendPositionConditionNotMet":
                raise
            properties = await self._call("read a blob's size", blob.get_blob_properties())
            if properties.size != position + len(data):  # else: the earlier attempt landed
                raise AppendConflictError("the blob does not end where it was left") from None

    async def names(self, prefix: str = "") -> list[str]:
        async def collect() -> list[str]:
            found = self._container.list_blob_names(name_starts_with=prefix or None)
            return [name async for name in found]

        return await self._call("list blobs", collect(), scale=20)

    async def read(self, name: str) -> bytes:
        async def download() -> bytes:
            stream = await self._container.download_blob(name)
            return await stream.readall()

        return await self._call("read a blob", download(), scale=20)

    async def close(self) -> None:
        await self._container.close()
        if self._credential is not None:
            await self._credential.close()

    async def _call(self, what: str, operation: Awaitable[T], scale: float = 1) -> T:
        """Awaits ``operation`` within the store's timeout; every failure is an
        ``AuditStoreError`` whose cause is the SDK's error."""
        try:
            return await asyncio.wait_for(operation, self._timeout_s * scale)
        except TimeoutError as error:
            raise AuditStoreError(f"could not {what}: timed out") from error
        except AzureError as error:
            raise AuditStoreError(f"could not {what}: {_describe(error)}") from error
        except OSError as error:
            raise AuditStoreError(f"could not {what}: {type(error).__name__}") from error


def _error_code(error: BaseException | None) -> str | None:
    code = getattr(error, "error_code", None) if isinstance(error, HttpResponseError) else None
    return str(getattr(code, "value", code)) if code else None  # a StorageErrorCode or a str


def _describe(error: AzureError) -> str:
    if isinstance(error, HttpResponseError):
        return f"HTTP {error.status_code} {_error_code(error) or ''}".strip()
    return type(error).__name__
