#!/usr/bin/env bash
# The GPU benchmark in one run on a lent GPU machine, from the repository root, after
# bench/gpu-wheels.sh has filled .whl/ here (carried there). Installs the wheels with
# --no-deps --target into a temporary folder, prints every version, then runs the steps in
# order, each under its own time budget and writing its own file to $OUT (default gpu-results/):
#   0-versions  card, driver, torch/CUDA/cuDNN, every package installed here and the image's own
#   1-nvdec     NVDEC usable: libnvcuvid loads, one decoder opened             (10 s)
#   2-baseline  Detectron2 at 640x480, batch 16, bare vs end to end          (60 s)
#   3-ceiling   1080p pipeline ceiling (null model), CPU decoding and NVDEC  (90 s)
#   4-compiled  1080p stages, Detectron2 eager vs compiled at one shape,
#               compile time apart, accuracy check                           (240 s)
#   steps       each step's exit status and seconds
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-results}
mkdir -p "$out"
site=$(mktemp -d)
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$site" .whl/*.whl || exit 1
export PYTHONPATH="$site:$PWD" PYTHONUNBUFFERED=1
clip=.whl/hd.mp4

step() {
  local name=$1 budget=$2 started=$SECONDS rc
  shift 2
  timeout -k 5 "$budget" "$@" >"$out/$name.txt" 2>&1
  rc=$?
  echo "$name: exit $rc after $((SECONDS - started)) s (budget $budget s)" | tee -a "$out/steps.txt"
  grep -v -i -E "warn|meshgrid" "$out/$name.txt" | tail -n 40
}

{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  python3 -c "import sys, torch, torchvision, cv2, numpy; print(sys.version.split()[0], 'torch', torch.__version__, 'CUDA', torch.version.cuda, 'cuDNN', torch.backends.cudnn.version(), 'torchvision', torchvision.__version__, 'opencv', cv2.__version__, 'numpy', numpy.__version__, torch.cuda.get_device_name())"
  python3 -m pip list --path "$site" 2>/dev/null
  python3 -m pip list 2>/dev/null | grep -i -E "^(torch|torchvision|triton|opencv-python-headless|numpy|scikit-image) "
} >"$out/0-versions.txt" 2>&1
cat "$out/0-versions.txt"

step 1-nvdec 10 python3 -m bench.gpu_nvdec "$clip"
step 2-baseline 60 python3 -m bench.gpu --only-batch 16 --repeats 3
step 3-ceiling 90 python3 -m bench.gpu --hd --hd-part ceiling --hd-video "$clip" --hd-batch 8 --repeats 3
step 4-compiled 240 python3 -m bench.gpu --hd --hd-part compiled --hd-video "$clip" --hd-frames 128 --hd-batch 8 --repeats 3
