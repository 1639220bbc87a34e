"""The OpenAI request vocabulary: field names that are never personal data, and the few slots
whose value is exempt from scanning when it has the non-text shape the schema fixes for it.

Everything else in a body is scanned (``body.find_texts``). A key outside this vocabulary is
scanned as text, and diagnostics show it only by its position.
"""

from __future__ import annotations

import re
from typing import Any

KNOWN_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
TOOL_ROLES = frozenset({"tool", "function"})

# Field names of the chat completions, Responses, completions and embeddings request bodies, of
# their messages, content parts, tools and output formats, and JSON Schema keywords.
FIELD_NAMES = frozenset(
    [
        "model",
        "messages",
        "role",
        "content",
        "name",
        "refusal",
        "tool_calls",
        "tool_call_id",
        "function_call",
        "function",
        "arguments",
        "id",
        "type",
        "text",
        "image_url",
        "url",
        "detail",
        "input_audio",
        "data",
        "format",
        "file",
        "file_id",
        "file_data",
        "filename",
        "audio",
        "prediction",
        "modalities",
        "temperature",
        "top_p",
        "n",
        "stream",
        "stream_options",
        "include_usage",
        "stop",
        "max_tokens",
        "max_completion_tokens",
        "max_output_tokens",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "user",
        "seed",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "json_schema",
        "schema",
        "strict",
        "description",
        "parameters",
        "metadata",
        "store",
        "service_tier",
        "reasoning_effort",
        "reasoning",
        "effort",
        "summary",
        "web_search_options",
        "search_context_size",
        "user_location",
        "approximate",
        "city",
        "country",
        "region",
        "timezone",
        "verbosity",
        "input",
        "instructions",
        "previous_response_id",
        "include",
        "truncation",
        "background",
        "conversation",
        "prompt",
        "prompt_cache_key",
        "safety_identifier",
        "max_tool_calls",
        "output",
        "call_id",
        "status",
        "input_text",
        "input_image",
        "input_file",
        "output_text",
        "image_generation_call",
        "code_interpreter",
        "file_search",
        "web_search",
        "computer_use_preview",
        "mcp",
        "encoding_format",
        "dimensions",
        "suffix",
        "echo",
        "best_of",
        "voice",
        "annotations",
        "properties",
        "required",
        "items",
        "enum",
        "const",
        "default",
        "examples",
        "anyOf",
        "oneOf",
        "allOf",
        "not",
        "$ref",
        "$defs",
        "definitions",
        "additionalProperties",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "uniqueItems",
        "title",
        "nullable",
        "multipleOf",
        "$schema",
        "$id",
        "$comment",
        "propertyNames",
        "patternProperties",
        "minProperties",
        "maxProperties",
    ]
)

_TOKEN = re.compile(r"[a-z][a-z0-9_.+/-]{0,63}")
_MODEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
# A run of digits long enough to be an SSN, a phone or a card, whatever separates them (one
# character that is not a letter: ``536-22-8915``, ``536_22_8915``, ``536/22/8915``); a date
# (model versions carry one) does not count.
_LONG_DIGITS = re.compile(r"[0-9](?:[^0-9A-Za-z]?[0-9]){6,}")
_DATE = re.compile(r"(?:19|20)[0-9][0-9]([-_./]?)[01][0-9]\1[0-3][0-9]")

_ENUM_KEYS = frozenset(
    {
        "type",
        "object",
        "tool_choice",
        "reasoning_effort",
        "effort",
        "service_tier",
        "encoding_format",
        "detail",
        "voice",
        "format",
        "status",
        "finish_reason",
        "truncation",
        "verbosity",
        "search_context_size",
        "mime_type",
        "media_type",
        "modalities",
        "include",
    }
)
_ID_KEYS = frozenset(
    {"id", "tool_call_id", "call_id", "previous_response_id", "file_id", "response_id", "item_id"}
)
# Slots whose value is a token (a model name, an enum, an id): "_" there separates words.
TOKEN_KEYS = _ENUM_KEYS | _ID_KEYS | {"model"}


# Numeric request parameters: the provider reads them as numbers, never as text.
_NUMERIC_KEYS = frozenset(
    {
        "temperature",
        "top_p",
        "n",
        "max_tokens",
        "max_completion_tokens",
        "max_output_tokens",
        "presence_penalty",
        "frequency_penalty",
        "top_logprobs",
        "logprobs",
        "dimensions",
        "best_of",
        "max_tool_calls",
        "seed",
    }
)


# JSON Schema's numeric keywords: a bound in a tool's or a format's schema, not data.
SCHEMA_NUMBERS = frozenset(
    {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
    | {"minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"}
)


def is_vocabulary(key: str) -> bool:
    return key in FIELD_NAMES


def exempt(key: str, value: Any) -> bool:
    """True for a slot whose value is not scanned: it has the shape the schema fixes, and holds
    no run of six digits (an id or token never needs one; a number hidden there is scanned)."""
    if key == "role":
        return isinstance(value, str) and value in KNOWN_ROLES
    if key in _NUMERIC_KEYS or key in SCHEMA_NUMBERS:
        return _parameter_shaped(value)
    if key == "model":
        return _shaped(value, _MODEL)
    if key in _ID_KEYS:
        return _shaped(value, _ID)
    if key in _ENUM_KEYS:
        if isinstance(value, list):
            return all(_shaped(item, _TOKEN) for item in value)
        return _shaped(value, _TOKEN)
    return False


def _parameter_shaped(value: Any) -> bool:
    """A numeric parameter of the size such parameters have; a card or phone number does not
    fit (integers of 13+ digits, numbers of a million or more are scanned)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) < 10**12
    return isinstance(value, float) and abs(value) < 1e6


def _shaped(value: Any, shape: re.Pattern[str]) -> bool:
    return (
        isinstance(value, str)
        and shape.fullmatch(value) is not None
        and _LONG_DIGITS.search(_DATE.sub("-", value)) is None
    )
