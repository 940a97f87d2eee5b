# Architecture and code checks, run by `make test`: deptry once per deployable
# (scripts/lint-deps.sh), import-linter's contracts, ruff (lint and format) and mypy, all
# configured in pyproject.toml.
.PHONY: lint

lint: $(VENV)/.deps-test
	scripts/lint-deps.sh
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
