"""The embedded recognizer: one scan for candidates, then validation and context per candidate."""

from __future__ import annotations

from collections.abc import Sequence

from redaction.embedded.addresses import AddressFinder
from redaction.embedded.candidates import next_candidate
from redaction.embedded.classification import CATEGORIES, Scan, classify
from redaction.embedded.folding import fold_text
from redaction.embedded.names import NameFinder
from redaction.embedded.ner import EntityFinder, load_spacy_finder
from redaction.embedded.phones import DEFAULT_REGIONS, language_regions
from redaction.entities import Entity

DEFAULT_MIN_SCORE = 0.5


class EmbeddedRecognizer:
    """Finds personal data offline and names its categories as Azure AI Language does.

    ``phone_regions`` are tried for national phone numbers after the regions of the document's
    language; ``min_score`` drops weaker entities. ``names`` adds person names in English text
    from name lists and context (``names.py``; setting ``PII_EMBEDDED_NAMES``); ``addresses`` US
    and UK street addresses (``addresses.py``; ``PII_EMBEDDED_ADDRESSES``). Names, addresses
    and organisations from a model: pass ``ner_model`` (an installed spaCy package, see the
    ``ner`` extra) or any ``ner`` finder.
    """

    def __init__(
        self,
        *,
        phone_regions: Sequence[str] = DEFAULT_REGIONS,
        min_score: float = DEFAULT_MIN_SCORE,
        ner_model: str | None = None,
        ner: EntityFinder | None = None,
        names: bool = False,
        addresses: bool = False,
    ) -> None:
        self._phone_regions = tuple(region.upper() for region in phone_regions)
        self._min_score = min_score
        self._ner = (
            ner if ner is not None else (load_spacy_finder(ner_model) if ner_model else None)
        )
        self._names = NameFinder() if names else None
        self._addresses = AddressFinder() if addresses else None
        extra = self._ner.categories if self._ner is not None else frozenset()
        for finder in (self._names, self._addresses):
            if finder is not None:
                extra |= finder.categories
        self.categories: frozenset[str] = CATEGORIES | extra

    def find_entities(self, text: str, language: str = "en") -> list[Entity]:
        """Entities in ``text``, offsets in code points, left to right; spans may overlap."""
        regions = language_regions(language, self._phone_regions)
        scan = Scan(fold_text(text), regions, self._min_score, text)
        found = _scan_entities(scan)
        if self._ner is not None:
            found += [e for e in self._ner.find_entities(text) if e.score >= self._min_score]
        if self._addresses is not None and _english(language):
            found += [e for e in self._addresses.find_entities(text) if e.score >= self._min_score]
        if self._names is not None and _english(language):
            # A capitalised run inside an address is a street or a place ("Main St Apt"), not
            # a person: the address owns it.
            places = [(e.offset, e.end) for e in found if e.category == "Address"]
            found += [
                e
                for e in self._names.find_entities(text)
                if e.score >= self._min_score
                and not any(a <= e.offset and e.end <= b for a, b in places)
            ]
        found.sort(key=lambda entity: (entity.offset, -entity.length))
        return found


def _scan_entities(scan: Scan) -> list[Entity]:
    """Candidates left to right; after one that holds nothing, the scan goes on inside it."""
    found: list[Entity] = []
    position = 0
    while (candidate := next_candidate(scan.text, position)) is not None:
        entities = list(classify(candidate, scan))
        found += entities
        position = max(candidate.end, *(e.end for e in entities)) if entities else candidate.resume
    return found


def _english(language: str) -> bool:
    """Names are read in English text only (and where no language is given)."""
    return not language or language.lower().split("-")[0] == "en"
