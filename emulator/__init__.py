"""A local Azure AI Language PII emulator (`POST /language/:analyze-text`) with fault injection.

It validates requests as the service does, answers with the embedded detector, and plays faults
queued through `/_emulator/faults`, so the Language client is tested over real HTTP.
"""

from __future__ import annotations

from emulator.faults import Fault
from emulator.server import build_emulator_app, run_emulator
from emulator.state import EmulatorConfig, EmulatorState

__all__ = ["EmulatorConfig", "EmulatorState", "Fault", "build_emulator_app", "run_emulator"]
