"""The embedded offline detector: patterns found in one pass, then validated by well-kept libraries."""

from __future__ import annotations

from redaction.embedded.recognizer import EmbeddedRecognizer

__all__ = ["EmbeddedRecognizer"]
