"""pii-redaction: strips personal data out of OpenAI requests before an AI gateway forwards them.

The package is a pure core (body walking, chunking, batching, masking, coverage) with I/O at its
edges (the Language client, the embedded detector, the HTTP adapters, telemetry).
"""

from __future__ import annotations

__version__ = "0.1.0"
