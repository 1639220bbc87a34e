"""Tenant policy: which entities a request keeps, and the tenant's own patterns beside a detector.

A policy is the set of ``RedactConfig`` fields in ``POLICY_FIELDS``. It applies the same on every
detector, as the last step of the scan (``scanning.Scanner.scan``), before masking:

1. each custom pattern runs on the texts (``patterns.PatternSet``); its matches that pass the
   validator and context check join the detector's entities;
2. an entity is kept if its category is selected (``categories`` selects detector categories,
   custom patterns' categories are always selected; ``excluded_categories`` removes any), its
   score reaches its threshold (``category_thresholds`` or else ``min_confidence``), and its text
   is neither on the allow list nor a full match of an allow pattern.

Named policies (settings) hold any ``RedactConfig`` field but the per-request ids; a request that
names one overrides it field by field (``categories`` and ``excluded_categories`` count as one
field). Compiled policies are cached by a hash of their content. Errors name fields and indexes,
never patterns or values.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from redaction.categories import ALL_CATEGORIES
from redaction.deadline import Deadline
from redaction.entities import Entity
from redaction.errors import InvalidRequestError, SettingsError
from redaction.models import CustomPattern, RedactConfig
from redaction.policy.patterns import (
    Clock,
    FullMatchSet,
    PatternError,
    PatternSet,
    ScanTimeoutError,
    Span,
    TextBudget,
    compile_pattern,
    compile_scan_pattern,
)

POLICY_FIELDS = (
    "allow_list",
    "allow_list_case_sensitive",
    "allow_patterns",
    "custom_patterns",
    "min_confidence",
    "category_thresholds",
    "categories",
    "excluded_categories",
)
_POLICY_FIELD_SET = set(POLICY_FIELDS)
# Per-request values a named policy may not hold.
REQUEST_ONLY = frozenset({"policy", "correlation_id", "subscription_id", "conversation_id"})
_CATEGORY_CHOICE = frozenset({"categories", "excluded_categories"})

# The python-stdnum module of each validator, imported when a pattern names it (cold start).
_VALIDATORS: dict[str, str] = {
    "luhn": "stdnum.luhn",
    "iban": "stdnum.iban",
    "mod97": "stdnum.iso7064.mod_97_10",
    "mod11": "stdnum.iso7064.mod_11_2",
    "mod11_10": "stdnum.iso7064.mod_11_10",
    "mod37_2": "stdnum.iso7064.mod_37_2",
    "verhoeff": "stdnum.verhoeff",
    "damm": "stdnum.damm",
}
_SEPARATORS = re.compile(r"[\s./-]+")
_WORDS = re.compile(r"[^\W_]+")
CONTEXT_BEFORE = 64
CONTEXT_AFTER = 32


class PolicyError(ValueError):
    """A policy field cannot be used. ``field`` is a dotted path inside ``config``."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


# ---- the compiled policy -------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    """One custom pattern, ready to turn a match into an entity."""

    category: str
    score: float
    cues: tuple[str, ...]
    validator: Callable[[str], bool] | None

    def entity(self, text: str, span: Span) -> Entity | None:
        start, end = span
        if self.validator is not None and not _validates(self.validator, text[start:end]):
            return None
        if self.cues and not _near(text, start, end, self.cues):
            return None
        return Entity(start, end - start, self.category, self.score)


@dataclass
class Findings:
    """Custom-pattern entities per text, and the texts whose scan ran out of time."""

    entities: list[list[Entity]]
    timed_out: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class ScanLimits:
    per_text_s: float = 0.1
    per_request_s: float = 1.0


@dataclass(frozen=True)
class CompiledPolicy:
    rules: tuple[_Rule, ...] = ()
    patterns: PatternSet | None = None
    allowed: frozenset[str] = frozenset()
    case_sensitive: bool = True
    allow_patterns: FullMatchSet | None = None
    min_confidence: float = 0.0
    thresholds: Mapping[str, float] = field(default_factory=dict)
    selected: frozenset[str] | None = None
    excluded: frozenset[str] = frozenset()
    limits: ScanLimits = ScanLimits()

    def budget(self, deadline: Deadline) -> TextBudget:
        """The time the patterns may take on this request's texts, from now."""
        clock: Clock = deadline.clock
        ends = clock() + min(self.limits.per_request_s, deadline.remaining())
        return TextBudget(self.limits.per_text_s, ends, clock)

    def find(self, texts: Sequence[str], budget: TextBudget) -> Findings:
        """Entities of the custom patterns in each text (text offsets)."""
        findings = Findings([[] for _ in texts])
        if self.patterns is None:
            return findings
        for index, text in enumerate(texts):
            try:
                matches = self.patterns.find(text, budget.ends(), budget.clock)
            except ScanTimeoutError:
                findings.timed_out.append(index)
                continue
            found = (self.rules[rule].entity(text, span) for rule, span in matches)
            findings.entities[index] = [entity for entity in found if entity is not None]
        return findings

    def keep(self, text: str, entities: Iterable[Entity]) -> list[Entity]:
        """The entities of ``text`` to mask."""
        return [
            entity
            for entity in entities
            if self._selected(entity.category)
            and entity.score >= self.thresholds.get(entity.category, self.min_confidence)
            and not self._allowed(text[entity.offset : entity.end])
        ]

    def _selected(self, category: str) -> bool:
        if category in self.excluded:
            return False
        return self.selected is None or category in self.selected

    def _allowed(self, value: str) -> bool:
        if not self.allowed and self.allow_patterns is None:
            return False
        value = value.strip()
        key = value if self.case_sensitive else value.casefold()
        if key in self.allowed:
            return True
        return self.allow_patterns is not None and self.allow_patterns.matches(value)


def compile_policy(config: RedactConfig, limits: ScanLimits = ScanLimits()) -> CompiledPolicy:
    """Raises ``PolicyError`` naming the field of the first pattern that cannot be used."""
    custom = config.custom_patterns
    scan = [
        _compiled(f"custom_patterns.{i}.pattern", p.pattern, True) for i, p in enumerate(custom)
    ]
    allow = [
        _compiled(f"allow_patterns.{i}", p, False) for i, p in enumerate(config.allow_patterns)
    ]
    custom_categories = frozenset(p.category for p in custom)
    fold = (lambda value: value) if config.allow_list_case_sensitive else str.casefold
    return CompiledPolicy(
        rules=tuple(_rule(p) for p in custom),
        patterns=_set("custom_patterns", PatternSet, scan, [p.pattern for p in custom]),
        allowed=frozenset(fold(value.strip()) for value in config.allow_list),
        case_sensitive=config.allow_list_case_sensitive,
        allow_patterns=_set("allow_patterns", FullMatchSet, allow, config.allow_patterns),
        min_confidence=config.min_confidence,
        thresholds=dict(config.category_thresholds),
        selected=None
        if config.categories is None
        else frozenset(config.categories) | custom_categories,
        excluded=frozenset(config.excluded_categories),
        limits=limits,
    )


def _compiled(path: str, pattern: str, scanning: bool) -> Any:
    try:
        return compile_scan_pattern(pattern) if scanning else compile_pattern(pattern)
    except PatternError as error:
        raise PolicyError(path, str(error)) from None


def _set(path: str, kind: Any, compiled: list[Any], patterns: Sequence[str]) -> Any:
    if not compiled:
        return None
    try:
        return kind(compiled, patterns)
    except PatternError as error:
        raise PolicyError(path, str(error)) from None


def _rule(pattern: CustomPattern) -> _Rule:
    validator = _validator(pattern.validator) if pattern.validator else None
    cues = tuple(dict.fromkeys(_words(word) for word in pattern.context if _words(word)))
    return _Rule(pattern.category, pattern.score, cues, validator)


def _validator(name: str) -> Callable[[str], bool]:
    is_valid: Callable[[str], bool] = importlib.import_module(_VALIDATORS[name]).is_valid
    return is_valid


def _validates(validator: Callable[[str], bool], value: str) -> bool:
    try:
        return bool(validator(_SEPARATORS.sub("", value)))
    except Exception:  # noqa: BLE001 - a checksum that cannot be computed does not validate
        return False


def _words(text: str) -> str:
    return " ".join(_WORDS.findall(text.casefold()))


def _near(text: str, start: int, end: int, cues: tuple[str, ...]) -> bool:
    window = text[max(0, start - CONTEXT_BEFORE) : start] + " " + text[end : end + CONTEXT_AFTER]
    padded = f" {_words(window)} "
    return any(f" {cue} " in padded for cue in cues)


# ---- checks, merging, named policies -------------------------------------------------------


def check_config(config: RedactConfig) -> None:
    """The checks that need no named policy: one category choice; known category names (when
    no policy is named; otherwise ``PolicyBook.resolve`` checks the merged config)."""
    if config.categories is not None and "excluded_categories" in config.model_fields_set:
        raise InvalidRequestError(
            "config.categories and config.excluded_categories cannot both be given",
            [{"field": "config.categories"}, {"field": "config.excluded_categories"}],
        )
    if config.policy is None:
        check_category_names(config)


def check_category_names(config: RedactConfig) -> None:
    """Names must be PII categories or categories of the config's own custom patterns."""
    own = {pattern.category for pattern in config.custom_patterns}
    fields: dict[str, Sequence[str]] = {
        "excluded_categories": config.excluded_categories,
        "categories": config.categories or (),
        "category_thresholds": list(config.category_thresholds),
    }
    for name, values in fields.items():
        positions = [
            i for i, value in enumerate(values) if value not in ALL_CATEGORIES and value not in own
        ]
        if positions:
            valid = ALL_CATEGORIES | own
            raise InvalidRequestError(
                f"config.{name} holds names that are not PII categories",
                [{"field": f"config.{name}", "positions": positions, "valid": sorted(valid)}],
            )


def merge(named: RedactConfig, request: RedactConfig) -> RedactConfig:
    """The named policy with every field the request sets replaced by the request's value."""
    given = request.model_fields_set
    taken = given | (_CATEGORY_CHOICE if given & _CATEGORY_CHOICE else frozenset())
    values = {name: getattr(named, name) for name in named.model_fields_set - taken}
    values.update({name: getattr(request, name) for name in given})
    return request.model_copy(update=values)


def policy_key(config: RedactConfig) -> str:
    """Hash of the fields that shape a compiled policy (field order is fixed by the model; a
    different key order in ``category_thresholds`` only costs a cache miss). A config that sets
    none of them has the defaults' key, hashed once."""
    if not config.model_fields_set & _POLICY_FIELD_SET:
        return _default_policy_key()
    return _hash_policy(config)


def _hash_policy(config: RedactConfig) -> str:
    return hashlib.sha256(config.model_dump_json(include=_POLICY_FIELD_SET).encode()).hexdigest()


@functools.cache
def _default_policy_key() -> str:
    return _hash_policy(RedactConfig())


@dataclass(frozen=True)
class PolicyVersion:
    """What a named policy says about itself: its ``version`` and ``author``."""

    version: str | None = None
    author: str | None = None


@dataclass(frozen=True)
class PolicyIdentity:
    """Which policy a request used: its name (``inline`` for fields sent in the request,
    ``default`` for none), the hash of its effective content, and a named policy's version."""

    name: str
    content_hash: str
    version: str | None = None
    author: str | None = None


class PolicyBook:
    """Named policies (compiled at start-up) and a bounded LRU of compiled request policies."""

    def __init__(
        self,
        named: Mapping[str, RedactConfig] | None = None,
        cache_size: int = 256,
        limits: ScanLimits | None = None,
        versions: Mapping[str, PolicyVersion] | None = None,
    ) -> None:
        self.named = dict(named or {})
        self.versions = dict(versions or {})
        self.limits = limits or ScanLimits()
        self._cache_size = cache_size
        self._cache: OrderedDict[str, CompiledPolicy] = OrderedDict()
        for name, config in self.named.items():
            try:
                self._store(policy_key(config), compile_policy(config, self.limits))
            except PolicyError as error:
                raise SettingsError(
                    f"invalid settings: policy {name!r}: {error.field} {error.problem}"
                ) from None

    def resolve(self, config: RedactConfig) -> tuple[RedactConfig, CompiledPolicy]:
        """The effective config and its compiled policy; ``InvalidRequestError`` if unusable."""
        if config.policy is not None:
            named = self.named.get(config.policy)
            if named is None:
                raise InvalidRequestError(
                    "config.policy names no configured policy", [{"field": "config.policy"}]
                )
            config = merge(named, config)
            check_category_names(config)
        key = policy_key(config)
        compiled = self._cache.get(key)
        if compiled is None:
            compiled = self._compile(config)
            self._store(key, compiled)
        else:
            self._cache.move_to_end(key)
        return config, compiled

    def identify(self, config: RedactConfig) -> PolicyIdentity | None:
        """The policy ``config`` selects, without compiling it; None for an unknown name."""
        if config.policy is None:
            name = "inline" if config.model_fields_set & _POLICY_FIELD_SET else "default"
            return PolicyIdentity(name, policy_key(config))
        named = self.named.get(config.policy)
        if named is None:
            return None
        version = self.versions.get(config.policy, PolicyVersion())
        key = policy_key(merge(named, config))
        return PolicyIdentity(config.policy, key, version.version, version.author)

    def _compile(self, config: RedactConfig) -> CompiledPolicy:
        try:
            return compile_policy(config, self.limits)
        except PolicyError as error:
            raise InvalidRequestError(
                f"config.{error.field} {error.problem}",
                [{"field": f"config.{error.field}", "problem": error.problem}],
            ) from None

    def _store(self, key: str, compiled: CompiledPolicy) -> None:
        self._cache[key] = compiled
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size + len(self.named):
            self._cache.popitem(last=False)


def load_named_policies(inline: str | None, path: str | None) -> dict[str, RedactConfig]:
    """Policies from ``PII_POLICIES`` (JSON) and ``PII_POLICIES_FILE`` (a JSON file), both
    ``{"name": {config fields, "version": ..., "author": ...}}``. Raises ``SettingsError``
    naming the setting and policy."""
    policies: dict[str, RedactConfig] = {}
    for setting, raw in _sources(inline, path):
        for name, config in _parse_policies(setting, raw).items():
            if name in policies:
                raise SettingsError(
                    f"invalid settings: {setting}: policy {name!r} is defined twice"
                )
            policies[name] = config
    return policies


def load_policy_versions(inline: str | None, path: str | None) -> dict[str, PolicyVersion]:
    """The ``version`` and ``author`` of each named policy (checked by ``load_named_policies``)."""
    versions: dict[str, PolicyVersion] = {}
    for setting, raw in _sources(inline, path):
        for name, value in _parse_document(setting, raw).items():
            if isinstance(value, dict):
                versions[str(name)] = _version(setting, name, value)
    return versions


def _sources(inline: str | None, path: str | None) -> list[tuple[str, str]]:
    sources = [("PII_POLICIES", inline)]
    if path:
        sources.append(("PII_POLICIES_FILE", _read_file(path)))
    return [(setting, raw) for setting, raw in sources if raw]


def _read_file(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = type(error).__name__
        raise SettingsError(
            f"invalid settings: PII_POLICIES_FILE cannot be read ({reason})"
        ) from None


def _parse_document(setting: str, raw: str) -> dict[str, Any]:
    try:
        document = json.loads(raw)
    except ValueError:
        raise SettingsError(f"invalid settings: {setting} is not valid JSON") from None
    if not isinstance(document, dict):
        raise SettingsError(f"invalid settings: {setting} must be a JSON object of policies")
    return document


def _parse_policies(setting: str, raw: str) -> dict[str, RedactConfig]:
    document = _parse_document(setting, raw)
    return {str(name): _parse_policy(setting, name, value) for name, value in document.items()}


VERSION_FIELDS = {"version": 64, "author": 256}  # and their longest values


def _version(setting: str, name: Any, value: dict[str, Any]) -> PolicyVersion:
    for field_name, longest in VERSION_FIELDS.items():
        given = value.get(field_name)
        if given is not None and (not isinstance(given, str) or not 0 < len(given) <= longest):
            raise SettingsError(
                f"invalid settings: {setting}: policy {name!r}: {field_name} must be a string "
                f"of 1-{longest} characters"
            )
    return PolicyVersion(value.get("version"), value.get("author"))


def _parse_policy(setting: str, name: Any, value: Any) -> RedactConfig:
    where = f"invalid settings: {setting}: policy {name!r}"
    if not isinstance(value, dict):
        raise SettingsError(f"{where} must be a JSON object")
    _version(setting, name, value)
    value = {key: item for key, item in value.items() if key not in VERSION_FIELDS}
    try:
        RedactConfig.model_validate({"policy": name})
        config = RedactConfig.model_validate(value)
    except ValidationError as error:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "name" for e in error.errors()})
        raise SettingsError(f"{where}: invalid {', '.join(fields)}") from None
    problems = sorted(REQUEST_ONLY & config.model_fields_set)
    if problems:
        raise SettingsError(f"{where}: {', '.join(problems)} cannot be part of a policy")
    try:
        check_config(config)
    except InvalidRequestError as error:
        raise SettingsError(f"{where}: {error.message.removeprefix('config.')}") from None
    return config
