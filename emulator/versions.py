"""The api-versions of the analyze-text PII task, and the parameters each one defines."""

from __future__ import annotations

COMMON_PARAMETERS = frozenset(
    {"modelVersion", "loggingOptOut", "domain", "piiCategories", "stringIndexType"}
)

_PREVIEW_2023_04 = frozenset({"excludePiiCategories"})
_PREVIEW_2023_11 = _PREVIEW_2023_04 | {"redactionCharacter"}
_PREVIEW_2024_11 = _PREVIEW_2023_11 | {"redactionPolicy"}
# One SW-2025-11-01 snapshot has a singular `redactionPolicy`, another does not: accepted.
_GA_2025_11 = frozenset({"valueExclusionPolicy", "entitySynonyms", "redactionPolicy"})
_GA_2026_05 = frozenset(
    {
        "excludePiiCategories",
        "valueExclusionPolicy",
        "entitySynonyms",
        "redactionPolicies",
        "confidenceScoreThreshold",
        "disableEntityValidation",
    }
)

# Parameters beyond COMMON_PARAMETERS, per api-version (shared notes, section 2).
EXTRA_PARAMETERS: dict[str, frozenset[str]] = {
    "2022-05-01": frozenset(),
    "2023-04-01": frozenset(),
    "2024-11-01": frozenset(),
    "2025-11-01": _GA_2025_11,
    "2026-05-01": _GA_2026_05,
    "2021-11-01-preview": frozenset(),
    "2022-10-01-preview": frozenset(),
    "2023-04-15-preview": _PREVIEW_2023_04,
    "2023-11-15-preview": _PREVIEW_2023_11,
    "2024-11-15-preview": _PREVIEW_2024_11,
    "2025-05-15-preview": _PREVIEW_2024_11,
    "2025-11-15-preview": _GA_2026_05,
    "2026-05-15-preview": _GA_2026_05,
}

API_VERSIONS = frozenset(EXTRA_PARAMETERS)


def allowed_parameters(api_version: str) -> frozenset[str]:
    """Every `parameters` key the given (known) api-version defines."""
    return COMMON_PARAMETERS | EXTRA_PARAMETERS[api_version]
