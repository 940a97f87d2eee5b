# Crash injection, the long run: `make chaos` (CHAOS_ARGS e.g. "--crashes 40 --seed 1234",
# "--cases lost_acks,clock"). At least 20 crashes and faults at random frames with a printed
# seed, every case at least once, each task's counters, tracks and frame rows compared with an
# uninterrupted run; the fixed cases run in `make test` (tests/chaos). Needs PostgreSQL
# (started here) and the API's install.
.PHONY: chaos

chaos: deps-test pg-start
	$(VPY) -m tests.chaos.run $(CHAOS_ARGS)
