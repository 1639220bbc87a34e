"""The audit trail: one record per ``/redact`` and ``/restore`` (and per refusal of either),
appended to Azure Blob Storage append blobs, hash-chained per writer with signed checkpoints.

Records never hold text, entity values or keys: counts, categories, ids, the policy's name, hash,
version and author, and keyed hashes (HMAC) of the request and answer bodies.

- ``records``: what one record says (pure).
- ``keys``: the keys derived from ``PII_AUDIT_HMAC_KEY`` (body digests, checkpoint signatures).
- ``chain``: entries hash-chained per writer, with periodic signed checkpoints (pure).
- ``layout``: writer ids and blob names (one blob per writer per hour).
- ``store``: the one I/O seam, append blobs through ``azure-storage-blob`` (async).
- ``trail``: the bounded queue, flushed in batches off the request path; drops are counted.
- ``verification``: reads a container back and names the first broken, missing or reordered entry.
- ``command``: ``python -m redaction audit verify``.

Errors::

    AuditError
    └── AuditStoreError           the store could not be reached or refused a write
        └── AppendConflictError   the blob is not where this writer left it
"""
