#!/usr/bin/env bash
# deptry once per deployable: the code a deployable runs is checked against the dependencies its
# install declares (the base plus its extras); the other extras and the dependency groups count as
# development-only, so a runtime import of one of them fails (DEP004), as do missing (DEP001)
# and transitive (DEP003) imports. The files a run leaves out are the ones import-linter's
# contracts (pyproject.toml) forbid that deployable to import.
set -euo pipefail
cd "$(dirname "$0")/.."
DEPTRY="${DEPTRY:-.venv/bin/deptry}"
EXTRAS=(job api operator detectron2 nvdec)

dev_groups() {  # every extra but the deployable's own
  local keep=" $* " out=() extra
  for extra in "${EXTRAS[@]}"; do [[ "$keep" == *" $extra "* ]] || out+=("$extra"); done
  local IFS=,; echo "${out[*]}"
}

run() {  # NAME "EXTRAS" ROOT... -- EXCLUDE...
  local name="$1" extras="$2"; shift 2
  local roots=() excludes=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do roots+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  for pattern in "$@"; do excludes+=(--extend-exclude "$pattern"); done
  echo "deptry: $name (extras: ${extras:-none})"
  # shellcheck disable=SC2086
  "$DEPTRY" "${roots[@]}" --optional-dependencies-dev-groups "$(dev_groups $extras)" "${excludes[@]}" \
    || FAILED+=("$name")
}
FAILED=()

run cli "" va_cli
run job "job" inference_job videoanalysis -- "inference_job/models/detectron2_model.py" "inference_job/nvdec_decode.py" \
  "videoanalysis/migrate.py" "videoanalysis/k8s" "videoanalysis/migrations"
run detectron2 "job detectron2 nvdec" inference_job videoanalysis -- "videoanalysis/migrate.py" \
  "videoanalysis/k8s" "videoanalysis/migrations"
run api "job api" api videoanalysis inference_job -- "inference_job/models/detectron2_model.py" "inference_job/nvdec_decode.py" \
  "videoanalysis/migrations"
run operator "operator" va_operator videoanalysis -- "videoanalysis/storage.py" "videoanalysis/video_probe.py" \
  "videoanalysis/shard_plan.py" \
  "videoanalysis/migrate.py" "videoanalysis/migrations"

if [ ${#FAILED[@]} -gt 0 ]; then echo "deptry failed for: ${FAILED[*]}" >&2; exit 1; fi
