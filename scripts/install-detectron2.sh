#!/usr/bin/env bash
# Install Detectron2 into a Python environment from the `sal-detectron2` wheel on PyPI.
#
# Detectron2 has no official wheel. sal-detectron2==0.7.2 is upstream Detectron2 (2024-04) packed
# only for CPython 3.10; its Python code runs on newer Pythons. Faster R-CNN does not need the C
# extension, so the wheel is re-tagged as pure Python without it:
#   download (cp310) -> verify sha256 -> unpack -> delete detectron2/_C*.so
#   -> WHEEL: Tag py3-none-any, Root-Is-Purelib true -> repack -> pip install --no-deps
# then the pure-Python packages its metadata omits are installed (torch/torchvision are not:
# they come from pyproject's `detectron2` extra or from the image's base).
#
# Usage: scripts/install-detectron2.sh [--python PY] [--pip "PIP COMMAND"] [--no-deps] [--force]
#                                     [--wheel-dir DIR]
#   --python  interpreter to install into (default: .venv/bin/python if present, else python3)
#   --pip     pip command to use (default: "PY -m pip")
#   --no-deps install only detectron2 itself
#   --force   reinstall even if `import detectron2` already works
#   --wheel-dir  only build the re-tagged wheel into DIR (for an offline install elsewhere)
# Idempotent: does nothing when the interpreter already imports detectron2.
set -euo pipefail

VERSION=0.7.2
# sha256 of sal_detectron2-0.7.2-cp310-none-any.whl as published on PyPI (pip checks the index's
# hash on download; this pins it so a changed upload is refused).
SHA256=491af0c7f79bdb2d178e46f6cb16a97c4ac968d45c41ea3f6b6435d59bbee561
DEPS=(
  "fvcore==0.1.5.post20221221" "iopath>=0.1.7,<0.1.11" "yacs>=0.1.8" "termcolor>=1.1" tabulate
  cloudpickle "omegaconf>=2.1,<2.4" "hydra-core>=1.1" "pycocotools>=2.0.2" matplotlib
  "Pillow>=7.1" "pyyaml>=5.1" "setuptools<81"
)

cd "$(dirname "$0")/.."
PY=""
PIP=""
WITH_DEPS=1
FORCE=0
WHEEL_DIR=""
while [ $# -gt 0 ]; do
  case "$1" in
    --python) PY="$2"; shift 2 ;;
    --pip) PIP="$2"; shift 2 ;;
    --no-deps) WITH_DEPS=0; shift ;;
    --force) FORCE=1; shift ;;
    --wheel-dir) WHEEL_DIR="$2"; WITH_DEPS=0; FORCE=1; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
[ -n "$PIP" ] || PIP="$PY -m pip"

if [ "$FORCE" = 0 ] && "$PY" -c "import detectron2.modeling, detectron2.model_zoo" 2>/dev/null; then
  echo "detectron2 already importable by $PY; nothing to do"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ "$WITH_DEPS" = 1 ]; then
  $PIP install -q "${DEPS[@]}"
fi
"$PY" -c "import wheel" 2>/dev/null || $PIP install -q wheel

$PIP download -q --no-deps --only-binary=:all: --python-version 3.10 \
  "sal-detectron2==$VERSION" -d "$work/dl"
whl=$(ls "$work"/dl/sal_detectron2-"$VERSION"-*.whl)
echo "$SHA256  $whl" | sha256sum -c --quiet - || {
  echo "sha256 of $(basename "$whl") does not match the pinned sum; refusing to install" >&2
  exit 1
}

"$PY" -m wheel unpack -d "$work/src" "$whl" >/dev/null
root="$work/src/sal_detectron2-$VERSION"
rm -f "$root"/detectron2/_C*.so
wheel_file="$root/sal_detectron2-$VERSION.dist-info/WHEEL"
sed -i -e 's/^Tag: .*/Tag: py3-none-any/' -e 's/^Root-Is-Purelib: .*/Root-Is-Purelib: true/' "$wheel_file"
mkdir -p "$work/out"
"$PY" -m wheel pack -d "$work/out" "$root" >/dev/null
pure="$work/out/sal_detectron2-$VERSION-py3-none-any.whl"
[ -f "$pure" ] || { echo "repacked wheel not found at $pure" >&2; exit 1; }

if [ -n "$WHEEL_DIR" ]; then
  mkdir -p "$WHEEL_DIR" && cp "$pure" "$WHEEL_DIR"/ && echo "built $WHEEL_DIR/$(basename "$pure")"
  exit 0
fi
$PIP install -q --no-deps --force-reinstall "$pure"
"$PY" -c "import detectron2.modeling, detectron2.model_zoo; print('detectron2', detectron2.__version__, 'installed')"
