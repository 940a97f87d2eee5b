# Crash injection, the long run: `make chaos` (CHAOS_ARGS e.g. "--crashes 40 --seed 1234").
# At least 20 crashes at random frames with a printed seed; the fixed cases run in `make test`
# (tests/chaos). Needs PostgreSQL (started here) and the API's install.
.PHONY: chaos

chaos: deps-test pg-start
	$(VPY) -m tests.chaos.run $(CHAOS_ARGS)
