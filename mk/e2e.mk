# End-to-end on a real cluster: `make e2e-kind` runs tests/e2e on a kind cluster
# (scripts/e2e-kind.sh; needs Docker, kind, kubectl, helm). `make test` runs the same test against
# the test API server and checks the kind setup here; it needs Debian's shellcheck for that.
.PHONY: e2e-kind e2e-prereqs

/usr/bin/shellcheck:
	@if [ "$$(id -u)" = 0 ]; then \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null 2>&1 \
	  || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck; }; \
	else echo "shellcheck missing: sudo apt-get install shellcheck" >&2; exit 1; fi

e2e-prereqs: /usr/bin/shellcheck

test-prereqs:: e2e-prereqs

e2e-kind: $(VENV)/.deps-test $(VENV)/bin/helm
	scripts/e2e-kind.sh
