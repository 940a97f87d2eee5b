# `make bench-tracking`: each tracker on synthetic sequences with known ground truth (a crossing,
# an occlusion, an exit and re-entry), through the job's pipeline, scored by trackeval
# (bench/tracking.py). trackeval's wheel asks for the GUI opencv-python, a second cv2 beside the
# headless build: `make test`'s install puts it in --no-deps (TRACKEVAL_PIN in the Makefile).
.PHONY: bench-tracking

bench-tracking: $(VENV)/.deps-test
	$(VPY) -m bench.tracking $(BENCH_TRACKING_ARGS)
