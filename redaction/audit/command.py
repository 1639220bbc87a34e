"""``python -m redaction audit verify``: reads every blob of the audit container (the same
settings as the service) and checks each writer's chain.

Exit status 0 with a summary when the trail is intact; 1 naming the first broken, missing or
reordered entry (blob, line, writer, sequence number); 2 when the store cannot be read.
"""

from __future__ import annotations

import sys
from typing import TextIO

from redaction.audit.keys import AuditKeys
from redaction.audit.store import AuditStore, AuditStoreError
from redaction.audit.verification import verify_store


async def verify(
    store: AuditStore, keys: AuditKeys | None, prefix: str = "", out: TextIO | None = None
) -> int:
    out = out or sys.stdout
    try:
        report = await verify_store(store, keys, prefix)
    except AuditStoreError as error:
        print(f"audit verify: {error}", file=sys.stderr)
        return 2
    finally:
        await store.close()
    if report.problem is not None:
        print(f"audit verify: first problem: {report.problem.describe()}", file=out)
        return 1
    print(f"audit verify: {report.summary()}", file=out)
    return 0
