# `make bench`: CPU benchmark of the inference job (the pipeline's ceiling with a null model vs
# decode-only, bare model vs end to end per batch, COPY vs ORM writes), see bench/run.py.
# BENCH_ARGS e.g. "--repeats 5 --database-url postgres://postgres@127.0.0.1:5432/bench".
# `make bench-gpu BENCH_ARGS=--hd`: the 1080p H.264 part (NVDEC, stages, compiled), bench/gpu.py.
.PHONY: bench bench-gpu

bench: deps-test deps-detectron2
	$(VPY) -m bench.run $(BENCH_ARGS)

bench-gpu: deps-test deps-detectron2
	$(VPY) -m bench.gpu $(BENCH_ARGS)
