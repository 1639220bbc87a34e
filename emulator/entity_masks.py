"""Entity-type masking (`entityMask` / `maskWithEntityType`): `[CATEGORY_n]` in place of a span."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from emulator.indexing import TextUnits
from redaction.entities import Entity


@dataclass(frozen=True, slots=True)
class EntityMask:
    mask: str
    offset: int
    length: int


def apply_entity_masks(
    units: TextUnits, entities: Sequence[Entity], spans: Sequence[tuple[int, int]]
) -> tuple[str, list[EntityMask]]:
    """The masked text and each entity's mask, located in that text's units.

    Spans are sorted by start; a span overlapping the previous one shares its mask, and the
    mask then covers both. The same value of a category keeps the same number.
    """
    text = units.text
    pieces: list[str] = []
    located: list[tuple[str, int, int]] = []
    numbers: dict[tuple[str, str], int] = {}
    cursor = 0
    for entity, (start, end) in zip(entities, spans, strict=True):
        if located and start < cursor:
            located.append(located[-1])
            cursor = max(cursor, end)
            continue
        pieces.append(text[cursor:start])
        mask = _label(entity.category, text[start:end], numbers)
        begin = sum(len(piece) for piece in pieces)
        pieces.append(mask)
        located.append((mask, begin, begin + len(mask)))
        cursor = end
    redacted = "".join([*pieces, text[cursor:]])
    masked_units = TextUnits(redacted, units.index_type)
    return redacted, [EntityMask(mask, *masked_units.measure(b, e)) for mask, b, e in located]


def _label(category: str, value: str, numbers: dict[tuple[str, str], int]) -> str:
    key = (category, value)
    if key not in numbers:
        numbers[key] = 1 + sum(1 for known, _ in numbers if known == category)
    return f"[{category.upper()}_{numbers[key]}]"
