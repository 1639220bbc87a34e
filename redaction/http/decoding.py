"""Turning the bytes of a ``/redact`` or ``/restore`` call into a validated request, refusing
hostile input.

Every refusal is a ``RequestError`` whose message and details name fields and limits, never
values: pydantic's errors carry the input, so they are rebuilt here without it.
"""

from __future__ import annotations

import difflib
import json
import re
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from redaction import strict_json
from redaction.errors import InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError
from redaction.models import (
    CustomPattern,
    InputLimits,
    RedactConfig,
    RedactRequest,
    RestoreConfig,
    RestoreRequest,
)
from redaction.planning.body import JSON_TEXT_KEYS, holds_lone_surrogate
from redaction.policy.tenant import check_config

_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Strict UTF-8 never decodes to a surrogate: one in a parsed body comes from a \u escape.
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_JSON_TYPES = re.compile(r"^(application/(?:[\w.+-]+\+)?json|text/json)$")


def check_headers(
    headers: Mapping[str, str], declared_length: int | None, limits: InputLimits
) -> None:
    """Refuses a request by its headers alone, before its body is read."""
    lowered = {key.lower(): value for key, value in headers.items()}
    media = lowered.get("content-type", "application/json").split(";")[0].strip().lower()
    if not _JSON_TYPES.match(media):
        raise UnsupportedMediaTypeError("the body must be JSON (Content-Type: application/json)")
    if lowered.get("content-encoding", "identity").strip().lower() not in ("", "identity"):
        raise UnsupportedMediaTypeError("compressed request bodies are not accepted")
    if declared_length is not None and declared_length > limits.max_body_bytes:
        raise _too_large(limits)


def parse_request(raw: bytes, limits: InputLimits) -> RedactRequest:
    """A validated ``RedactRequest`` from the raw body."""
    return validate_request(_json_object(raw, limits))


def _json_object(raw: bytes, limits: InputLimits) -> dict[str, Any]:
    """The raw body as a JSON object within the limits, or the 4xx saying why not."""
    if len(raw) > limits.max_body_bytes:
        raise _too_large(limits)
    document = decode_json(raw)
    if not isinstance(document, dict):
        raise InvalidRequestError("the body must be a JSON object", [{"field": "$"}])
    check_shape(document, limits, surrogates=_ESCAPED_SURROGATE.search(raw) is not None)
    return document


def parse_restore_request(raw: bytes, limits: InputLimits) -> RestoreRequest:
    """A validated ``RestoreRequest`` from the raw body of a ``/restore`` call."""
    document = _json_object(raw, limits)
    try:
        return RestoreRequest.model_validate(document)
    except ValidationError as error:
        raise invalid_request(error) from None


def decode_json(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequestError("the body is not valid UTF-8") from None
    try:
        return strict_json.loads(text)
    except RecursionError:
        raise InvalidRequestError("the JSON nests too deeply") from None
    except strict_json.DuplicateKeyError:
        raise InvalidRequestError("the JSON has a duplicate key in an object") from None
    except ValueError as error:
        raise InvalidRequestError(_json_problem(error)) from None


def _json_problem(error: ValueError) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"the body is not valid JSON ({error.msg} at character {error.pos})"
    if "is not valid JSON" in str(error):
        return "the body is not valid JSON (NaN and Infinity are not allowed)"
    return "the body is not valid JSON (a number is too large)"


def check_shape(document: Any, limits: InputLimits, *, surrogates: bool = True) -> None:
    """Nesting depth, value count and well-formed Unicode, in one iterative walk; tool-call
    arguments (JSON in a string) are held to the same Unicode rule. ``surrogates=False``: the
    document cannot hold a surrogate (its JSON has no ``\\uD8..`` to ``\\uDF..`` escape), so
    its strings and keys are not searched for one."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    values = 0
    while stack:
        value, depth = stack.pop()
        values += 1
        if depth > limits.max_depth:
            raise InvalidRequestError(f"the JSON nests deeper than {limits.max_depth} levels")
        if isinstance(value, str):
            if surrogates and _LONE_SURROGATE.search(value):
                raise InvalidRequestError("a string holds an unpaired UTF-16 surrogate")
        elif isinstance(value, dict):
            values += len(value)
            stack.extend((item, depth + 1) for item in value.values())
            if surrogates and any(_LONE_SURROGATE.search(key) for key in value):
                raise InvalidRequestError("a key holds an unpaired UTF-16 surrogate")
            _check_json_texts(value)
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        if values > limits.max_strings:
            raise PayloadTooLargeError(
                f"the body holds more than {limits.max_strings} JSON values and keys",
                [{"field": "body", "limit": limits.max_strings}],
            )


def _check_json_texts(value: Mapping[str, Any]) -> None:
    """The JSON texts in an object (tool-call arguments) spell no lone surrogate either. Not
    gated on the body's own escapes: ``\\u005cudc00`` spells one there without any."""
    for key in JSON_TEXT_KEYS:
        nested = value.get(key)
        if isinstance(nested, str) and holds_lone_surrogate(nested):
            raise InvalidRequestError(f"the JSON text in {key} holds an unpaired UTF-16 surrogate")


def validate_request(document: dict[str, Any]) -> RedactRequest:
    try:
        request = RedactRequest.model_validate(document)
    except ValidationError as error:
        raise invalid_request(error) from None
    check_config(request.config)
    return request


def invalid_request(error: ValidationError) -> InvalidRequestError:
    """The 400 for a request that does not fit the contract: field paths and problems, never
    a value or a key the caller made up."""
    model = _REQUEST_MODELS.get(error.title)
    details = [
        _detail(item, model)
        for item in error.errors(include_input=False, include_url=False, include_context=False)
    ]
    fields = ", ".join(sorted({d["field"] for d in details}))
    hints = sorted({f"{d['did_you_mean']}" for d in details if "did_you_mean" in d})
    suffix = f" (did you mean {', '.join(hints)}?)" if hints else ""
    return InvalidRequestError(f"invalid request: {fields}{suffix}", details)


def _detail(item: ErrorDetails, model: type[BaseModel] | None) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "field": _location(item),
        "problem": item["msg"],
        "type": item["type"],
    }
    if item["type"] == "extra_forbidden" and model is not None:
        suggestion = _closest_field(model, item["loc"])
        if suggestion is not None:
            detail["did_you_mean"] = suggestion
    return detail


def _closest_field(model: type[BaseModel], loc: tuple[str | int, ...]) -> str | None:
    """The path of the known field closest in spelling to a misspelt one (``config.fail_close``
    -> ``config.fail_closed``). Only the contract's own names come out, never the caller's."""
    *parents, unknown = loc
    for part in parents:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        nested = _nested_model(field.annotation) if field is not None else None
        if nested is None:
            return None
        model = nested
    if not isinstance(unknown, str):
        return None
    matches = difflib.get_close_matches(unknown, list(model.model_fields), n=1, cutoff=0.75)
    return ".".join([*(_known_part(part) for part in parents), matches[0]]) if matches else None


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model inside ``Model``, ``list[Model]`` or ``Model | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        nested = _nested_model(argument)
        if nested is not None:
            return nested
    return None


def _location(item: ErrorDetails) -> str:
    """Dotted path of a field. A key the caller made up is never repeated: it may be data, so
    only the contract's own field names and list positions appear; any other key is ``*``."""
    parts = [_known_part(part) for part in item["loc"]]
    if item["type"] == "extra_forbidden" and parts:
        parts[-1] = "(unknown field)"
    return ".".join(parts) or "$"


def _known_part(part: str | int) -> str:
    return str(part) if isinstance(part, int) or part in _FIELD_NAMES else "*"


def _field_names(*models: type[BaseModel]) -> frozenset[str]:
    return frozenset({"[key]"}).union(*(model.model_fields for model in models))


_FIELD_NAMES = _field_names(
    RedactRequest, RedactConfig, CustomPattern, RestoreRequest, RestoreConfig
)
_REQUEST_MODELS: dict[str, type[BaseModel]] = {
    model.__name__: model for model in (RedactRequest, RestoreRequest)
}


def _too_large(limits: InputLimits) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"the body is larger than {limits.max_body_bytes} bytes",
        [{"field": "body", "limit_bytes": limits.max_body_bytes}],
    )
