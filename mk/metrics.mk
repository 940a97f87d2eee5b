# Job metrics tests: a real Prometheus Pushgateway (Debian's prometheus-pushgateway), installed
# only when missing; the tests start their own instance on a free loopback port.
.PHONY: metrics-prereqs

metrics-prereqs:
	@if [ ! -x /usr/bin/prometheus-pushgateway ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus-pushgateway; \
	fi

test-prereqs:: metrics-prereqs
