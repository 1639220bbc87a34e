"""Placeholder mode: pseudonyms, sealed restore tokens, putting originals back
(`/restore`) and restoring a streamed answer (SSE).
"""
