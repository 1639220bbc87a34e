"""Turning the texts of a request into detector documents, and entities back into text spans.

A text is split into chunks (the unit the cache stores). A planned document holds one or more
chunks as segments, joined by ``SEPARATOR`` when packed. Mapping an entity back clips it to each
segment it touches, so an entity never spills into a neighbour, and one that crosses a separator
is split and masked on both sides.

Seams: what the model reads as one is scanned as one. Every cut between two chunks of a text,
and every boundary between consecutive texts of one flow (the contents of consecutive messages
and parts), gets a seam chunk: ``SEAM_WINDOW`` characters on each side, joined with nothing, so a
value split across the cut is whole in it. A seam chunk's entities are clipped to each text it
spans and masked on both sides. A window whose edge falls inside a run of non-whitespace takes
the whole run, up to ``SEAM_REACH`` characters from the cut: a long value (an e-mail address of
up to 254 characters, a URL) across the cut is whole in the seam, not cut at its edge.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from redaction.entities import Document, Entity
from redaction.planning.canonical import CanonicalText, canonicalize
from redaction.planning.chunking import TextChunk, split_text

SEPARATOR = "\n\n"


SEAM_WINDOW = 64
# How far a seam reaches for the rest of a run of non-whitespace its window's edge cuts.
SEAM_REACH = 1024
# Between two texts whose boundary is not inside a value (see ``_glued``).
SEAM_BREAK = "\n"
_ADDRESS_START = re.compile(r"[\w.+-]{0,64}@\w")
# A capital, lower-case letters, then closing punctuation at most before a space or the end.
_CAPITALISED_WORD = re.compile(r"[^\W\d_][^\W\d_A-Z]+[^\W\d_]*[,;:!?.)\]\"'\u2019]*(?:\s|\Z)")
_BREAK = re.compile(r"[.!?\u3002\uff01\uff1f][\"')\]\u2019\u201d]*\s+|\n")
_SPACE = re.compile(r"\s")
# The start of the run of non-whitespace that ends where a search stops (``endpos``).
_RUN_START = re.compile(r"(?<!\S)\S*\Z")
_SENTENCE_END = frozenset(".!?)]}\"'\u3002\uff01\uff1f")


@dataclass(frozen=True, slots=True)
class Piece:
    """``length`` code points of text ``text_index`` from ``text_start``, at ``chunk_offset`` of
    a seam chunk."""

    text_index: int
    text_start: int
    chunk_offset: int
    length: int


@dataclass(frozen=True, slots=True)
class Chunk:
    """Code points ``start:start+len(text)`` of text ``text_index``; never whitespace only. A
    seam chunk is made of ``pieces`` of several texts (``text_index`` is its first text's)."""

    text_index: int
    start: int
    text: str
    pieces: tuple[Piece, ...] = ()
    view: CanonicalText | None = None  # a seam's canonical view: escapes split by the seam

    @property
    def text_indices(self) -> list[int]:
        return [piece.text_index for piece in self.pieces] or [self.text_index]

    def place(self, entities: Iterable[Entity]) -> Iterator[tuple[int, Entity]]:
        """``(text_index, entity in that text's offsets)`` for each piece of each entity."""
        if not self.pieces:
            if self.start == 0:  # the text's first chunk: the offsets are the text's already
                yield from ((self.text_index, entity) for entity in entities)
            else:
                yield from ((self.text_index, entity.shifted(self.start)) for entity in entities)
            return
        if self.view is not None:
            entities = _in_original(self.view, entities)
        for entity in entities:
            for piece in self.pieces:
                start = max(entity.offset, piece.chunk_offset)
                end = min(entity.end, piece.chunk_offset + piece.length)
                if start < end:
                    offset = piece.text_start + start - piece.chunk_offset
                    yield (
                        piece.text_index,
                        Entity(offset, end - start, entity.category, entity.score),
                    )


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
    chunks: list[Chunk] = []
    for index, text in enumerate(texts):
        if 0 < len(text) <= max_chars and index not in known:  # one piece: the whole text
            if text.strip():
                chunks.append(Chunk(index, 0, text))
            continue
        pieces = _pieces(text, known[index]) if index in known else split_text(text, max_chars)
        chunks.extend(Chunk(index, p.start, p.text) for p in pieces if p.text.strip())
    return chunks


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
        spans = tuple((s.doc_offset, s.doc_offset + s.length) for s in segments)
        document = Document(str(len(planned)), text, spans if len(spans) > 1 else ())
        planned.append(PlannedDocument(document, tuple(segments)))
    return planned


def split_entities(
    planned: PlannedDocument, entities: Iterable[Entity]
) -> list[tuple[Segment, Entity]]:
    """``(segment, piece of entity in that segment's chunk offsets)`` for each piece."""
    segments = planned.segments
    if len(segments) == 1 and segments[0].doc_offset == 0:  # one chunk, not packed
        return _single_segment(segments[0], entities)
    offsets = [segment.doc_offset for segment in segments]
    pieces: list[tuple[Segment, Entity]] = []
    for entity in entities:
        low, high = entity.offset, entity.offset + entity.length
        for index in range(max(bisect_right(offsets, low) - 1, 0), len(segments)):
            segment = segments[index]
            begin = segment.doc_offset
            if begin >= high:
                break
            start, end = max(low, begin), min(high, begin + segment.length)
            if start < end:
                pieces.append((segment, _piece(entity, start - begin, end - start)))
    return pieces


def _single_segment(segment: Segment, entities: Iterable[Entity]) -> list[tuple[Segment, Entity]]:
    """``split_entities`` of a document that is one chunk from its offset 0: each entity cut
    to the chunk (itself when inside it, as nearly every one is)."""
    pieces: list[tuple[Segment, Entity]] = []
    size = segment.length
    for entity in entities:
        start, end = max(entity.offset, 0), min(entity.offset + entity.length, size)
        if start < end:
            pieces.append((segment, _piece(entity, start, end - start)))
    return pieces


def _piece(entity: Entity, offset: int, length: int) -> Entity:
    """``entity`` moved to ``offset`` and cut to ``length``: itself when that changes nothing
    (entities are immutable; most stay whole in a text's first chunk)."""
    if offset == entity.offset and length == entity.length:
        return entity
    return Entity(offset, length, entity.category, entity.score)


def seam_chunks(
    texts: Sequence[str],
    chunks: Sequence[Chunk],
    flows: Sequence[int | None],
    window: int = SEAM_WINDOW,
) -> list[Chunk]:
    """A seam chunk around every cut between chunks of a text and every boundary between
    consecutive texts of the same flow; whitespace-only seams are left out."""
    cuts: dict[int, list[int]] = {}
    for chunk in chunks:
        if chunk.start > 0:
            cuts.setdefault(chunk.text_index, []).append(chunk.start)
    seams: list[Chunk] = []
    for group in _flow_groups(flows):
        seams.extend(_group_seams(texts, group, cuts, window))
    return seams


def _flow_groups(flows: Sequence[int | None]) -> list[list[int]]:
    """Text indices read one after another: each flow in order, and each text with no flow."""
    groups: dict[object, list[int]] = {}
    for index, flow in enumerate(flows):
        groups.setdefault(("flow", flow) if flow is not None else ("text", index), []).append(index)
    return list(groups.values())


def _group_seams(
    texts: Sequence[str], group: Sequence[int], cuts: Mapping[int, Sequence[int]], window: int
) -> Iterator[Chunk]:
    starts: list[int] = []
    boundaries: set[int] = set()
    total = 0
    for index in group:
        starts.append(total)
        if index in cuts:  # a text cut into chunks (most are one)
            boundaries.update(total + cut for cut in cuts[index])
        total += len(texts[index])
        boundaries.add(total)
    boundaries.discard(total)
    boundaries.discard(0)
    position = dict(zip(group, starts, strict=True))
    covered = (0, -1)
    emitted: set[tuple[Piece, ...]] = set()
    ends = {position[index] + len(texts[index]): k for k, index in enumerate(group)}
    for boundary in sorted(boundaries):
        if boundary in ends and _sentence_between(texts, group, ends[boundary]):
            continue  # a sentence ends or starts here: no value crosses it
        low, high = max(0, boundary - window), min(total, boundary + window)
        half = (max(0, boundary - window // 2), min(total, boundary + window // 2))
        if covered[0] <= half[0] and half[1] <= covered[1]:
            continue  # short texts: a value that crosses here lies in the previous seam
        pieces = _seam_pieces(texts, group, starts, position, boundary, window)
        if not pieces or tuple(pieces) in emitted:
            continue
        emitted.add(tuple(pieces))
        covered = (low, high)
        joined = canonicalize(_join(texts, pieces))
        view = None if joined.identity else joined
        if joined.text.strip():
            yield Chunk(
                pieces[0].text_index, pieces[0].text_start, joined.text, tuple(pieces), view
            )


def _sentence_between(texts: Sequence[str], group: Sequence[int], k: int) -> bool:
    """True when the ``k``-th text of the group and the next non-empty one are split by a
    sentence break, as ``_trim`` would find it (the cheap test before a seam is laid out)."""
    text = texts[group[k]]
    if not text:
        return False
    right = ""
    for j in range(k + 1, len(group)):
        right = texts[group[j]]
        if right:
            break
    if not right:
        return False
    if _TAIL_BREAK.search(text[-8:]) or right[0] == "\n":
        return True
    return not _glued(text, len(text), right, 0) and not _starts_an_address(right, 0)


_TAIL_BREAK = re.compile(r"[.!?\u3002\uff01\uff1f][\"')\]\u2019\u201d]*\s+$|\n\s*$")


def _offset_of(position: Mapping[int, int], pieces: Sequence[Piece], boundary: int) -> int:
    """Where stream offset ``boundary`` falls in the seam laid out from ``pieces``
    (``position``: each text's start in the stream)."""
    for piece in pieces:
        begin = position[piece.text_index] + piece.text_start
        if begin <= boundary < begin + piece.length:
            return piece.chunk_offset + boundary - begin
    return pieces[-1].chunk_offset + pieces[-1].length if pieces else 0


def _seam_pieces(
    texts: Sequence[str],
    group: Sequence[int],
    starts: Sequence[int],
    position: Mapping[int, int],
    boundary: int,
    window: int,
) -> list[Piece]:
    """The pieces of the seam at stream offset ``boundary``: laid out a little wider than
    ``window`` first, and again up to ``SEAM_REACH`` when a run of non-whitespace at an edge
    goes on past that layout."""
    total = starts[-1] + len(texts[group[-1]])
    for reach in (window + window // 2, SEAM_REACH):
        low, high = max(0, boundary - reach), min(total, boundary + reach)
        pieces = _window(texts, group, starts, low, high)
        joined = _join(texts, pieces)
        first, last = _trim(joined, _offset_of(position, pieces, boundary), window)
        cut = (first == 0 and low > 0) or (last == len(joined) and high < total)
        if not cut or reach >= SEAM_REACH:
            return _clip(pieces, first, last)
    return []  # never reached: the last reach returns


def _trim(joined: str, middle: int, window: int) -> tuple[int, int]:
    """The span of ``joined`` a seam keeps: ``window`` characters on each side of ``middle``,
    widened to the whole runs of non-whitespace at its edges, and cut to the sentence around
    ``middle``: no value runs across a sentence break (closing punctuation and space, a line
    break, or a break between texts), so text beyond one is not needed. An empty span when a
    break falls right at ``middle``: nothing can cross it."""
    left = _RUN_START.search(joined, 0, max(middle - window, 0))
    before = [m.end() for m in _BREAK.finditer(joined, left.start() if left else 0, middle)]
    low = before[-1] if before else left.start() if left else 0
    right = _SPACE.search(joined, min(middle + window, len(joined)))
    after = _BREAK.search(joined, middle, right.end() if right else len(joined))
    high = after.start() if after else right.start() if right else len(joined)
    if low >= middle or high <= middle:
        return middle, middle
    if not joined[low:middle].strip() or not joined[middle:high].strip():
        return middle, middle
    return low, high


def _clip(pieces: Sequence[Piece], low: int, high: int) -> list[Piece]:
    """The pieces cut to ``[low, high)`` of the seam they lay out, re-based at ``low``."""
    clipped: list[Piece] = []
    for piece in pieces:
        begin, end = max(low, piece.chunk_offset), min(high, piece.chunk_offset + piece.length)
        if begin < end:
            start = piece.text_start + begin - piece.chunk_offset
            clipped.append(Piece(piece.text_index, start, begin - low, end - begin))
    return clipped


def _in_original(view: CanonicalText, entities: Iterable[Entity]) -> list[Entity]:
    spans = ((view.to_original(e.offset, e.end), e) for e in entities)
    return [Entity(s, e - s, entity.category, entity.score) for (s, e), entity in spans if s < e]


def _window(
    texts: Sequence[str], group: Sequence[int], starts: Sequence[int], low: int, high: int
) -> list[Piece]:
    """The pieces of the group's texts between stream offsets ``low`` and ``high``, placed as
    ``_join`` lays them out."""
    pieces: list[Piece] = []
    offset = 0
    first_text = max(bisect_right(starts, low) - 1, 0)
    for index, start in zip(group[first_text:], starts[first_text:], strict=True):
        if start >= high:
            break
        begin, end = max(low, start), min(high, start + len(texts[index]))
        if begin < end:
            first = begin - start
            glued = _glued_to(texts, pieces[-1], texts[index], first) if pieces else True
            if not glued and not _starts_an_address(texts[index], first):
                offset += len(SEAM_BREAK)
            pieces.append(Piece(index, begin - start, offset, end - begin))
            offset += end - begin
    return pieces


def _join(texts: Sequence[str], pieces: Sequence[Piece]) -> str:
    parts: list[str] = []
    position = 0
    for piece in pieces:
        if piece.chunk_offset > position:
            parts.append(SEAM_BREAK)
        parts.append(texts[piece.text_index][piece.text_start : piece.text_start + piece.length])
        position = piece.chunk_offset + piece.length
    return "".join(parts)


def _glued_to(texts: Sequence[str], piece: Piece, right: str, start: int) -> bool:
    """Whether ``right[start:]`` is read glued to the end of ``piece``."""
    return _glued(texts[piece.text_index], piece.text_start + piece.length, right, start)


def _glued(left: str, end: int, right: str, start: int) -> bool:
    """Whether ``left[:end]`` and ``right[start:]`` (both non-empty) are read glued together.
    After closing punctuation, only a lower-case letter or a digit is (``quokka.`` +
    ``zeta@example.com``; after ``Done.``, a new sentence). Anywhere else they are, a capital
    after a digit or a lower-case letter included (``NL91`` + ``ABNA0417164300``,
    ``jane.doe@e`` + ``XAMPLE.COM``), except a capitalised word (``Thanks``, ``Mijn``, ``Hi,``:
    no digit, ``@`` or inner dot in it): a new sentence, into which a value that ends the first
    text (an address, a URL, a key) does not run on."""
    last, first = left[end - 1], right[start]
    if last in _SENTENCE_END:
        return first.isalnum() and not first.isupper()
    if not first.isupper() or not (last.islower() or last.isdigit()):
        return True
    return _CAPITALISED_WORD.match(right, start) is None


def _starts_an_address(text: str, start: int) -> bool:
    return _ADDRESS_START.match(text, start) is not None
