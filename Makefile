# The two commands a new machine needs: `make demo` (whole local run) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-fast rehearse compile bench clean

setup: $(STAMP)

$(STAMP): requirements.txt setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==25.3
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: setup
	$(PY) pipeline.py demo

test: setup
	$(PY) -m ruff check .
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not slow"

# The cloud rehearsal alone (the test suite runs it too: tests/rehearsal/test_rehearsal.py).
rehearse: setup
	$(PY) -m rehearsal

compile: setup
	PYTHON=$(PY) ./compile.sh

bench: setup
	$(PY) benchmarks/convert_bench.py

clean:
	rm -rf $(VENV) demo_output local_outputs compiled rehearsal_output
