# `make bench-zones`: zone and line counts on synthetic scenes with known ground truth (a line
# crossed both ways, two crossing at once, a zone visited, a face swaying across a line), with
# the dwell error and the events' share of the pipeline's time (bench/zones.py).
.PHONY: bench-zones

bench-zones: $(VENV)/.deps-test
	$(VPY) -m bench.zones
