"""The embedded offline detector: candidates from one scan, validated by well-kept libraries."""

from __future__ import annotations

from redaction.embedded.recognizer import EmbeddedRecognizer

__all__ = ["EmbeddedRecognizer"]
