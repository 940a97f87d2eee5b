# VideoAnalysis — the two commands are `make run` and `make test` (see README.md).
# Component-specific targets live in mk/*.mk; each extends `test-prereqs::`.

PYTHON ?= python3
VENV   := .venv
VPY    := $(VENV)/bin/python
PIP    := $(VPY) -m pip
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test test-prereqs venv deps-run deps-test pg-start
.DEFAULT_GOAL := help

help:
	@echo "make run    start the API on $(HOST):$(PORT) (embedded SQLite + local runner)"
	@echo "make test   install test dependencies, start PostgreSQL and the test API server, lint, run pytest"
	@echo "make lint   deptry per deployable, import-linter contracts, ruff, mypy"

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip "setuptools<81" wheel

# Stamps: reinstall when pyproject.toml changes. `make run` installs the API's extra only,
# as its image does; the tests add the operator's extra and the development groups.
# The tracker's wheel goes in --no-deps (see scripts/install.sh, whose pin is read here).
TRACKERS_PIN := $(shell sed -n 's/^TRACKERS="\(.*\)"/\1/p' scripts/install.sh)
$(VENV)/.deps-run: pyproject.toml scripts/install.sh | $(VENV)/bin/python
	$(PIP) install -q -e ".[api]"
	$(PIP) install -q --no-deps "$(TRACKERS_PIN)"
	touch $@

# trackeval scores the tracking benchmark (and its test); its wheel asks for the GUI
# opencv-python, so it too goes in --no-deps (its real dependencies are in the `test` group).
TRACKEVAL_PIN := trackeval==1.3.0
$(VENV)/.deps-test: pyproject.toml Makefile $(VENV)/.deps-run
	$(PIP) install -q -e ".[api,operator]" --group test --group lint
	$(PIP) install -q --no-deps "$(TRACKEVAL_PIN)"
	touch $@

deps-run: $(VENV)/.deps-run
deps-test: $(VENV)/.deps-test

run: deps-run
	HOST=$(HOST) PORT=$(PORT) $(VPY) -m api

pg-start:
	@scripts/ensure-postgres.sh

test-prereqs:: deps-test pg-start

test: test-prereqs lint
	$(VPY) -m pytest $(PYTEST_ARGS)

-include mk/*.mk
