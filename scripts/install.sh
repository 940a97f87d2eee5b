#!/usr/bin/env bash
# The one install recipe of each deployable, used by its image (Dockerfile) and by the install
# tests (tests/install), which run it in a fresh virtual environment and start what it installed.
#
# Usage: scripts/install.sh DEPLOYABLE [--python PY] [--source SRC] [--wheels DIR] [--dry-run FILE]
#   DEPLOYABLE  cli | api | job | operator | detectron2
#   --python    interpreter of the target environment (default: python3 on PATH)
#   --source    the project: a source folder or a built wheel (default: this checkout)
#   --wheels    install offline from this folder of wheels (pip --no-index --find-links);
#               may be given several times
#   --dry-run   resolve only, writing pip's JSON report to FILE (installs nothing)
set -euo pipefail

usage() { sed -n '2,11p' "$0" >&2; exit 2; }
[ $# -ge 1 ] || usage
DEPLOYABLE="$1"; shift
PY=python3
SRC="$(cd "$(dirname "$0")/.." && pwd)"
WHEELS=()
REPORT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --python) PY="$2"; shift 2 ;;
    --source) SRC="$2"; shift 2 ;;
    --wheels) WHEELS+=("$2"); shift 2 ;;
    --dry-run) REPORT="$2"; shift 2 ;;
    *) usage ;;
  esac
done

case "$DEPLOYABLE" in
  cli) TARGET="$SRC" ;;
  api|job|operator|detectron2) TARGET="${SRC}[${DEPLOYABLE}]" ;;
  *) echo "install.sh: unknown deployable '$DEPLOYABLE' (cli, api, job, operator, detectron2)" >&2; exit 2 ;;
esac

TRACKERS="trackers==2.6.1"
PIP=("$PY" -m pip install --disable-pip-version-check)
if [ ${#WHEELS[@]} -gt 0 ]; then
  PIP+=(--no-index)
  for dir in "${WHEELS[@]}"; do PIP+=(--find-links "$dir"); done
fi
if [ -n "$REPORT" ]; then
  "${PIP[@]}" --dry-run --ignore-installed --quiet --report "$REPORT" "$TARGET"
  exit 0
fi
"${PIP[@]}" --quiet "$TARGET"
case "$DEPLOYABLE" in
  job|api|detectron2)
    # The tracker stage: its wheel requires the GUI opencv-python, a second cv2 beside the
    # headless build; its real dependencies came from the job extra.
    "${PIP[@]}" --quiet --no-deps "$TRACKERS" ;;
esac
if [ "$DEPLOYABLE" = detectron2 ]; then
  # Detectron2 has no official wheel: the re-tagged one, its dependencies came from the extra.
  "$(dirname "$0")/install-detectron2.sh" --python "$PY" --no-deps
fi
