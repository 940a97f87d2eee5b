#!/usr/bin/env bash
# Prepare here (PyPI reachable) what bench/gpu-device.sh needs on a GPU machine that reaches no
# registry and whose image (Python 3.12, torch with CUDA, torchvision, OpenCV, NumPy) lacks
# Detectron2, its pure-Python needs, Tortoise, pydantic-settings and PyNvVideoCodec:
#   .whl/*.whl  cp312 manylinux or pure-Python wheels, one version each, no dependency resolved
#               (--no-deps: every one is named below); fvcore and antlr4 publish only sdists and
#               are built here as pure-Python wheels, Detectron2 is the re-tagged wheel of
#               scripts/install-detectron2.sh;
#   .whl/hd.mp4 a 1920x1080 H.264 clip of 400 frames (that image has no H.264 encoder).
# .whl/ is ignored by git and travels to the machine as a carried path (64 MiB in all).
#
#   bench/gpu-wheels.sh [PYTHON]    # PYTHON with PyAV, for the clip (default .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
DEST=.whl
WHEELS=(
  iopath==0.1.9 yacs==0.1.8 termcolor==3.3.0 omegaconf==2.3.1 hydra-core==1.3.8
  pycocotools==2.0.11 tortoise-orm==1.1.9 pypika-tortoise==0.6.5 iso8601==2.1.0
  aiosqlite==0.22.1 pydantic==2.14.4 pydantic-core==2.50.5 pydantic-settings==2.16.3
  python-dotenv==1.2.4 typing-inspection==0.4.5 annotated-types==0.8.0 truststore==0.10.5
  PyNvVideoCodec==2.2.4
)
BUILT=("fvcore==0.1.5.post20221221" "antlr4-python3-runtime==4.9.3")
PLATFORMS=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64 any; do
  PLATFORMS+=(--platform "$p")
done

rm -rf "$DEST"/*.whl
mkdir -p "$DEST"
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  "${PLATFORMS[@]}" -d "$DEST" "${WHEELS[@]}"
python3 -m pip wheel -q --no-deps -w "$DEST" "${BUILT[@]}"
scripts/install-detectron2.sh --python python3 --wheel-dir "$DEST"
[ -s "$DEST/hd.mp4" ] || "$PY" -c "
from pathlib import Path
from bench.common import make_video
make_video(Path('$DEST/hd.mp4'), 400, (1920, 1080))
"
ls -la "$DEST"
du -sh "$DEST"/*.whl | sort -h | tail -3
echo "wheels: $(du -cb "$DEST"/*.whl | tail -1 | cut -f1) bytes; clip: $(stat -c %s "$DEST/hd.mp4") bytes"
