#!/usr/bin/env bash
# `make e2e-kind`: the end-to-end test of tests/e2e on a real kind cluster (needs Docker).
#   1. checks the prerequisites (docker with a running engine, kind, kubectl, helm, the venv);
#   2. builds the three images (tag e2e; the analysis image with MODEL=opencv-face: CPU, no weights)
#      and pulls the other images the chart renders (PostgreSQL);
#   3. creates a kind cluster from tests/e2e/kind.yaml (its own kubeconfig, ~/.kube untouched),
#      `kind load docker-image` for all of them (the values say pullPolicy: Never);
#   4. applies the hostPath PV of the videos (tests/e2e/videos-pv.yaml), `helm install` with
#      tests/e2e/values-kind.yaml, waits for the migrations hook and both rollouts;
#   5. port-forwards the API and runs `pytest tests/e2e -m kind` with KUBECONFIG and VA_E2E_API_URL;
#   6. deletes the cluster on any exit (E2E_KEEP_CLUSTER=1 keeps it for a look).
# Usage: scripts/e2e-kind.sh [--plan]   (--plan prints the resolved settings and exits)
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER="${KIND_CLUSTER:-videoanalysis-e2e}"
KIND_CONFIG=tests/e2e/kind.yaml
VALUES=tests/e2e/values-kind.yaml
VIDEOS_PV=tests/e2e/videos-pv.yaml
CHART=charts/videoanalysis
RELEASE=videoanalysis
NAMESPACE=videoanalysis
TAG=e2e
PY="${PY:-.venv/bin/python}"
TIMEOUT="${E2E_TIMEOUT:-600s}"
BUILT_IMAGES=("videoanalysis-api:$TAG" "videoanalysis-operator:$TAG" "videoanalysis-job:$TAG")

# A tool from PATH, else the one scripts/install-helm.sh put in .venv/bin; empty if neither.
tool() {
  if command -v "$1" >/dev/null 2>&1; then command -v "$1"
  elif [[ -x ".venv/bin/$1" ]]; then echo ".venv/bin/$1"
  fi
}

# The host folder of the videos: the extra mount's hostPath in the kind config.
videos_host_dir() {
  sed -n 's/^[[:space:]]*-[[:space:]]*hostPath:[[:space:]]*//p' "$KIND_CONFIG" | head -n 1
}

# Where the node sees that folder (the hostPath PV's path).
videos_node_dir() {
  sed -n 's/^[[:space:]]*containerPath:[[:space:]]*//p' "$KIND_CONFIG" | head -n 1
}

plan() {
  echo "cluster=$CLUSTER"
  echo "kind_config=$KIND_CONFIG"
  echo "videos_host_dir=$(videos_host_dir)"
  echo "videos_node_dir=$(videos_node_dir)"
  echo "videos_pv=$VIDEOS_PV"
  echo "release=$RELEASE"
  echo "namespace=$NAMESPACE"
  echo "values=$VALUES"
  echo "images=${BUILT_IMAGES[*]}"
  HELM="$(tool helm)"
  echo "pulled_images=$(third_party_images | tr '\n' ' ' | sed 's/ $//')"
}

check_prereqs() {
  local missing=()
  DOCKER="$(tool docker)"; KIND="$(tool kind)"; KUBECTL="$(tool kubectl)"; HELM="$(tool helm)"
  [[ -n "$DOCKER" ]] || missing+=("docker: https://docs.docker.com/engine/install/")
  if [[ -n "$DOCKER" ]] && ! "$DOCKER" info >/dev/null 2>&1; then
    missing+=("a running Docker engine: 'docker info' cannot reach one")
  fi
  [[ -n "$KIND" ]] || missing+=("kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation")
  [[ -n "$KUBECTL" ]] || missing+=("kubectl: https://kubernetes.io/docs/tasks/tools/ (or scripts/install-helm.sh)")
  [[ -n "$HELM" ]] || missing+=("helm: https://helm.sh/docs/intro/install/ (or scripts/install-helm.sh)")
  [[ -x "$PY" ]] || missing+=("$PY with the test dependencies: make deps-test")
  if ((${#missing[@]})); then
    echo "e2e-kind: missing prerequisites:" >&2
    printf '  - %s\n' "${missing[@]}" >&2
    exit 2
  fi
}

# Images the chart renders that are not built here (the bundled PostgreSQL).
third_party_images() {
  "$HELM" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" -f "$VALUES" \
    | sed -n 's/^[[:space:]]*image:[[:space:]]*"\{0,1\}\([^"]*\)"\{0,1\}[[:space:]]*$/\1/p' \
    | sort -u | grep -v -x -F -f <(printf '%s\n' "${BUILT_IMAGES[@]}") || true
}

build_images() {
  "$DOCKER" build -f api/Dockerfile -t "videoanalysis-api:$TAG" .
  "$DOCKER" build -f operator/Dockerfile -t "videoanalysis-operator:$TAG" .
  "$DOCKER" build -f inference_job/Dockerfile --build-arg MODEL=opencv-face -t "videoanalysis-job:$TAG" .
  local image
  for image in $(third_party_images); do
    "$DOCKER" image inspect "$image" >/dev/null 2>&1 || "$DOCKER" pull "$image"
  done
}

# On any exit: what went wrong (if anything), then the cluster and the port-forward are gone.
cleanup() {
  local rc=$?
  set +e
  [[ -n "${PF_PID:-}" ]] && kill "$PF_PID" 2>/dev/null
  if ((rc != 0)) && [[ -n "${CREATED:-}" ]]; then
    echo "== e2e-kind failed ($rc): state of namespace $NAMESPACE" >&2
    "$KUBECTL" -n "$NAMESPACE" get all,va,pvc -o wide >&2
    "$KUBECTL" -n "$NAMESPACE" describe pods 2>&1 | tail -n 80 >&2
    "$KUBECTL" -n "$NAMESPACE" logs "deploy/$RELEASE-operator" --tail=60 >&2
    "$KUBECTL" -n "$NAMESPACE" logs "deploy/$RELEASE-api" --tail=60 >&2
  fi
  if [[ -z "${CREATED:-}" ]]; then
    :
  elif [[ "${E2E_KEEP_CLUSTER:-0}" == 1 ]]; then
    echo "e2e-kind: kept cluster $CLUSTER (KUBECONFIG=$KUBECONFIG); kind delete cluster --name $CLUSTER" >&2
  else
    # The uploads belong to uid 10001: remove them as the node's root before the node goes.
    "$DOCKER" exec "$CLUSTER-control-plane" find "$(videos_node_dir)" -mindepth 1 -delete 2>/dev/null
    "$KIND" delete cluster --name "$CLUSTER" --kubeconfig "$KUBECONFIG"
    rm -rf "$WORK"
  fi
  exit "$rc"
}

create_cluster() {
  if "$KIND" get clusters 2>/dev/null | grep -q -x -F "$CLUSTER"; then
    echo "e2e-kind: a kind cluster named $CLUSTER exists; delete it (kind delete cluster --name $CLUSTER) or set KIND_CLUSTER" >&2
    exit 2
  fi
  local host_dir; host_dir="$(videos_host_dir)"
  # The pods run as uid 10001 and fsGroup does not apply to hostPath: a sticky world-writable folder.
  mkdir -p "$host_dir" && chmod 1777 "$host_dir"
  WORK="$(mktemp -d)"
  export KUBECONFIG="$WORK/kubeconfig"
  CREATED=1
  "$KIND" create cluster --name "$CLUSTER" --config "$KIND_CONFIG" --kubeconfig "$KUBECONFIG" \
    --wait 120s ${KIND_NODE_IMAGE:+--image "$KIND_NODE_IMAGE"}
  # shellcheck disable=SC2046  # one image a word
  "$KIND" load docker-image --name "$CLUSTER" "${BUILT_IMAGES[@]}" $(third_party_images)
}

install_chart() {
  "$KUBECTL" create namespace "$NAMESPACE"
  "$KUBECTL" apply -f "$VIDEOS_PV"
  # No --wait: the API is unready until the post-install migrations hook has run, and helm
  # waits for that hook by itself; the rollouts are awaited next.
  "$HELM" install "$RELEASE" "$CHART" --namespace "$NAMESPACE" -f "$VALUES" --timeout "$TIMEOUT"
  "$KUBECTL" -n "$NAMESPACE" rollout status "deploy/$RELEASE-operator" --timeout "$TIMEOUT"
  "$KUBECTL" -n "$NAMESPACE" rollout status "deploy/$RELEASE-api" --timeout "$TIMEOUT"
}

# Forwards a free local port to the API Service; sets API_URL once /readyz answers.
forward_api() {
  local port
  port="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "$KUBECTL" -n "$NAMESPACE" port-forward "svc/$RELEASE-api" "$port:80" >"$WORK/port-forward.log" 2>&1 &
  PF_PID=$!
  API_URL="http://127.0.0.1:$port"
  local _
  for _ in $(seq 60); do
    if "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/readyz", timeout=2)' \
      "$API_URL" 2>/dev/null; then
      return 0
    fi
    sleep 1
  done
  echo "e2e-kind: the API did not answer on $API_URL/readyz:" >&2
  cat "$WORK/port-forward.log" >&2
  return 1
}

main() {
  if [[ "${1:-}" == "--plan" ]]; then plan; exit 0; fi
  check_prereqs
  trap 'exit 130' INT TERM
  trap cleanup EXIT
  echo "== build images"; build_images
  echo "== kind cluster $CLUSTER"; create_cluster
  echo "== helm install $RELEASE"; install_chart
  echo "== port-forward the API"; forward_api
  echo "== pytest tests/e2e -m kind"
  VA_E2E_API_URL="$API_URL" VA_E2E_NAMESPACE="$NAMESPACE" \
    "$PY" -m pytest tests/e2e -m kind -v -p no:cacheprovider
}

main "$@"
