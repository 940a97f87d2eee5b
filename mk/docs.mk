# The documentation site (docs/, mkdocs.yml), built with Zensical from the `docs` dependency group.
# `make docs` serves it on DOCS_ADDR; `make docs-generate` rewrites the reference pages from the
# code (scripts/docs/generate.py); `make docs-check` (CI) fails when a generated page differs from
# the code, when the strict build warns (a link to a missing page or anchor), or when a page is
# left out of the nav or a link or anchor of the built HTML reaches nothing (check_site.py).
# `make docs-screenshot` retakes docs/assets/viewer.png with the tests' Chromium.
.PHONY: docs docs-deps docs-generate docs-check docs-screenshot

DOCS_ADDR ?= 127.0.0.1:8001
DOCS_SITE := site

$(VENV)/.deps-docs: pyproject.toml $(VENV)/.deps-test
	$(PIP) install -q --group docs
	touch $@

docs-deps: $(VENV)/.deps-docs

docs-generate: docs-deps
	$(VPY) scripts/docs/generate.py

docs-check: docs-deps
	$(VPY) scripts/docs/generate.py --check
	rm -rf $(DOCS_SITE)
	$(VENV)/bin/zensical build --strict
	$(VPY) scripts/docs/check_site.py --site $(DOCS_SITE)

docs: docs-generate
	$(VENV)/bin/zensical serve --dev-addr $(DOCS_ADDR)

docs-screenshot: docs-deps viewer-prereqs
	VA_DOCS_SCREENSHOT=$(CURDIR)/docs/assets/viewer.png $(VPY) -m pytest tests/docs -q -p no:cacheprovider
