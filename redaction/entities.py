"""Values that flow between the detectors and the core: documents and the entities found in them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Entity:
    """A detected span, in Unicode code points (Python ``str`` indices) of its document."""

    offset: int
    length: int
    category: str
    score: float

    @property
    def end(self) -> int:
        return self.offset + self.length

    def shifted(self, delta: int) -> Entity:
        return Entity(self.offset + delta, self.length, self.category, self.score)


@dataclass(frozen=True, slots=True)
class Document:
    """One unit sent to a detector: at most ``max_doc_chars`` code points. A packed document
    holds several chunks: ``segments`` are their ``(start, end)`` in ``text``, so a detector
    that can read each one on its own (the embedded one) finds in a chunk what it finds in
    that chunk alone, whatever it is packed with. Empty: the text is one chunk."""

    id: str
    text: str
    segments: tuple[tuple[int, int], ...] = ()
