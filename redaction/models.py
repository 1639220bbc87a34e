"""The wire contract of ``/redact`` and ``/health``: what APIM sends and what it checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Role = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Category = Annotated[str, StringConstraints(min_length=1, max_length=128)]
LanguageCode = Annotated[
    str, StringConstraints(pattern=r"^(?:[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*|auto)$", max_length=32)
]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=256)]
# Ids that are logged and sent to telemetry as they are, in shapes that carry no line break or
# NUL into a log line. APIM's request id: a GUID, bare or in braces (or a token of that alphabet).
_BRACED_GUID = r"\{[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\}"
CorrelationId = Annotated[
    str, StringConstraints(pattern=rf"^(?:[A-Za-z0-9._:-]{{1,256}}|{_BRACED_GUID})$")
]
# An APIM subscription id: what Azure allows in its name (1-256 characters, none of ``*#&+:<>?``),
# less control characters (C0, DEL, C1), line and paragraph separators, and blank ids. A lone
# surrogate is refused by the request decoder (and by pydantic's string check).
_SUBSCRIPTION_CHAR = r"[^\x00-\x1f\x7f-\x9f\u2028\u2029*#&+:<>?]"
_SUBSCRIPTION_SIGN = r"[^\s\x00-\x1f\x7f-\x9f*#&+:<>?]"  # at least one character not a space
SubscriptionId = Annotated[
    str,
    StringConstraints(
        pattern=rf"^{_SUBSCRIPTION_CHAR}*{_SUBSCRIPTION_SIGN}{_SUBSCRIPTION_CHAR}*$", max_length=256
    ),
]

DEFAULT_SCAN_ROLES = ("user", "assistant", "tool")


@dataclass(frozen=True)
class InputLimits:
    """What a request body may hold before it is validated (PII_MAX_BODY_BYTES, PII_MAX_DEPTH,
    PII_MAX_STRINGS): built by the runtime from the settings, enforced by ``http.decoding``."""

    max_body_bytes: int
    max_depth: int
    max_strings: int


# Tenant policy (docs/policy.md): names, patterns and values, bounded so compiling stays cheap.
PolicyName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
CategoryName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9]{0,63}$")]
PatternText = Annotated[str, StringConstraints(min_length=1, max_length=512)]
AllowedValue = Annotated[str, StringConstraints(min_length=1, max_length=256)]
ContextWord = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Score = Annotated[float, Field(ge=0, le=1)]
ValidatorKind = Literal["luhn", "iban", "mod97", "mod11", "mod11_10", "mod37_2", "verhoeff", "damm"]


class CustomPattern(BaseModel):
    """A tenant's own identifier: a regular expression (RE2 syntax) and what its matches are."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: PolicyName
    pattern: PatternText
    category: CategoryName
    score: Score = 0.8
    context: list[ContextWord] = Field(default_factory=list, max_length=32)
    validator: ValidatorKind | None = None


class RedactConfig(BaseModel):
    """Per-request settings APIM passes from the tenant's configuration."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    fail_closed: bool = False
    excluded_categories: list[Category] = Field(default_factory=list, max_length=256)
    detection_language: LanguageCode = "en"
    scan_roles: list[Role] = Field(default_factory=lambda: list(DEFAULT_SCAN_ROLES), max_length=32)
    correlation_id: CorrelationId | None = None
    subscription_id: SubscriptionId | None = None
    redaction_character: str = Field(default="#", min_length=1, max_length=1)
    mask_style: Literal["character", "placeholder"] = "character"
    conversation_id: Identifier | None = None
    allow_list: list[AllowedValue] = Field(default_factory=list, max_length=10_000)
    allow_list_case_sensitive: bool = True
    allow_patterns: list[PatternText] = Field(default_factory=list, max_length=50)
    custom_patterns: list[CustomPattern] = Field(default_factory=list, max_length=100)
    min_confidence: Score = 0.0
    category_thresholds: dict[CategoryName, Score] = Field(default_factory=dict, max_length=256)
    categories: list[Category] | None = Field(default=None, min_length=1, max_length=256)
    policy: PolicyName | None = None


class RedactRequest(BaseModel):
    """``{"body": <OpenAI request body>, "config": {...}}``."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    body: dict[str, Any]
    config: RedactConfig = Field(default_factory=RedactConfig)


class Diagnostics(BaseModel):
    """Counts and timings about one redaction. Never holds text."""

    entity_count: int = 0
    categories: dict[str, int] = Field(default_factory=dict)
    total_docs: int = 0
    scanned_docs: int = 0
    unscanned_docs: int = 0
    unscanned_paths: list[str] = Field(default_factory=list)
    batches: int = 0
    attempts: int = 0
    retries: int = 0
    hedges: int = 0
    characters: int = 0
    duration_ms: float = 0.0
    detector: str = ""
    api_version: str | None = None
    correlation_id: str | None = None
    failure_reason: str | None = None
    cached_docs: int = 0
    sent_docs: int = 0
    billed_records: int = 0
    fallback_docs: int = 0  # unscanned by the detector, read by the embedded one (fail-soft)


class ErrorInfo(BaseModel):
    """``code`` is stable, ``message`` is for people, ``reason`` is the failure reason for APIM."""

    code: str
    message: str
    reason: str | None = None
    details: list[dict[str, Any]] = Field(default_factory=list)


class RedactResponse(BaseModel):
    status: Literal["ok", "partial", "error"]
    full_coverage: bool
    redacted_body: dict[str, Any] | None = None
    diagnostics: Diagnostics | None = None
    error: ErrorInfo | None = None
    restore_token: str | None = None


class RestoreConfig(BaseModel):
    """Must name the same request (and tenant) as the ``/redact`` call that issued the token."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    correlation_id: CorrelationId | None = None
    subscription_id: SubscriptionId | None = None


class RestoreRequest(BaseModel):
    """``{"body": <OpenAI response body>, "restore_token": "...", "config": {...}}``."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    body: dict[str, Any]
    restore_token: str = Field(min_length=1, max_length=4 * 1024 * 1024)
    config: RestoreConfig = Field(default_factory=RestoreConfig)


class RestoreResponse(BaseModel):
    """The body with the originals back; ``restored`` counts the placeholders replaced."""

    status: Literal["ok"]
    restored_body: dict[str, Any]
    restored: int = 0
    correlation_id: str | None = None


class HealthResponse(BaseModel):
    status: Literal["healthy", "degraded", "unhealthy"]
    detector: str
    api_version: str | None
    version: str
    categories: list[str] = Field(default_factory=list)
    reason: str | None = None
    round_trip_ms: float | None = None
    audit: dict[str, bool | int] | None = None
