"""Turning the texts of a request into detector documents, and entities back into text spans.

A planned document is made of segments: pieces of texts placed at known offsets. Mapping an
entity back clips it to each segment it touches, so an entity can never spill into a neighbour.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from redaction.chunking import split_text
from redaction.entities import Document, Entity


@dataclass(frozen=True, slots=True)
class Segment:
    """``length`` code points of text ``text_index`` from ``text_offset``, at ``doc_offset``."""

    text_index: int
    text_offset: int
    doc_offset: int
    length: int


@dataclass(frozen=True, slots=True)
class PlannedDocument:
    document: Document
    segments: tuple[Segment, ...]


def plan_documents(texts: Sequence[str], max_chars: int) -> list[PlannedDocument]:
    """One document per chunk of each text; whitespace-only texts and chunks need no document."""
    planned: list[PlannedDocument] = []
    for index, text in enumerate(texts):
        for chunk in split_text(text, max_chars):
            if chunk.text.strip():
                segment = Segment(index, chunk.start, 0, len(chunk.text))
                document = Document(str(len(planned)), chunk.text)
                planned.append(PlannedDocument(document, (segment,)))
    return planned


def map_entities(planned: PlannedDocument, entities: Iterable[Entity]) -> list[tuple[int, Entity]]:
    """``(text_index, entity in that text's offsets)`` for each piece of each entity."""
    mapped: list[tuple[int, Entity]] = []
    for entity in entities:
        for segment in planned.segments:
            start = max(entity.offset, segment.doc_offset)
            end = min(entity.end, segment.doc_offset + segment.length)
            if start < end:
                offset = segment.text_offset + start - segment.doc_offset
                mapped.append(
                    (segment.text_index, Entity(offset, end - start, entity.category, entity.score))
                )
    return mapped
