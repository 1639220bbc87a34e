"""The keys of the audit trail, derived from one secret (``PII_AUDIT_HMAC_KEY``): one keys the
digests of request and answer bodies, the other signs checkpoints. Neither is ever written."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

BODY_LABEL = b"pii-audit-body-v1"
CHECKPOINT_LABEL = b"pii-audit-checkpoint-v1"


@dataclass(frozen=True, repr=False)
class AuditKeys:
    body: bytes
    checkpoint: bytes

    @classmethod
    def derive(cls, secret: bytes) -> AuditKeys:
        return cls(_derive(secret, BODY_LABEL), _derive(secret, CHECKPOINT_LABEL))

    def digest(self, body: bytes) -> str:
        """HMAC-SHA256 of a body: equal bodies match, nobody without the key can test a guess."""
        return hmac.new(self.body, body, hashlib.sha256).hexdigest()

    def sign(self, entry_hash: str) -> str:
        return hmac.new(self.checkpoint, entry_hash.encode("ascii"), hashlib.sha256).hexdigest()

    def signed(self, entry_hash: str, signature: str) -> bool:
        return hmac.compare_digest(self.sign(entry_hash), signature)


def _derive(secret: bytes, label: bytes) -> bytes:
    return hmac.new(secret, label, hashlib.sha256).digest()
