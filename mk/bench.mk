# `make bench`: CPU benchmark of the inference job (bare model vs end to end), see bench/run.py.
# BENCH_ARGS e.g. "--repeats 5 --database-url postgres://postgres@127.0.0.1:5432/test".
.PHONY: bench bench-gpu

bench: deps-test deps-detectron2
	$(VPY) -m bench.run $(BENCH_ARGS)

bench-gpu: deps-test deps-detectron2
	$(VPY) -m bench.gpu $(BENCH_ARGS)
