"""``openapi.yaml`` and the pydantic models agree, and the served app exposes the spec.

The comparison is structural: for each model, the property names, the required names, and each
property's JSON types (and ``$ref`` targets and enums) must be the same in the JSON Schema pydantic
generates and in the spec's component. A field added to a model without the spec fails here, with
the model, the field and what to write in ``openapi.yaml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestClient
from pydantic import BaseModel

from redaction.categories import ALL_CATEGORIES
from redaction.models import (
    Diagnostics,
    ErrorInfo,
    HealthResponse,
    RedactConfig,
    RedactRequest,
    RedactResponse,
)
from tests.conftest import ServiceFactory

ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = ROOT / "openapi.yaml"
MODELS: list[type[BaseModel]] = [
    RedactRequest,
    RedactConfig,
    RedactResponse,
    Diagnostics,
    ErrorInfo,
    HealthResponse,
]
Schema = dict[str, Any]


def load_spec() -> Schema:
    spec: Schema = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return spec


SPEC = load_spec()
COMPONENTS: dict[str, Schema] = SPEC["components"]["schemas"]


def model_schema(model: type[BaseModel]) -> Schema:
    schema: Schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    return schema


def ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def resolve(schema: Schema) -> Schema:
    """Follows a ``$ref`` to a spec component that is a plain enum alias (e.g. PiiCategory)."""
    if "$ref" in schema and ref_name(schema["$ref"]) not in {m.__name__ for m in MODELS}:
        return COMPONENTS[ref_name(schema["$ref"])]
    return schema


def shape(schema: Schema) -> frozenset[str]:
    """The JSON types a property schema allows, with model references as ``$Name``."""
    schema = resolve(schema)
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        return frozenset().union(*(shape(item) for item in alternatives))
    if "$ref" in schema:
        return frozenset({"$" + ref_name(schema["$ref"])})
    kind = schema.get("type")
    if kind is None and "const" in schema:
        kind = type_of(schema["const"])
    if kind is None:
        return frozenset({"any"})
    kinds = {kind} if isinstance(kind, str) else set(kind)
    if "array" in kinds:
        kinds = (kinds - {"array"}) | {f"array[{'|'.join(sorted(shape(schema['items'])))}]"}
    return frozenset(kinds)


def type_of(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(
        type(value), "object"
    )


def enum_of(schema: Schema) -> list[Any] | None:
    schema = resolve(schema)
    for item in schema.get("anyOf") or schema.get("oneOf") or [schema]:
        values = item.get("enum")
        if values is not None:
            return sorted(values)
    return None


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_spec_component_has_the_models_properties(model: type[BaseModel]) -> None:
    name = model.__name__
    assert name in COMPONENTS, f"openapi.yaml: add components.schemas.{name}"
    generated = set(model_schema(model)["properties"])
    written = set(COMPONENTS[name].get("properties", {}))
    missing, extra = sorted(generated - written), sorted(written - generated)
    assert not missing, (
        f"{name} has fields {missing} that openapi.yaml does not describe: "
        f"add them under components.schemas.{name}.properties"
    )
    assert not extra, (
        f"openapi.yaml describes {name} fields {extra} that the model does not have: "
        f"remove them from components.schemas.{name}.properties"
    )


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_spec_component_requires_what_the_model_requires(model: type[BaseModel]) -> None:
    name = model.__name__
    generated = sorted(model_schema(model).get("required", []))
    written = sorted(COMPONENTS[name].get("required", []))
    assert written == generated, (
        f"components.schemas.{name}.required is {written}; the model requires {generated}"
    )


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_spec_property_types_match_the_model(model: type[BaseModel]) -> None:
    name = model.__name__
    properties = model_schema(model)["properties"]
    written = COMPONENTS[name]["properties"]
    wrong = {
        field: (sorted(shape(written[field])), sorted(shape(schema)))
        for field, schema in properties.items()
        if field in written and shape(written[field]) != shape(schema)
    }
    assert not wrong, "; ".join(
        f"{name}.{field}: openapi.yaml says {spec}, the model says {model_types}"
        for field, (spec, model_types) in wrong.items()
    )


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_spec_enums_match_the_model(model: type[BaseModel]) -> None:
    name = model.__name__
    for field, schema in model_schema(model)["properties"].items():
        expected = enum_of(schema)
        if expected is not None:
            assert enum_of(COMPONENTS[name]["properties"][field]) == expected, f"{name}.{field}"


@pytest.mark.parametrize("model", [RedactRequest, RedactConfig], ids=lambda m: m.__name__)
def test_requests_with_unknown_fields_are_refused_in_both(model: type[BaseModel]) -> None:
    generated = model_schema(model).get("additionalProperties")
    assert COMPONENTS[model.__name__].get("additionalProperties") == generated


def test_excluded_categories_are_the_known_category_names() -> None:
    assert COMPONENTS["PiiCategory"]["enum"] == sorted(ALL_CATEGORIES)


def test_string_limits_of_the_config_match() -> None:
    generated = model_schema(RedactConfig)["properties"]
    written = COMPONENTS["RedactConfig"]["properties"]
    for field in ("detection_language", "redaction_character"):
        for keyword in ("minLength", "maxLength", "pattern", "default"):
            assert written[field].get(keyword) == generated[field].get(keyword), (field, keyword)
    for field in ("excluded_categories", "scan_roles"):
        assert written[field]["maxItems"] == generated[field]["maxItems"], field
    assert written["scan_roles"]["default"] == list(RedactConfig().scan_roles)


def test_every_response_code_of_redact_is_described() -> None:
    responses = SPEC["paths"]["/redact"]["post"]["responses"]
    assert set(responses) == {"200", "400", "401", "413", "415", "500", "503"}
    for code, response in responses.items():
        schema = response["content"]["application/json"]["schema"]
        expected = "RedactedResponse" if code == "200" else "ErrorResponse"
        assert ref_name(schema["$ref"]) == expected, code


def test_security_scheme_is_the_function_key_on_redact_only() -> None:
    scheme = SPEC["components"]["securitySchemes"]["functionKey"]
    assert scheme == {**scheme, "type": "apiKey", "in": "header", "name": "x-functions-key"}
    assert SPEC["paths"]["/redact"]["post"]["security"] == [{"functionKey": []}]
    assert SPEC["paths"]["/health"]["get"]["security"] == []
    assert SPEC["paths"]["/openapi.yaml"]["get"]["security"] == []
    assert SPEC["openapi"].startswith("3.1.")


async def test_the_served_app_exposes_the_spec_anonymously(make_service: ServiceFactory) -> None:
    client: TestClient[Any, Any] = await make_service(
        pii_detector="local", redaction_api_key="s3cret"
    )
    response = await client.get("/openapi.yaml")
    assert response.status == 200
    assert response.content_type == "application/yaml"
    assert await response.read() == SPEC_PATH.read_bytes()
    assert (await client.post("/redact", json={"body": {}})).status == 401
