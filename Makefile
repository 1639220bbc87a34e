# Quick start: `make run` serves the function's routes on the embedded detector; `make test` tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck check emulator clean eval bench-detector bench-detector-setup

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)  ## serve /redact and /health on http://localhost:7071
	$(PY) -m redaction serve --host 127.0.0.1 --port 7071

test: $(STAMP) lint typecheck  ## lint, type-check and run the tests
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(STAMP)
	$(PY) -m mypy

emulator: $(STAMP)  ## a local Azure AI Language PII API on http://localhost:5005
	$(PY) -m redaction emulator --port 5005

eval: $(STAMP)  ## the embedded detector's full evaluation report (recall/precision per category)
	$(PY) -m redaction.embedded.evaluation tests/eval/*.txt --examples 20

bench-detector-setup: $(STAMP)  ## a separate venv with Presidio, for the comparison (never a runtime dependency)
	$(PY) bench/detector.py --setup

bench-detector: $(STAMP)  ## embedded detector vs Presidio on the same corpus, one run
	$(PY) bench/detector.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
