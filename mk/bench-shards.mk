# `make bench-shards`: a clip of about two minutes analysed whole and as two shards on this
# machine's CPU in one run, pinned to a core each and unconstrained, with the plan's, pre-roll's
# and merge's share (bench/shards.py). BENCH_SHARDS_ARGS e.g. "--seconds 30".
.PHONY: bench-shards

bench-shards: $(VENV)/.deps-test
	$(VPY) -m bench.shards $(BENCH_SHARDS_ARGS)
