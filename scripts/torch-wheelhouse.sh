#!/usr/bin/env bash
# torch and torchvision as pinned in pyproject's `detectron2` extra, with their CUDA libraries
# (about 3 GB from PyPI), kept in a folder of this machine so that a new checkout installs them
# from disk: PyPI's answers here carry no cache headers, so pip's own cache keeps none of them.
#   scripts/torch-wheelhouse.sh [PYTHON]   prints the folder ($VA_WHEELHOUSE, default ~/.cache/videoanalysis/wheels)
set -euo pipefail
cd "$(dirname "$0")/.."
py=${1:-python3}
dir=${VA_WHEELHOUSE:-$HOME/.cache/videoanalysis/wheels}
mapfile -t pins < <(sed -n 's/^ *"\(torch[a-z]*==[^"]*\)",$/\1/p' pyproject.toml)
[ "${#pins[@]}" = 2 ] || { echo "torch pins not found in pyproject.toml: ${pins[*]}" >&2; exit 1; }
mkdir -p "$dir"
"$py" -m pip download -q --only-binary=:all: --find-links "$dir" -d "$dir" "${pins[@]}" >&2
echo "$dir"
