"""Optional named-entity recognition: a spaCy pipeline behind the same interface (``.[ner]``).

spaCy is imported only when a model is asked for, so the default detector never loads it.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from redaction.entities import Entity

# spaCy labels (OntoNotes, as in the en_core_web_* models; WikiNER's PER/ORG/LOC) to Azure names.
LABELS = {
    "PERSON": "Person",
    "PER": "Person",
    "ORG": "Organization",
    "FAC": "Address",
    "GPE": "Location",
    "LOC": "Location",
}
NER_SCORE = 0.75


class NerUnavailableError(RuntimeError):
    """The NER extra was asked for but spaCy or the model package is not installed."""


class EntityFinder(Protocol):
    """Anything that finds entities in a text: the NER plug-in point."""

    @property
    def categories(self) -> frozenset[str]: ...

    def find_entities(self, text: str) -> list[Entity]: ...


class SpacyFinder:
    """Runs a loaded spaCy pipeline and maps its entity labels to Azure categories."""

    def __init__(self, nlp: Any) -> None:
        self._nlp = nlp

    @property
    def categories(self) -> frozenset[str]:
        return frozenset(LABELS.values())

    def find_entities(self, text: str) -> list[Entity]:
        doc = self._nlp(text)
        return [
            Entity(span.start_char, span.end_char - span.start_char, LABELS[span.label_], NER_SCORE)
            for span in doc.ents
            if span.label_ in LABELS and span.end_char > span.start_char
        ]


def load_spacy_finder(model: str) -> SpacyFinder:
    """Loads an installed spaCy model package by name (never downloads one)."""
    try:
        spacy = importlib.import_module("spacy")
        nlp = spacy.load(model, exclude=["parser", "lemmatizer"])
    except (ImportError, OSError) as exc:
        raise NerUnavailableError(
            f"NER needs spaCy and the model package {model!r}: pip install '.[ner]' and the model"
        ) from exc
    return SpacyFinder(nlp)
