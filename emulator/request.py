"""The analyze-text request body, checked as the service checks it (pure: no aiohttp)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from emulator.errors import AzureError, bad_request
from emulator.indexing import StringIndexType
from emulator.versions import API_VERSIONS, allowed_parameters
from redaction.categories import ALL_CATEGORIES

MAX_DOCUMENTS = 5
MODEL_VERSION = "2021-01-15"
MODEL_VERSIONS = frozenset({"latest", MODEL_VERSION})
REDACTION_CHARACTERS = frozenset("!#$%&*+-=?@^_~")
_NO_MASK_POLICIES = frozenset({"noMask", "doNotRedact"})
_ENTITY_MASK_POLICIES = frozenset({"entityMask", "maskWithEntityType"})


class _Policy(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    policyKind: Literal[
        "characterMask",
        "noMask",
        "entityMask",
        "syntheticReplacement",
        "maskWithCharacter",
        "doNotRedact",
        "maskWithEntityType",
    ] = "characterMask"
    redactionCharacter: str | None = None
    entityTypes: list[str] | None = None


class _ValueExclusion(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    caseSensitive: bool = False
    excludedValues: list[str] = Field(default_factory=list)


class _Threshold(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    default: float = Field(default=0.0, ge=0.0, le=1.0)


class _Parameters(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    modelVersion: str = "latest"
    loggingOptOut: bool = False
    domain: Literal["phi", "none", "PHI", "None"] = "none"
    piiCategories: list[str] | None = None
    stringIndexType: StringIndexType = "TextElements_v8"
    excludePiiCategories: list[str] = Field(default_factory=list)
    redactionCharacter: str = "*"
    redactionPolicy: _Policy | None = None
    redactionPolicies: list[_Policy] = Field(default_factory=list)
    valueExclusionPolicy: _ValueExclusion | None = None
    entitySynonyms: list[dict[str, Any]] = Field(default_factory=list)
    confidenceScoreThreshold: _Threshold | None = None
    disableEntityValidation: bool = False


class _Document(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    id: str
    text: str
    language: str | None = None


@dataclass(frozen=True, slots=True)
class InputDocument:
    id: str
    text: str
    language: str


@dataclass(frozen=True, slots=True)
class TaskOptions:
    """What the task parameters ask for, reduced to what the emulator acts on."""

    string_index_type: StringIndexType = "TextElements_v8"
    categories: frozenset[str] | None = None
    excluded_categories: frozenset[str] = frozenset()
    redaction_character: str = "*"
    mask: bool = True
    entity_mask: bool = False
    excluded_values: tuple[str, ...] = ()
    values_case_sensitive: bool = False
    score_threshold: float = 0.0


@dataclass(frozen=True, slots=True)
class AnalyzeRequest:
    api_version: str
    documents: tuple[InputDocument, ...]
    options: TaskOptions


def check_api_version(api_version: str | None) -> str:
    """The api-version, or the 404 the service gives for a missing or unknown one."""
    if api_version is None:
        raise AzureError(404, "Resource not found: the api-version query parameter is required.")
    if api_version not in API_VERSIONS:
        known = ", ".join(sorted(API_VERSIONS))
        raise AzureError(
            404, f"Resource not found: unsupported api-version '{api_version}'. Known: {known}."
        )
    return api_version


def parse_analyze_request(api_version: str, body: object) -> AnalyzeRequest:
    """Validates a decoded JSON body; raises `AzureError` with the service's 400 answers."""
    if not isinstance(body, dict) or not body:
        raise bad_request("Request body must be a non-empty JSON object.", "EmptyRequest")
    if body.get("kind") != "PiiEntityRecognition":
        raise bad_request(
            f"Unsupported task kind {body.get('kind')!r}; expected PiiEntityRecognition."
        )
    options = parse_parameters(api_version, body.get("parameters", {}))
    return AnalyzeRequest(api_version, parse_documents(body.get("analysisInput")), options)


def parse_documents(analysis_input: object) -> tuple[InputDocument, ...]:
    raw = analysis_input.get("documents") if isinstance(analysis_input, dict) else None
    if not raw:
        raise bad_request("Missing input documents.", "MissingInputDocuments")
    if not isinstance(raw, list):
        raise bad_request("analysisInput.documents must be an array.", "InvalidRequestBodyFormat")
    if len(raw) > MAX_DOCUMENTS:
        message = (
            f"Batch request contains too many records. Max {MAX_DOCUMENTS} records are permitted."
        )
        raise bad_request(message, "InvalidDocumentBatch")
    documents = tuple(_parse_document(index, item) for index, item in enumerate(raw))
    _check_ids(documents)
    return documents


def _parse_document(index: int, item: object) -> InputDocument:
    try:
        document = _Document.model_validate(item)
    except ValidationError as exc:
        message = f"Invalid document at analysisInput.documents[{index}]: {_describe(exc)}"
        raise bad_request(message, "InvalidRequestBodyFormat") from exc
    return InputDocument(document.id, document.text, document.language or "en")


def _check_ids(documents: tuple[InputDocument, ...]) -> None:
    if any(not document.id.strip() for document in documents):
        raise bad_request("Document ids must be non-empty strings.", "InvalidDocument")
    if len({document.id for document in documents}) != len(documents):
        message = "Request contains duplicated Ids. Make sure each document has a unique Id."
        raise bad_request(message, "InvalidDocument")


def parse_parameters(api_version: str, raw: object) -> TaskOptions:
    if not isinstance(raw, dict):
        raise bad_request("parameters must be a JSON object.")
    unknown = sorted(set(raw) - allowed_parameters(api_version))
    if unknown:
        names = ", ".join(unknown)
        raise bad_request(f"Parameter(s) {names} not supported in api-version {api_version}.")
    try:
        parameters = _Parameters.model_validate(raw)
    except ValidationError as exc:
        raise bad_request(f"Invalid parameter: {_describe(exc)}") from exc
    _check_values(parameters)
    return _options(parameters)


def _check_values(parameters: _Parameters) -> None:
    if parameters.modelVersion not in MODEL_VERSIONS:
        known = ", ".join(sorted(MODEL_VERSIONS))
        message = f"Invalid model version. Possible values are: {known}."
        raise bad_request(message, "ModelVersionIncorrect")
    requested = parameters.piiCategories or []
    _check_categories("piiCategories", requested, ALL_CATEGORIES | {"All", "Default"})
    _check_categories("excludePiiCategories", parameters.excludePiiCategories, ALL_CATEGORIES)
    characters = [parameters.redactionCharacter]
    characters += [p.redactionCharacter for p in _policies(parameters) if p.redactionCharacter]
    if any(char not in REDACTION_CHARACTERS for char in characters):
        allowed = " ".join(sorted(REDACTION_CHARACTERS))
        raise bad_request(f"Invalid redactionCharacter; allowed: {allowed}.")


def _check_categories(field: str, names: list[str], valid: frozenset[str]) -> None:
    unknown = [name for name in names if name not in valid]
    if unknown:
        raise bad_request(f"Invalid value(s) in {field}: {', '.join(unknown)}.")


def _policies(parameters: _Parameters) -> list[_Policy]:
    single = [parameters.redactionPolicy] if parameters.redactionPolicy else []
    return single + parameters.redactionPolicies


def _default_policy(parameters: _Parameters) -> _Policy | None:
    policies = _policies(parameters)
    general = [p for p in policies if not p.entityTypes]
    return general[0] if general else None


def _options(parameters: _Parameters) -> TaskOptions:
    policy = _default_policy(parameters)
    kind = policy.policyKind if policy else "characterMask"
    requested = parameters.piiCategories
    everything = requested is None or "All" in requested or "Default" in requested
    exclusion = parameters.valueExclusionPolicy or _ValueExclusion()
    threshold = parameters.confidenceScoreThreshold
    return TaskOptions(
        string_index_type=parameters.stringIndexType,
        categories=None if everything else frozenset(requested or ()),
        excluded_categories=frozenset(parameters.excludePiiCategories),
        redaction_character=(policy and policy.redactionCharacter) or parameters.redactionCharacter,
        mask=kind not in _NO_MASK_POLICIES,
        entity_mask=kind in _ENTITY_MASK_POLICIES,
        excluded_values=tuple(exclusion.excludedValues),
        values_case_sensitive=exclusion.caseSensitive,
        score_threshold=threshold.default if threshold else 0.0,
    )


def _describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or "body"
    return f"{location}: {first['msg']}"
