"""Turning the texts of a request into detector documents, and entities back into text spans.

A text is split into chunks (the unit the cache stores). A planned document holds one or more
chunks as segments, joined by ``SEPARATOR`` when packed. Mapping an entity back clips it to each
segment it touches, so an entity never spills into a neighbour, and one that crosses a separator
is split and masked on both sides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from redaction.chunking import TextChunk, split_text
from redaction.entities import Document, Entity

SEPARATOR = "\n\n"


@dataclass(frozen=True, slots=True)
class Chunk:
    """Code points ``start:start+len(text)`` of text ``text_index``; never whitespace only."""

    text_index: int
    start: int
    text: str


@dataclass(frozen=True, slots=True)
class Segment:
    """``length`` code points of text ``text_index`` from ``text_offset``, at ``doc_offset``;
    ``chunk_index`` names the chunk it holds."""

    text_index: int
    text_offset: int
    doc_offset: int
    length: int
    chunk_index: int = 0


@dataclass(frozen=True, slots=True)
class PlannedDocument:
    document: Document
    segments: tuple[Segment, ...]


def split_chunks(
    texts: Sequence[str], max_chars: int, known_starts: Mapping[int, Sequence[int]] | None = None
) -> list[Chunk]:
    """The chunks of every text in order; whitespace-only texts and chunks need no scan.

    ``known_starts`` gives, per text index, chunk starts found earlier by ``split_text`` for the
    same text (cutting long text at natural boundaries is the costly part)."""
    known = known_starts or {}
    return [
        Chunk(index, piece.start, piece.text)
        for index, text in enumerate(texts)
        for piece in (
            _pieces(text, known[index]) if index in known else split_text(text, max_chars)
        )
        if piece.text.strip()
    ]


def chunk_starts_valid(starts: Sequence[int], length: int, max_chars: int) -> bool:
    """True if ``starts`` cut a text of ``length`` into pieces of 1 to ``max_chars``."""
    bounds = [*starts, length]
    return (
        bool(starts)
        and starts[0] == 0
        and all(0 < end - start <= max_chars for start, end in pairwise(bounds))
    )


def _pieces(text: str, starts: Sequence[int]) -> list[TextChunk]:
    ends = [*starts[1:], len(text)]
    return [TextChunk(start, text[start:end]) for start, end in zip(starts, ends, strict=True)]


def build_documents(
    chunks: Sequence[Chunk], groups: Iterable[Sequence[int]]
) -> list[PlannedDocument]:
    """One document per group of chunk indices, the chunks joined by ``SEPARATOR``."""
    planned: list[PlannedDocument] = []
    for group in groups:
        segments: list[Segment] = []
        offset = 0
        for chunk_index in group:
            chunk = chunks[chunk_index]
            segments.append(
                Segment(chunk.text_index, chunk.start, offset, len(chunk.text), chunk_index)
            )
            offset += len(chunk.text) + len(SEPARATOR)
        text = SEPARATOR.join(chunks[chunk_index].text for chunk_index in group)
        planned.append(PlannedDocument(Document(str(len(planned)), text), tuple(segments)))
    return planned


def plan_documents(texts: Sequence[str], max_chars: int) -> list[PlannedDocument]:
    """One document per chunk of each text (no packing)."""
    chunks = split_chunks(texts, max_chars)
    return build_documents(chunks, ([index] for index in range(len(chunks))))


def split_entities(
    planned: PlannedDocument, entities: Iterable[Entity]
) -> list[tuple[Segment, Entity]]:
    """``(segment, piece of entity in that segment's chunk offsets)`` for each piece."""
    pieces: list[tuple[Segment, Entity]] = []
    for entity in entities:
        for segment in planned.segments:
            start = max(entity.offset, segment.doc_offset)
            end = min(entity.end, segment.doc_offset + segment.length)
            if start < end:
                offset = start - segment.doc_offset
                pieces.append((segment, Entity(offset, end - start, entity.category, entity.score)))
    return pieces


def map_entities(planned: PlannedDocument, entities: Iterable[Entity]) -> list[tuple[int, Entity]]:
    """``(text_index, entity in that text's offsets)`` for each piece of each entity."""
    return [
        (segment.text_index, piece.shifted(segment.text_offset))
        for segment, piece in split_entities(planned, entities)
    ]
