# `make bench-api`: the API's reads vs a bare FastAPI app under Debian's wrk (bench/api.py), on
# the test PostgreSQL. wrk is installed only when missing. BENCH_API_ARGS e.g. "--repeats 5".
.PHONY: bench-api

/usr/bin/wrk:
	@if [ "$$(id -u)" = 0 ]; then \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 \
	  || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }; \
	else echo "wrk missing: sudo apt-get install wrk" >&2; exit 1; fi

bench-api: deps-test pg-start /usr/bin/wrk
	$(VPY) -m bench.api $(BENCH_API_ARGS)
