#!/usr/bin/env bash
# Checks what ships without a Docker engine or a cluster (run by `make chart-check` and by
# tests/shipping/test_chart_check.py, so `make test` runs it):
#   1. hadolint on the three Dockerfiles;
#   2. the chart's crds/ equals the top-level crds/ (generate with --sync-crds);
#   3. helm lint + helm template with the default, GPU/production and development values;
#   4. kubernetes-validate --strict (Kubernetes $KUBE_VERSION schemas) on every rendered manifest;
#   5. GitOps: a second render is byte-identical (no random value) and the default one holds no Secret
#      (the JWT key and passwords are made in the cluster by the secret-bootstrap hook Job);
#   6. docker-compose config on docker-compose-develop.yml.
# Rendered manifests are left in $OUT_DIR (default build/chart) for the tests and for reading.
# Usage: scripts/chart-check.sh [--sync-crds]
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
CHART=charts/videoanalysis
OUT_DIR="${OUT_DIR:-build/chart}"
KUBE_VERSION="${KUBE_VERSION:-1.34.0}"
VALUES_FILES=(default values-gpu.yaml values-dev.yaml)

sync_crds_into() {
  local chart="$1"
  mkdir -p "$chart/crds"
  for f in crds/*.yaml; do
    { echo "# GENERATED from $f by scripts/chart-check.sh --sync-crds; edit the original."; cat "$f"; } \
      >"$chart/crds/$(basename "$f")"
  done
}

check_crds() {
  local tmp; tmp="$(mktemp -d)"
  sync_crds_into "$tmp/chart"
  if ! diff -r "$tmp/chart/crds" "$CHART/crds"; then
    echo "FAIL: $CHART/crds drifted from crds/; run scripts/chart-check.sh --sync-crds" >&2
    rm -rf "$tmp"; return 1
  fi
  rm -rf "$tmp"
}

if [[ "${1:-}" == "--sync-crds" ]]; then
  sync_crds_into "$CHART"
  echo "synced crds/ -> $CHART/crds/"
  exit 0
fi

echo "== hadolint"
"$BIN/hadolint" --no-color api/Dockerfile operator/Dockerfile inference_job/Dockerfile

echo "== CRDs in the chart match crds/"
check_crds

mkdir -p "$OUT_DIR"
for values in "${VALUES_FILES[@]}"; do
  args=(--namespace videoanalysis)
  [[ "$values" == default ]] || args+=(-f "$CHART/$values")
  name="${values%.yaml}"
  echo "== helm lint ($name)"
  "$BIN/helm" lint --strict "$CHART" "${args[@]}"
  echo "== helm template ($name)"
  "$BIN/helm" template va "$CHART" "${args[@]}" --include-crds >"$OUT_DIR/$name.yaml"
  echo "== kubernetes-validate --strict -k $KUBE_VERSION ($name)"
  "$BIN/kubernetes-validate" --strict --kubernetes-version "$KUBE_VERSION" --quiet "$OUT_DIR/$name.yaml"
done

echo "== renders are reproducible and the default one holds no Secret"
for values in "${VALUES_FILES[@]}"; do
  args=(--namespace videoanalysis)
  [[ "$values" == default ]] || args+=(-f "$CHART/$values")
  "$BIN/helm" template va "$CHART" "${args[@]}" --include-crds | cmp -s - "$OUT_DIR/${values%.yaml}.yaml" \
    || { echo "FAIL: two renders of $values differ (a random value in the chart?)" >&2; exit 1; }
done
if grep -qx 'kind: Secret' "$OUT_DIR/default.yaml"; then
  echo "FAIL: the default render contains a Secret; secrets are made in the cluster" >&2; exit 1
fi

echo "== docker-compose config"
docker-compose -f docker-compose-develop.yml config --quiet

echo "chart-check: all passed"
