"""Process-wide state: settings, the detector, its HTTP session, the instance-wide gate and the
worker pool for CPU-bound scanning.

Built lazily inside the running event loop (an ``aiohttp.ClientSession`` cannot be created at
import time), once per process, and rebuilt only if the loop changes (tests run one loop each).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import aiohttp

from redaction.audit.chain import Chain
from redaction.audit.keys import AuditKeys
from redaction.audit.layout import new_writer_id
from redaction.audit.store import BlobAuditStore
from redaction.audit.trail import AuditTrail, TrailLimits
from redaction.cache.detection import DetectionCache, MemoryCache, SharedTier
from redaction.cache.fingerprint import LIBRARIES, fingerprint
from redaction.categories import ALL_CATEGORIES
from redaction.detectors.azure_detector import AzureLanguageDetector
from redaction.detectors.budget import AdaptiveConcurrency, CallBudget
from redaction.detectors.credentials import (
    ApiKeyAuth,
    Auth,
    CredentialHealth,
    CredentialWatch,
    TokenAuth,
    default_credential,
    probe_credential,
)
from redaction.detectors.detector import Detector
from redaction.detectors.hedging import DEFAULT_WINDOW, HedgeBudget, HedgedDetector, LatencyTracker
from redaction.detectors.language_client import (
    MODEL_VERSION,
    LanguageClient,
    supports_auto_language,
)
from redaction.detectors.local_detector import DeferredDetector, EmbeddedDetector
from redaction.detectors.retry import RetryPolicy
from redaction.errors import SettingsError
from redaction.models import InputLimits
from redaction.placeholders.pseudonyms import PlaceholderIssuer
from redaction.placeholders.sealing import Sealer, decode_key, derive_key
from redaction.policy.tenant import (
    PolicyBook,
    ScanLimits,
    load_named_policies,
    load_policy_versions,
)
from redaction.scanning import Limits, Scanner
from redaction.service import RedactionService
from redaction.settings import Settings, load_settings
from redaction.workers import WorkerPool

if TYPE_CHECKING:
    from redaction.embedded import EmbeddedRecognizer


@dataclass
class Runtime:
    settings: Settings
    service: RedactionService
    input_limits: InputLimits
    session: aiohttp.ClientSession | None
    loop: asyncio.AbstractEventLoop

    cache: DetectionCache | None = None
    pool: WorkerPool | None = None
    audit: AuditTrail | None = None
    audit_keys: AuditKeys | None = None
    # What is switched off by a bad or unresolved secret, by part (``placeholders``, ``cache``):
    # the service runs without that part, /health says degraded with these reasons.
    degraded: dict[str, str] = field(default_factory=dict)
    # The embedded detector on the Azure path (seams, fail-soft), made on its first use.
    embedded: DeferredDetector | None = None
    # Language's last refusal of the credential (Azure path): plain /health reports it.
    credential: CredentialHealth | None = None
    starting: asyncio.Task[None] | None = None  # the credential probe at start

    async def close(self) -> None:
        if self.starting is not None:
            self.starting.cancel()
        if self.audit is not None:
            await self.audit.close()
        await self.service.detector.close()
        if self.pool is not None:
            self.pool.shutdown()
        if self.cache is not None:
            await self.cache.close()
        if self.session is not None:
            await self.session.close()


@dataclass
class _Current:
    settings: Settings | None = None
    runtime: Runtime | None = None


_current = _Current()
# Used when PII_CACHE_SECRET is unset: cache keys then match within this process only.
_PROCESS_SECRET = secrets.token_bytes(32)
logger = logging.getLogger("pii_redaction")


def configure(settings: Settings | None) -> None:
    """Use ``settings`` from now on (None: read the environment again). Callers close the old
    runtime first with ``shutdown()``."""
    _current.settings = settings
    _current.runtime = None


def current_settings() -> Settings:
    if _current.settings is None:
        _current.settings = load_settings()
    return _current.settings


def get_runtime() -> Runtime:
    """The runtime of the running loop, built on first use (no await: check-and-set is atomic)."""
    loop = asyncio.get_running_loop()
    if _current.runtime is None or _current.runtime.loop is not loop:
        _current.runtime = build_runtime(current_settings(), loop)
    return _current.runtime


async def shutdown() -> None:
    runtime, _current.runtime = _current.runtime, None
    if runtime is not None:
        await runtime.close()


def build_runtime(settings: Settings, loop: asyncio.AbstractEventLoop) -> Runtime:
    policies = build_policies(settings)  # first: a bad policy stops start-up before any I/O
    session = None
    detector: Detector
    gate = asyncio.Semaphore(settings.pii_instance_concurrency)
    pool = WorkerPool(settings.pii_cpu_workers)
    seam_detector: Detector | None = None
    embedded: DeferredDetector | None = None
    credential: CredentialHealth | None = None
    starting: asyncio.Task[None] | None = None
    if settings.detector_kind == "azure":
        session = aiohttp.ClientSession()
        auth = build_auth(settings)
        detector = build_azure_detector(settings, session, auth)
        if settings.pii_hedge_enabled:
            detector = build_hedging(settings, detector, gate)
        credential = CredentialHealth()
        detector = CredentialWatch(detector, credential)
        starting = loop.create_task(probe_credential(auth, credential))
        # Language reads every text whole; the seams between texts (values split across parts,
        # messages or documents), and what Language could not scan in a fail-open request, are
        # read in process: no extra calls or billed records. Made on first use (cold start).
        embedded = seam_detector = DeferredDetector(lambda: build_embedded(settings, pool))
    else:
        detector = build_embedded(settings, pool)
        seam_detector = detector  # seams beside the texts: never counted against the batches
    limits = Limits(
        max_doc_chars=settings.pii_max_doc_chars,
        docs_per_batch=settings.pii_docs_per_batch,
        max_batches=settings.pii_max_batches,
        batch_concurrency=settings.pii_batch_concurrency,
    )
    cache = build_cache(settings)
    scanner = Scanner(
        detector,
        limits,
        gate,
        cache=cache,
        packing=settings.pii_packing_enabled,
        domain=settings.language_domain,
        seam_detector=seam_detector,
        pool=pool,
        fallback=settings.detector_kind == "azure",
    )
    # "auto" needs an api-version that detects the language; the embedded detector reads any text
    auto_language = detector_kind_reads_auto(settings)
    service = RedactionService(
        scanner,
        build_placeholders(settings),
        policies=policies,
        pool=pool,
        auto_language=auto_language,
    )
    input_limits = InputLimits(
        max_body_bytes=settings.pii_max_body_bytes,
        max_depth=settings.pii_max_depth,
        max_strings=settings.pii_max_strings,
    )
    usable = settings.audit_enabled and settings.audit_key_problem is None
    keys = audit_keys(settings) if usable else None
    audit = build_audit(settings, keys) if keys is not None else None
    degraded = degraded_parts(settings)
    runtime = Runtime(settings, service, input_limits, session, loop, cache, pool, audit, keys)
    runtime.degraded = degraded
    runtime.embedded = embedded
    runtime.credential, runtime.starting = credential, starting
    return runtime


def detector_kind_reads_auto(settings: Settings) -> bool:
    """Whether ``detection_language: "auto"`` is accepted: always by the embedded detector, by
    Language only from the api-version that detects the language."""
    if settings.detector_kind != "azure":
        return True
    return supports_auto_language(settings.language_api_version)


def degraded_parts(settings: Settings) -> dict[str, str]:
    """The parts a bad or unresolved secret switches off, each with its reason (never a value);
    logged once per runtime as ``pii-degraded``."""
    parts = {}
    placeholders = settings.placeholder_problem
    if placeholders is not None:
        parts["placeholders"] = f"placeholder mode and /restore are off: {placeholders}"
    if settings.cache_secret_problem is not None:
        parts["cache"] = (
            "the cache runs as without PII_CACHE_SECRET (a per-process key, no shared Redis "
            f"tier): {settings.cache_secret_problem}"
        )
    if settings.audit_key_problem is not None:  # only without PII_AUDIT_REQUIRED (settings)
        parts["audit"] = f"the audit trail is off: {settings.audit_key_problem}"
    for part, reason in parts.items():
        logger.warning("pii-degraded", extra={"pii-part": part, "pii-reason": reason})
    return parts


def audit_keys(settings: Settings) -> AuditKeys | None:
    """None when ``PII_AUDIT_HMAC_KEY`` is unset; ``SettingsError`` naming it when unusable."""
    secret = settings.pii_audit_hmac_key
    if secret is None:
        return None
    if settings.audit_key_problem is not None:
        raise SettingsError(f"invalid settings: {settings.audit_key_problem}")
    return AuditKeys.derive(decode_key(secret.get_secret_value()))


def audit_store(settings: Settings) -> BlobAuditStore:
    connection = settings.pii_audit_connection_string
    return BlobAuditStore.from_settings(
        settings.pii_audit_container,
        account_url=settings.pii_audit_account_url,
        connection_string=connection.get_secret_value() if connection else None,
    )


def build_audit(settings: Settings, keys: AuditKeys) -> AuditTrail | None:
    """The audit trail, when a store is configured (docs/security.md#audit-trail)."""
    if not settings.audit_enabled:
        return None
    limits = TrailLimits(
        queue_size=settings.pii_audit_queue_size,
        accept_timeout_s=settings.pii_audit_timeout_ms / 1000,
    )
    chain = Chain(new_writer_id(), keys)
    return AuditTrail(
        audit_store(settings), chain, required=settings.pii_audit_required, limits=limits
    )


def build_hedging(
    settings: Settings, detector: Detector, gate: asyncio.Semaphore
) -> HedgedDetector:
    """Hedging around the Azure detector: one latency window per process, sharing the gate."""
    window = max(DEFAULT_WINDOW, settings.pii_hedge_min_samples)
    tracker = LatencyTracker(settings.pii_hedge_quantile, settings.pii_hedge_min_samples, window)
    return HedgedDetector(detector, tracker, HedgeBudget(settings.pii_hedge_max_ratio), gate)


def build_policies(settings: Settings) -> PolicyBook:
    """Named policies, read and compiled once; a bad one raises ``SettingsError`` naming it."""
    named = load_named_policies(settings.pii_policies, settings.pii_policies_file)
    limits = ScanLimits(
        per_text_s=settings.pii_policy_text_timeout_ms / 1000,
        per_request_s=settings.pii_policy_request_budget_ms / 1000,
    )
    versions = load_policy_versions(settings.pii_policies, settings.pii_policies_file)
    return PolicyBook(named, settings.pii_policy_cache_size, limits, versions)


def build_cache(settings: Settings) -> DetectionCache | None:
    """The detection cache, or None when disabled; Redis only with a shared secret."""
    if not settings.pii_cache_enabled:
        return None
    memory = MemoryCache(
        settings.pii_cache_max_entries, settings.pii_cache_max_bytes, settings.pii_cache_ttl_s
    )
    # an unresolved Key Vault reference is public text, not a secret: run as without one
    secret = settings.pii_cache_secret if settings.cache_secret_problem is None else None
    shared: SharedTier | None = None
    if settings.redis_url is not None and secret is None:
        reason = settings.cache_secret_problem or "no PII_CACHE_SECRET"
        logger.warning("pii-cache-redis-disabled", extra={"pii-reason": reason})
    elif settings.redis_url is not None:
        from redaction.cache.redis_tier import (
            RedisTier,  # only with REDIS_URL: keeps cold start lean
        )

        shared = RedisTier.from_url(
            settings.redis_url.get_secret_value(),
            settings.pii_redis_timeout_s,
            settings.pii_cache_ttl_s,
        )
    key = secret.get_secret_value().encode("utf-8") if secret is not None else _PROCESS_SECRET
    return DetectionCache(key, memory, shared, detector_fingerprint(settings))


def detector_fingerprint(settings: Settings) -> bytes:
    """What besides a text decides the findings (``cache.fingerprint``): the settings that
    change them, the libraries of the extras switched on, the build of the code."""
    libraries = list(LIBRARIES)
    if settings.pii_ner_model:
        libraries += ["spacy", settings.pii_ner_model]
    if settings.pii_embedded_names:
        libraries += ["Faker", "names", "python-crfsuite"]
    if settings.pii_embedded_addresses:
        libraries += ["usaddress", "python-crfsuite", "probableparsing", "zipcodes", "Faker"]
    fields = {name: getattr(settings, name) for name in _FINDING_SETTINGS}
    return fingerprint({**fields, "language_model_version": MODEL_VERSION}, libraries)


# The settings that change what is found in a text (the detector kind, api-version, domain and
# language are in every key's scope already; they are here too: one list says it all).
_FINDING_SETTINGS = (
    "pii_detector",
    "language_api_version",
    "language_domain",
    "pii_min_score",
    "pii_phone_regions",
    "pii_ner_model",
    "pii_embedded_names",
    "pii_embedded_addresses",
    "pii_packing_enabled",
    "pii_max_doc_chars",
)


def build_placeholders(settings: Settings) -> PlaceholderIssuer | None:
    """Placeholder mode, when ``PII_RESTORE_KEY`` is set: the numbering secret and the sealer."""
    keys = settings.restore_keys
    if not keys:
        return None
    own = settings.pii_pseudonym_key
    secret = decode_key(own.get_secret_value()) if own else derive_key(keys[0], "pii-pseudonym-v1")
    return PlaceholderIssuer(secret, Sealer(keys[0], keys[1:], settings.pii_restore_token_ttl_s))


def build_embedded(settings: Settings, pool: WorkerPool | None) -> EmbeddedDetector:
    return EmbeddedDetector(build_recognizer(settings), pool)


def build_recognizer(settings: Settings) -> EmbeddedRecognizer:
    # imported here: with PII_DETECTOR=azure only the first request that needs it pays for it
    from redaction.embedded import EmbeddedRecognizer
    from redaction.embedded.ner import NerUnavailableError

    try:
        return EmbeddedRecognizer(
            phone_regions=settings.phone_regions,
            min_score=settings.pii_min_score,
            ner_model=settings.pii_ner_model,
            names=settings.pii_embedded_names,
            addresses=settings.pii_embedded_addresses,
        )
    except NerUnavailableError:  # installed, yet spaCy cannot load it
        raise SettingsError("invalid settings: PII_NER_MODEL: spaCy cannot load it") from None


def build_auth(settings: Settings) -> Auth:
    """The key when one is set, else Microsoft Entra tokens of the function's identity."""
    if settings.language_api_key is not None:
        return ApiKeyAuth(settings.language_api_key.get_secret_value())
    return TokenAuth(default_credential())


def build_azure_detector(
    settings: Settings, session: aiohttp.ClientSession, auth: Auth
) -> AzureLanguageDetector:
    assert settings.language_endpoint is not None
    client = LanguageClient(
        session,
        settings.language_endpoint,
        settings.language_api_version,
        auth,
        settings.language_domain,
    )
    policy = RetryPolicy(
        max_attempts=settings.pii_max_attempts,
        backoff_base_s=settings.pii_backoff_base_s,
        backoff_max_s=settings.pii_backoff_max_s,
        attempt_timeout_s=settings.pii_attempt_timeout_s,
    )
    budget = build_budget(settings)
    return AzureLanguageDetector(client, auth, policy, ALL_CATEGORIES, budget=budget)


def build_budget(settings: Settings) -> CallBudget | None:
    """The Language call budget (docs/scanning.md#the-language-call-budget): adaptive
    concurrency up to ``PII_INSTANCE_CONCURRENCY`` and, with ``PII_LANGUAGE_RATE_PER_MINUTE``,
    the rate, for every instance together with ``REDIS_URL``."""
    rate = None
    if settings.pii_language_rate_per_minute is not None:
        from redaction.detectors.rate_limit import MovingWindowRate  # limits only when set

        redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
        rate = MovingWindowRate.per_minute(
            settings.pii_language_rate_per_minute,
            settings.language_endpoint or "",  # one quota per Language resource
            redis_url,
            settings.pii_redis_timeout_s,
        )
    adaptive = settings.pii_language_adaptive
    concurrency = AdaptiveConcurrency(settings.pii_instance_concurrency) if adaptive else None
    return CallBudget(concurrency, rate) if rate or concurrency else None
