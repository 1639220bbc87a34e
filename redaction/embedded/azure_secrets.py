"""Azure secrets: connection strings, shared access signatures and storage account keys."""

from __future__ import annotations

from redaction.embedded.context import Context, cues

STORAGE_KEY = "AzureStorageAccountKey"
STORAGE_GENERIC = "AzureStorageAccountGeneric"
SAS = "AzureSAS"
REDIS = "AzureRedisCacheString"
CATEGORIES = frozenset(
    {
        STORAGE_KEY,
        STORAGE_GENERIC,
        SAS,
        REDIS,
        "AzureDocumentDBAuthKey",
        "AzureServiceBusString",
        "AzureIoTConnectionString",
        "AzureIAASDatabaseConnectionAndSQLString",
        "SQLServerConnectionString",
    }
)
SECRET_SCORE = 0.9
_KEY_CUES = cues("accountkey account_key storage key access_key")


def connection_category(value: str) -> str | None:
    """The Azure category of a ``key=value;...`` connection string that holds a secret."""
    fields = _fields(value)
    if "accountkey" in fields:
        if "documents.azure.com" in fields.get("accountendpoint", ""):
            return "AzureDocumentDBAuthKey"
        return STORAGE_KEY
    if "sharedaccesskey" in fields:
        if fields.get("endpoint", "").startswith("sb://"):
            return "AzureServiceBusString"
        if "azure-devices.net" in fields.get("hostname", ""):
            return "AzureIoTConnectionString"
        return None
    if "password" in fields or "pwd" in fields:
        server = fields.get("server", "") + fields.get("data source", "")
        if "database.windows.net" in server:
            return "AzureIAASDatabaseConnectionAndSQLString"
        return "SQLServerConnectionString"
    return None


def storage_key_category(context: Context) -> str:
    """A bare 88-character storage key: named a key when the words around say so."""
    return STORAGE_KEY if context.has(_KEY_CUES) else STORAGE_GENERIC


def _fields(value: str) -> dict[str, str]:
    pairs = (part.partition("=") for part in value.split(";") if "=" in part)
    return {key.strip().lower(): field for key, _, field in pairs}
