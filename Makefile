# Every target sets up .venv itself when it is missing or out of date.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
LINT_PATHS := $(wildcard jupyter_lineage tests examples benchmarks)
# jlpm (Yarn) asks the registry npm is configured with; the address stays out of the repo.
export YARN_NPM_REGISTRY_SERVER ?= $(shell npm config get registry)
export PATH := $(CURDIR)/$(BIN):$(PATH)
LAB_SOURCES := package.json tsconfig.json $(shell find labextension/src labextension/style labextension/schema -type f 2>/dev/null)
LAB_BUILT := jupyter_lineage/labextension/package.json
UNIT_DEPS := labextension/test/node_modules/.package-lock.json
CHROMIUM := /usr/bin/chromium
# olah, a Hugging Face Hub mirror tests/test_remote_hf.py serves a local git repository with: a
# test server in its own venv (its fastapi-utils pins psutil<6, which IPython 9 refuses).
OLAH := .venv-olah/bin/olah-cli
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup demo test lint bench lab clean

# A development build with the package already installed writes install.json into the built
# folder too; the wheel already takes the top-level one there (pyproject's shared-data), and
# hatchling refuses a file added twice (`pip install -e .` of this checkout, as
# tests/test_isolated.py does, would fail). Both rules that build remove it.
STRAY_INSTALL_JSON := jupyter_lineage/labextension/install.json

# pip builds the labextension too (hatch-jupyter-builder); `develop` links it so later
# `jlpm build`s are picked up without reinstalling.
$(STAMP): pyproject.toml package.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(STRAY_INSTALL_JSON)
	$(BIN)/jupyter labextension develop . --overwrite
	touch $(STAMP)

$(LAB_BUILT): $(LAB_SOURCES) | $(STAMP)
	$(BIN)/jlpm build
	rm -f $(STRAY_INSTALL_JSON)
	touch $(LAB_BUILT)

$(UNIT_DEPS): labextension/test/package-lock.json
	npm --prefix labextension/test ci --no-fund --no-audit

$(OLAH):
	$(PYTHON) -m venv .venv-olah
	.venv-olah/bin/python -m pip install --quiet "olah==0.5.4"

$(CHROMIUM):
	$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium

setup: $(STAMP) $(LAB_BUILT)

demo: setup
	$(BIN)/python examples/demo.py

test: setup $(UNIT_DEPS) $(CHROMIUM) $(OLAH)
	$(BIN)/ruff check $(LINT_PATHS)
	npm --prefix labextension/test test
	# two workers, each test file on one of them (its module-scoped fixtures built once)
	$(BIN)/python -m pytest tests --ignore=tests/ui -n 2 --dist loadfile
	# the examples, regression-tested with nbval and recorded as test runs (examples/ci does the same)
	JUPYTER_LINEAGE_DB=$(CURDIR)/.lineage/examples-nbval.db $(BIN)/python -m pytest -p no:cacheprovider \
		--nbval-lax --lineage examples/train.ipynb
	# the browser tests in their own process: Playwright's event loop and pytest-jupyter's
	# must not share one
	$(BIN)/python -m pytest tests/ui

# CI runs this too (.ci/run): style, types (strict where the hot path and the store live) and the
# labextension's TypeScript.
lint: setup
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy jupyter_lineage
	$(BIN)/mypy --strict jupyter_lineage/capture jupyter_lineage/store
	$(BIN)/jlpm tsc --noEmit

bench: setup
	$(BIN)/python -m pip install --quiet mlflow
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

lab: setup
	$(BIN)/jupyter lab examples

clean:
	rm -rf $(VENV) .venv-olah .lineage examples/out node_modules lib tsconfig.tsbuildinfo \
		jupyter_lineage/labextension labextension/test/node_modules
