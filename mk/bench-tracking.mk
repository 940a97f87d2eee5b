# `make bench-tracking`: each tracker on synthetic sequences with known ground truth (a crossing,
# an occlusion, an exit and re-entry), through the job's pipeline, scored by trackeval
# (bench/tracking.py). trackeval's wheel asks for the GUI opencv-python, a second cv2 beside the
# headless build: it goes in --no-deps, its real dependencies come from the `test` group.
.PHONY: bench-tracking
TRACKEVAL_PIN := trackeval==1.3.0

$(VENV)/.deps-trackeval: mk/bench-tracking.mk $(VENV)/.deps-test
	$(PIP) install -q --no-deps "$(TRACKEVAL_PIN)"
	touch $@

bench-tracking: $(VENV)/.deps-trackeval
	$(VPY) -m bench.tracking $(BENCH_TRACKING_ARGS)
