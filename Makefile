# Every target sets up .venv itself when it is missing or out of date.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
LINT_PATHS := $(wildcard jupyter_lineage tests examples benchmarks)

.PHONY: setup demo test lint bench lab clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/python examples/demo.py

test: setup
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/python -m pytest tests

lint: setup
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check jupyter_lineage
	$(BIN)/mypy jupyter_lineage

bench: setup
	$(BIN)/python -m pip install --quiet mlflow
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

lab: setup
	$(BIN)/jupyter lab examples

clean:
	rm -rf $(VENV) .lineage examples/out
