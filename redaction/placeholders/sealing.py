"""Restore tokens: the placeholder → original mapping sealed with AES-256-GCM.

A token is ``pr1.<kid>.<base64url(nonce || ciphertext)>``. The plaintext is JSON
``{"exp": <unix seconds>, "m": {"<Person_123456>": "Alice", ...}}``. The associated data binds
the token to its format version, key id, tenant and correlation id, so a token presented for
another tenant or request fails authentication exactly like a tampered one. ``kid`` is derived
from the key (HMAC, so it reveals nothing about it); keys listed as previous still open tokens,
which lets operators rotate ``PII_RESTORE_KEY`` without breaking requests in flight.

Every way a token can fail raises the same ``InvalidRestoreTokenError`` with the same message: the
caller learns nothing about why (wrong key, expired, tampered, other tenant).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from redaction.errors import RequestError

VERSION = "pr1"
KEY_BYTES = 32
NONCE_BYTES = 12
MAX_TOKEN_CHARS = 4 * 1024 * 1024
TOKEN_PROBLEM = "the restore token is not valid for this request"


class InvalidRestoreTokenError(RequestError):
    """400 for any token that does not open: the message never says why."""

    code = "InvalidRestoreToken"

    def __init__(self) -> None:
        super().__init__(TOKEN_PROBLEM, [{"field": "restore_token"}])


def decode_key(encoded: str) -> bytes:
    """A 32-byte key from its base64 (standard or URL-safe) form; ``ValueError`` otherwise."""
    text = encoded.strip()
    try:
        key = base64.b64decode(
            text + "=" * (-len(text) % 4), altchars=_altchars(text), validate=True
        )
    except (binascii.Error, ValueError):
        raise ValueError("must be base64") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"must decode to {KEY_BYTES} bytes")
    return key


def _altchars(text: str) -> bytes | None:
    return b"-_" if ("-" in text or "_" in text) else None


def key_id(key: bytes) -> str:
    """A short public name for ``key``: an HMAC of a constant, so it says nothing about the key."""
    digest = hmac.new(key, b"pii-restore-key-id", hashlib.sha256).digest()
    return _b64(digest[:6])


@dataclass(frozen=True)
class Sealer:
    """Seals and opens restore tokens. ``previous`` keys only open; ``current`` also seals."""

    current: bytes
    previous: Sequence[bytes] = ()
    ttl_s: float = 900.0
    clock: Callable[[], float] = field(default=time.time)

    def __post_init__(self) -> None:
        # AESGCM would take a 16- or 24-byte key and silently seal with AES-128 or AES-192.
        for key in (self.current, *self.previous):
            if not isinstance(key, bytes) or len(key) != KEY_BYTES:
                raise ValueError(
                    f"a restore key must be {KEY_BYTES} bytes (AES-256); "
                    "decode the base64 of PII_RESTORE_KEY with decode_key()"
                )

    def seal(self, mapping: Mapping[str, str], tenant: str | None, correlation: str | None) -> str:
        kid = key_id(self.current)
        payload = {"exp": int(self.clock() + self.ttl_s), "m": dict(mapping)}
        plaintext = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.current).encrypt(
            nonce, plaintext.encode("utf-8"), _aad(kid, tenant, correlation)
        )
        return f"{VERSION}.{kid}.{_b64(nonce + sealed)}"

    def open(self, token: str, tenant: str | None, correlation: str | None) -> dict[str, str]:
        """The mapping of a valid, unexpired token bound to ``tenant`` and ``correlation``."""
        version, kid, blob = _split(token)
        key = self._key(kid)
        if version != VERSION or key is None or len(blob) <= NONCE_BYTES:
            raise InvalidRestoreTokenError
        try:
            plaintext = AESGCM(key).decrypt(
                blob[:NONCE_BYTES], blob[NONCE_BYTES:], _aad(kid, tenant, correlation)
            )
        except InvalidTag:
            raise InvalidRestoreTokenError from None
        return _mapping(plaintext, self.clock())

    def _key(self, kid: str) -> bytes | None:
        for key in (self.current, *self.previous):
            if hmac.compare_digest(key_id(key), kid):
                return key
        return None


def _split(token: str) -> tuple[str, str, bytes]:
    parts = token.split(".") if len(token) <= MAX_TOKEN_CHARS else []
    if len(parts) != 3:
        raise InvalidRestoreTokenError
    try:
        blob = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
    except (binascii.Error, ValueError):
        raise InvalidRestoreTokenError from None
    return parts[0], parts[1], blob


def _mapping(plaintext: bytes, now: float) -> dict[str, str]:
    # Authenticated, so it was written by ``seal``; still checked rather than trusted blindly.
    payload = json.loads(plaintext)
    mapping = payload.get("m") if isinstance(payload, dict) else None
    expiry = payload.get("exp") if isinstance(payload, dict) else None
    if not isinstance(mapping, dict) or not isinstance(expiry, int) or now >= expiry:
        raise InvalidRestoreTokenError
    return {str(key): str(value) for key, value in mapping.items()}


def _aad(kid: str, tenant: str | None, correlation: str | None) -> bytes:
    return json.dumps([VERSION, kid, tenant or "", correlation or ""]).encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def derive_key(key: bytes, purpose: str) -> bytes:
    """A separate 32-byte key for ``purpose`` (HKDF-SHA256), so one secret serves several uses."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode())
    return hkdf.derive(key)
