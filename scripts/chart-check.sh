#!/usr/bin/env bash
# Checks what ships without a Docker engine or a cluster (run by `make chart-check` and by
# tests/shipping/test_chart_check.py, so `make test` runs it):
#   1. hadolint on the three Dockerfiles;
#   2. the chart's CRD template (templates/crd-videoanalysis.yaml, so `helm upgrade` updates the CRD)
#      is the one generated from the top-level crds/videoanalysis.yaml (generate with --sync-crds),
#      and the chart has no crds/ folder (Helm would install that once and never upgrade it);
#   3. helm lint + helm template with the default, GPU/production and development values;
#   4. kubernetes-validate --strict (Kubernetes $KUBE_VERSION schemas) on every rendered manifest;
#   5. GitOps: a second render is byte-identical (no random value) and the default one holds no Secret
#      (the JWT key and passwords are made in the cluster by the secret-bootstrap hook Job);
#   6. docker-compose-develop.yml loaded by Docker Compose v2's own loader (compose-go: schema,
#      types, undefined volumes/networks/dependencies) through scripts/compose-check, built once
#      from the Go module proxy and cached by scripts/compose-check/ensure.sh.
# Rendered manifests are left in $OUT_DIR (default build/chart) for the tests and for reading.
# Usage: scripts/chart-check.sh [--sync-crds]
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
CHART=charts/videoanalysis
OUT_DIR="${OUT_DIR:-build/chart}"
KUBE_VERSION="${KUBE_VERSION:-1.34.0}"
VALUES_FILES=(default values-gpu.yaml values-dev.yaml)

CRD_SOURCE=crds/videoanalysis.yaml
CRD_TEMPLATE="$CHART/templates/crd-videoanalysis.yaml"

# The CRD as a chart template: the original behind crds.install, with the chart's labels and,
# with crds.keep, the annotation that makes `helm uninstall` leave it (and every analysis).
crd_template() {
  if grep -q '{{' "$CRD_SOURCE"; then
    echo "FAIL: $CRD_SOURCE contains '{{', which Helm would read as a template action" >&2; return 1
  fi
  echo "{{- /* GENERATED from $CRD_SOURCE by scripts/chart-check.sh --sync-crds; edit the original. */}}"
  echo "{{- if .Values.crds.install }}"
  awk '{ print } /^metadata:$/ && !done {
    print "  labels:"
    print "    {{- include \"videoanalysis.labels\" . | nindent 4 }}"
    print "  {{- if .Values.crds.keep }}"
    print "  annotations:"
    print "    helm.sh/resource-policy: keep"
    print "  {{- end }}"
    done = 1
  }' "$CRD_SOURCE"
  echo "{{- end }}"
}

check_crds() {
  if [[ -d "$CHART/crds" ]]; then
    echo "FAIL: $CHART/crds exists; Helm installs it once and never upgrades it (the CRD is a template)" >&2
    return 1
  fi
  if ! crd_template | diff - "$CRD_TEMPLATE"; then
    echo "FAIL: $CRD_TEMPLATE drifted from $CRD_SOURCE; run scripts/chart-check.sh --sync-crds" >&2
    return 1
  fi
}

if [[ "${1:-}" == "--sync-crds" ]]; then
  template="$(crd_template)"  # a failure leaves the old template in place
  printf '%s\n' "$template" >"$CRD_TEMPLATE"
  echo "synced $CRD_SOURCE -> $CRD_TEMPLATE"
  exit 0
fi

echo "== hadolint"
"$BIN/hadolint" --no-color api/Dockerfile operator/Dockerfile inference_job/Dockerfile

echo "== the chart's CRD template is generated from $CRD_SOURCE"
check_crds

mkdir -p "$OUT_DIR"
for values in "${VALUES_FILES[@]}"; do
  args=(--namespace videoanalysis)
  [[ "$values" == default ]] || args+=(-f "$CHART/$values")
  name="${values%.yaml}"
  echo "== helm lint ($name)"
  "$BIN/helm" lint --strict "$CHART" "${args[@]}"
  echo "== helm template ($name)"
  "$BIN/helm" template va "$CHART" "${args[@]}" >"$OUT_DIR/$name.yaml"
  echo "== kubernetes-validate --strict -k $KUBE_VERSION ($name)"
  "$BIN/kubernetes-validate" --strict --kubernetes-version "$KUBE_VERSION" --quiet "$OUT_DIR/$name.yaml"
done

echo "== renders are reproducible and the default one holds no Secret"
for values in "${VALUES_FILES[@]}"; do
  args=(--namespace videoanalysis)
  [[ "$values" == default ]] || args+=(-f "$CHART/$values")
  "$BIN/helm" template va "$CHART" "${args[@]}" | cmp -s - "$OUT_DIR/${values%.yaml}.yaml" \
    || { echo "FAIL: two renders of $values differ (a random value in the chart?)" >&2; exit 1; }
done
if grep -qx 'kind: Secret' "$OUT_DIR/default.yaml"; then
  echo "FAIL: the default render contains a Secret; secrets are made in the cluster" >&2; exit 1
fi

echo "== compose-check (Compose v2's loader) on docker-compose-develop.yml"
compose_check=$(scripts/compose-check/ensure.sh)
"$compose_check" docker-compose-develop.yml

echo "chart-check: all passed"
