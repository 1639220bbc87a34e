"""Process settings, read once from the environment (app settings in Azure) into typed values."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from redaction.errors import SettingsError
from redaction.placeholders.sealing import decode_key
from redaction.policy.tenant import PolicyBook, load_named_policies


class Settings(BaseSettings):
    """Every setting the service reads. Names are the environment variables, case-insensitive."""

    model_config = SettingsConfigDict(
        extra="ignore", frozen=True, case_sensitive=False, env_ignore_empty=True
    )

    language_endpoint: str | None = None
    language_api_key: SecretStr | None = None
    # GA api-versions checked against the REST spec (detectors/language_client.py), newest first.
    language_api_version: Literal["2025-11-01", "2024-11-01"] = "2025-11-01"
    language_domain: Literal["none", "phi"] | None = None
    pii_detector: Literal["auto", "azure", "local"] = "auto"

    pii_max_doc_chars: int = Field(5000, ge=100, le=5120)
    pii_docs_per_batch: int = Field(5, ge=1, le=5)
    pii_max_batches: int = Field(15, ge=1, le=1000)
    pii_batch_concurrency: int = Field(15, ge=1, le=100)
    pii_instance_concurrency: int = Field(32, ge=1, le=1000)
    pii_attempt_timeout_s: float = Field(10.0, gt=0, le=230)
    pii_deadline_s: float = Field(85.0, gt=0, le=230)
    pii_max_attempts: int = Field(4, ge=1, le=20)
    pii_backoff_base_s: float = Field(0.5, ge=0, le=60)
    pii_backoff_max_s: float = Field(8.0, ge=0, le=120)
    # Language calls per minute (docs/settings.md, per pricing tier): per instance, or for every
    # instance together with REDIS_URL. Unset: unlimited.
    pii_language_rate_per_minute: int | None = Field(None, ge=1, le=1_000_000)
    # Adaptive concurrency of Language calls (AIMD): a 429 halves the calls in flight and pauses
    # new ones for its Retry-After; successes add them back up to PII_INSTANCE_CONCURRENCY.
    pii_language_adaptive: bool = True

    pii_max_body_bytes: int = Field(8 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    pii_max_depth: int = Field(64, ge=4, le=1000)
    pii_max_strings: int = Field(1_000_000, ge=1, le=10_000_000)

    pii_min_score: float = Field(0.5, ge=0, le=1)
    pii_phone_regions: str = "US,GB,DE,FR,ES,IT,NL,CA,AU,IN"
    pii_ner_model: str | None = None
    # Person names from name lists and context (embedded/names.py); off: not accurate enough yet.
    pii_embedded_names: bool = False
    # US and UK street addresses (embedded/addresses.py); off: needs the [addresses] extra.
    pii_embedded_addresses: bool = False
    # Threads for CPU-bound scanning (embedded detector, tenant patterns): redaction/workers.py.
    pii_cpu_workers: int = Field(2, ge=1, le=64)

    # Under `serve`, the function keys: one opens /redact, the other /restore (never both).
    redaction_api_key: SecretStr | None = None
    redaction_restore_api_key: SecretStr | None = None

    pii_cache_enabled: bool = True
    pii_cache_max_entries: int = Field(100_000, ge=1, le=100_000_000)
    pii_cache_max_bytes: int = Field(64 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024 * 1024)
    pii_cache_ttl_s: float = Field(3600.0, gt=0, le=30 * 24 * 3600)
    pii_cache_secret: SecretStr | None = None
    redis_url: SecretStr | None = None
    pii_redis_timeout_s: float = Field(0.05, gt=0, le=5)
    pii_packing_enabled: bool = True

    # Hedging (docs/cost.md#hedging): a duplicate of a batch that runs past the observed quantile.
    pii_hedge_enabled: bool = False
    pii_hedge_quantile: float = Field(0.95, ge=0.5, le=0.999)
    pii_hedge_min_samples: int = Field(100, ge=10, le=100_000)
    pii_hedge_max_ratio: float = Field(0.1, gt=0, le=1)

    @field_validator("pii_ner_model")
    @classmethod
    def _ner_model_is_installed(cls, value: str | None) -> str | None:
        """Checked here, without importing spaCy, so a missing extra stops start-up."""
        if not value:
            return None
        if not _importable("spacy"):
            raise ValueError("needs spaCy, which is not installed: pip install '.[ner]'")
        if not Path(value).is_dir() and not _importable(value):
            raise ValueError(
                "names no installed spaCy model package (install one, e.g. "
                "python -m spacy download en_core_web_sm, and set its name)"
            )
        return value

    @field_validator("pii_embedded_names")
    @classmethod
    def _name_lists_are_installed(cls, value: bool) -> bool:
        """The name lists and the tagger's runtime are an extra (about 25 MB): a missing one
        stops start-up."""
        if value and not all(_importable(m) for m in ("faker", "names", "pycrfsuite")):
            raise ValueError("needs the name lists: pip install '.[names]'")
        return value

    @field_validator("pii_embedded_addresses")
    @classmethod
    def _address_lists_are_installed(cls, value: bool) -> bool:
        """The address lists are an extra: a missing one stops start-up."""
        if value and not all(_importable(m) for m in ("usaddress", "zipcodes", "faker")):
            raise ValueError("needs the address lists: pip install '.[addresses]'")
        return value

    @field_validator("language_endpoint")
    @classmethod
    def _endpoint_is_https_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @property
    def detector_kind(self) -> Literal["azure", "local"]:
        if self.pii_detector == "auto":
            return "azure" if self.language_endpoint else "local"
        return self.pii_detector

    @property
    def phone_regions(self) -> tuple[str, ...]:
        return tuple(r.strip().upper() for r in self.pii_phone_regions.split(",") if r.strip())

    # Placeholder mode (docs/pseudonymization.md): base64 of 32 random bytes each.
    pii_restore_key: SecretStr | None = None
    pii_restore_keys_previous: SecretStr | None = None
    pii_restore_token_ttl_s: float = Field(900.0, ge=1, le=7 * 24 * 3600)
    pii_pseudonym_key: SecretStr | None = None

    # A bad or unresolved key does not stop start-up: it turns placeholder mode and /restore off
    # (503 with the reason) while /redact in mask mode keeps working and /health says degraded.

    @property
    def placeholder_problem(self) -> str | None:
        """Why placeholder mode is off although a key is set; None when every key set is usable
        (or none is set: then placeholder mode is simply not configured)."""
        for name, value in (
            ("PII_RESTORE_KEY", self.pii_restore_key),
            ("PII_RESTORE_KEYS_PREVIOUS", self.pii_restore_keys_previous),
            ("PII_PSEUDONYM_KEY", self.pii_pseudonym_key),
        ):
            problem = _key_problem(value.get_secret_value()) if value is not None else None
            if problem is not None:
                return f"{name} {problem}"
        return None

    @property
    def cache_secret_problem(self) -> str | None:
        """Why ``PII_CACHE_SECRET`` is not used although set (the cache then runs as without it:
        a per-process secret, no shared Redis tier)."""
        secret = self.pii_cache_secret
        if secret is not None and is_unresolved_reference(secret.get_secret_value()):
            return f"PII_CACHE_SECRET {UNRESOLVED}"
        return None

    @property
    def restore_keys(self) -> tuple[bytes, ...]:
        """The current restore key first, then the previous ones; empty when unset or when one
        of them is unusable (``placeholder_problem``)."""
        if self.pii_restore_key is None or self.placeholder_problem is not None:
            return ()
        previous = self.pii_restore_keys_previous
        items = previous.get_secret_value().split(",") if previous is not None else []
        return tuple(decode_key(item) for item in [self.pii_restore_key.get_secret_value(), *items])

    # Tenant policies (docs/policy.md): named policies as a JSON object, inline and/or in a file.
    pii_policies: str | None = None
    pii_policies_file: str | None = None
    pii_policy_cache_size: int = Field(256, ge=1, le=100_000)
    pii_policy_text_timeout_ms: float = Field(100.0, gt=0, le=60_000)
    pii_policy_request_budget_ms: float = Field(1000.0, gt=0, le=230_000)

    # Audit trail (docs/security.md#audit-trail): on with an account URL or a connection string.
    pii_audit_account_url: str | None = None
    pii_audit_connection_string: SecretStr | None = None
    pii_audit_container: str = Field("pii-audit", pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
    pii_audit_hmac_key: SecretStr | None = None
    pii_audit_required: bool = False
    pii_audit_queue_size: int = Field(10_000, ge=1, le=1_000_000)
    pii_audit_timeout_ms: float = Field(2000.0, gt=0, le=60_000)

    @field_validator("pii_audit_account_url")
    @classmethod
    def _audit_url_is_https(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value or None

    @property
    def audit_enabled(self) -> bool:
        return bool(self.pii_audit_account_url or self.pii_audit_connection_string)

    @property
    def audit_key_problem(self) -> str | None:
        """Why the audit trail is off although a store is set: ``PII_AUDIT_HMAC_KEY`` unset,
        an unresolved Key Vault reference or not a key. Unless ``PII_AUDIT_REQUIRED`` (then
        start-up stops), only the trail is off and ``/health`` says degraded."""
        if not self.audit_enabled:
            return None
        key = self.pii_audit_hmac_key
        if key is None:
            return "PII_AUDIT_HMAC_KEY is not set"
        problem = _key_problem(key.get_secret_value())
        return f"PII_AUDIT_HMAC_KEY {problem}" if problem is not None else None

    @model_validator(mode="after")
    def _audit_and_keys_are_consistent(self) -> Settings:
        if self.pii_audit_required and self.audit_key_problem is not None:
            # fail closed: no answer may leave without its record, and none can be made
            raise ValueError(
                f"{self.audit_key_problem}: PII_AUDIT_REQUIRED answers nothing without its record"
            )
        if self.pii_audit_required and not self.audit_enabled:
            raise ValueError(
                "PII_AUDIT_REQUIRED: needs PII_AUDIT_ACCOUNT_URL or PII_AUDIT_CONNECTION_STRING"
            )
        redact, restore = self.redaction_api_key, self.redaction_restore_api_key
        if redact and restore and redact.get_secret_value() == restore.get_secret_value():
            raise ValueError("REDACTION_RESTORE_API_KEY: must differ from REDACTION_API_KEY")
        return self

    @model_validator(mode="after")
    def _policies_compile(self) -> Settings:
        """A bad named policy stops start-up; the message names the policy, never a pattern."""
        try:
            PolicyBook(load_named_policies(self.pii_policies, self.pii_policies_file))
        except SettingsError as error:
            raise ValueError(str(error).removeprefix("invalid settings: ")) from None
        return self


KEY_VAULT_REFERENCE = "@microsoft.keyvault("
UNRESOLVED = (
    "is an unresolved Key Vault reference (the secret is missing, or the function's identity "
    "cannot read it yet: Key Vault Secrets User)"
)


def is_unresolved_reference(value: str) -> bool:
    """App Service leaves ``@Microsoft.KeyVault(...)`` as the literal value when it cannot
    resolve the reference."""
    return value.strip().lower().startswith(KEY_VAULT_REFERENCE)


def _key_problem(value: str) -> str | None:
    """What is wrong with a comma-separated list of base64 keys, never repeating the value."""
    for item in value.split(","):
        if is_unresolved_reference(item):
            return UNRESOLVED
        try:
            decode_key(item)
        except ValueError as error:
            return f"is not a usable key ({error}; openssl rand -base64 32 makes one)"
    return None


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # "a.b" whose "a" is missing; an empty or relative name
        return False


def load_settings() -> Settings:
    """Reads the environment; a bad value raises ``SettingsError`` naming the setting only."""
    try:
        settings = Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc']).upper()}: ".removeprefix(": ")
            + item["msg"].removeprefix("Value error, ")
            for item in error.errors(include_input=False, include_url=False)
        )
        raise SettingsError(f"invalid settings: {problems}") from None
    if settings.detector_kind == "azure" and not settings.language_endpoint:
        raise SettingsError("invalid settings: PII_DETECTOR=azure needs LANGUAGE_ENDPOINT")
    return settings
