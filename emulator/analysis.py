"""Builds the `PiiEntityRecognitionResults` body for a validated request (pure: no aiohttp)."""

from __future__ import annotations

import math
from typing import Any, Protocol

from emulator.entity_masks import apply_entity_masks
from emulator.indexing import TextUnits, count_text_elements
from emulator.request import MODEL_VERSION, AnalyzeRequest, InputDocument, TaskOptions
from redaction.entities import Entity

MAX_TEXT_ELEMENTS = 5120
CHARACTERS_PER_TRANSACTION = 1000
_TOO_LARGE = (
    f"A document within the request was too large to be processed. Limit document size to: "
    f"{MAX_TEXT_ELEMENTS} text elements. For additional details on the data limitations see "
    "https://aka.ms/text-analytics-data-limits"
)


class Recognizer(Protocol):
    def find_entities(self, text: str, language: str = "en") -> list[Entity]: ...


def document_error(message: str, inner_code: str = "InvalidDocument") -> dict[str, Any]:
    """The `error` of one entry of `results.errors`."""
    return {
        "code": "InvalidArgument",
        "message": "Invalid document in request.",
        "innererror": {"code": inner_code, "message": message},
    }


def analyze_batch(
    request: AnalyzeRequest, recognizer: Recognizer, *, show_stats: bool = False
) -> dict[str, Any]:
    documents: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for document in request.documents:
        problem = _document_problem(document.text)
        if problem is not None:
            errors.append({"id": document.id, "error": document_error(problem)})
        else:
            documents.append(analyze_document(document, recognizer, request.options, show_stats))
    results: dict[str, Any] = {"documents": documents, "errors": errors}
    if show_stats:
        results["statistics"] = _batch_statistics(documents, len(errors))
    results["modelVersion"] = MODEL_VERSION
    return {"kind": "PiiEntityRecognitionResults", "results": results}


def _document_problem(text: str) -> str | None:
    if not text:
        return "Document text is empty."
    if count_text_elements(text) > MAX_TEXT_ELEMENTS:
        return _TOO_LARGE
    return None


def analyze_document(
    document: InputDocument, recognizer: Recognizer, options: TaskOptions, show_stats: bool
) -> dict[str, Any]:
    units = TextUnits(document.text, options.string_index_type)
    found = recognizer.find_entities(document.text, document.language)
    kept = sorted((e for e in found if _keep(e, document.text, options)), key=lambda e: e.offset)
    spans = [units.widen(entity.offset, entity.end) for entity in kept]
    bodies = [_entity_body(e, span, units) for e, span in zip(kept, spans, strict=True)]
    redacted = document.text
    if options.entity_mask:
        redacted, masks = apply_entity_masks(units, kept, spans)
        for body, mask in zip(bodies, masks, strict=True):
            body.update(mask=mask.mask, maskOffset=mask.offset, maskLength=mask.length)
    elif options.mask:
        redacted = units.mask(spans, options.redaction_character)
    result: dict[str, Any] = {
        "id": document.id,
        "redactedText": redacted,
        "entities": bodies,
        "warnings": [],
    }
    if show_stats:
        count = units.length()
        result["statistics"] = {"charactersCount": count, "transactionsCount": _transactions(count)}
    return result


def _keep(entity: Entity, text: str, options: TaskOptions) -> bool:
    if options.categories is not None and entity.category not in options.categories:
        return False
    if entity.category in options.excluded_categories or entity.score < options.score_threshold:
        return False
    value = text[entity.offset : entity.end]
    if options.values_case_sensitive:
        return value not in options.excluded_values
    return value.casefold() not in {excluded.casefold() for excluded in options.excluded_values}


def _entity_body(entity: Entity, span: tuple[int, int], units: TextUnits) -> dict[str, Any]:
    offset, length = units.measure(*span)
    return {
        "text": units.text[span[0] : span[1]],
        "category": entity.category,
        "offset": offset,
        "length": length,
        "confidenceScore": entity.score,
    }


def _transactions(characters: int) -> int:
    return max(1, math.ceil(characters / CHARACTERS_PER_TRANSACTION))


def _batch_statistics(documents: list[dict[str, Any]], erroneous: int) -> dict[str, int]:
    return {
        "documentsCount": len(documents) + erroneous,
        "validDocumentsCount": len(documents),
        "erroneousDocumentsCount": erroneous,
        "transactionsCount": sum(d["statistics"]["transactionsCount"] for d in documents),
    }
