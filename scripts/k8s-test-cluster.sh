#!/usr/bin/env bash
# A real Kubernetes control plane for the tests: etcd + kube-apiserver + kube-controller-manager
# + kube-scheduler of one pinned release on 127.0.0.1 free ports, and KWOK (scripts/k8s/kwok.yaml)
# keeping the fake nodes labelled type=kwok alive. No kubelet and no container runtime: the
# tests make the nodes, and a Pod's container is played by a KWOK Stage or the tests' pod runner.
#
#   scripts/k8s-test-cluster.sh prereqs          every pinned release cached (built when missing)
#   scripts/k8s-test-cluster.sh start <dir>      start everything; writes <dir>/kubeconfig, <dir>/pids
#   scripts/k8s-test-cluster.sh stop <dir>       stop the processes listed in <dir>/pids
#
# The release is $VA_K8S_VERSION, else the newest in scripts/k8s/RELEASES; its binaries live in
# /opt/videoanalysis-k8s/<release> (scripts/k8s/ensure-binaries.sh), KWOK's in
# /opt/videoanalysis-k8s/addons (scripts/k8s/ensure-addons.sh). Logs go to <dir>/*.log. With
# $VA_K8S_AUDIT_POLICY set, the API server writes an audit log to <dir>/audit.log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_bg() {  # start_bg <name> <cmd...>: detached, logs to <dir>/<name>.log, PID to pids
  local name=$1; shift
  setsid "$@" >"$dir/$name.log" 2>&1 </dev/null &
  echo "$! $name" >>"$dir/pids"
}

wait_ready() {  # wait_ready <what> <seconds> <cmd...>: stops early if <what> exited
  local what=$1 secs=$2 pid; shift 2
  pid=$(awk -v n="$what" '$2 == n {print $1}' "$dir/pids")
  for _ in $(seq 1 $((secs * 5))); do
    "$@" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  echo "$what did not become ready in ${secs}s; its log:" >&2
  tail -n 30 "$dir/$what.log" >&2 || true
  return 1
}

write_kubeconfig() {  # write_kubeconfig <file> <server>
  cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: va-test
  cluster:
    server: $2
    certificate-authority: $dir/ca.crt
users:
- name: test-admin
  user:
    token: $(cat "$dir/token")
contexts:
- name: va-test
  context: {cluster: va-test, user: test-admin}
current-context: va-test
KC
  chmod 0600 "$1"
}

cmd_prereqs() {
  local version
  for version in $("$here/k8s/release.sh" --all); do "$here/k8s/ensure-binaries.sh" "$version" >/dev/null; done
  "$here/k8s/ensure-addons.sh" >/dev/null
}

cmd_start() {
  local bin kwok etcd_port peer_port api_port server audit=()
  bin=$("$here/k8s/ensure-binaries.sh" "$("$here/k8s/release.sh")")
  kwok=$("$here/k8s/ensure-addons.sh" kwok)
  if [ -n "${VA_K8S_AUDIT_POLICY:-}" ]; then
    audit=(--audit-policy-file "$VA_K8S_AUDIT_POLICY" --audit-log-path "$dir/audit.log" --audit-log-maxsize 0)
  fi
  mkdir -p "$dir"
  : >"$dir/pids"
  "$here/k8s/certs.sh" "$dir"
  etcd_port=$(free_port); peer_port=$(free_port); api_port=$(free_port)
  server="https://127.0.0.1:$api_port"

  start_bg etcd "$bin/etcd" --name va-test --data-dir "$dir/etcd-data" --unsafe-no-fsync \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "va-test=http://127.0.0.1:$peer_port" --log-level warn
  wait_ready etcd 20 curl -sf "http://127.0.0.1:$etcd_port/health"

  start_bg kube-apiserver "$bin/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --cert-dir "$dir" --tls-cert-file "$dir/apiserver.crt" --tls-private-key-file "$dir/apiserver.key" \
    --client-ca-file "$dir/ca.crt" --token-auth-file "$dir/tokens.csv" --authorization-mode RBAC \
    --service-account-key-file "$dir/sa.pub" --service-account-signing-key-file "$dir/sa.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --api-audiences https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range 10.0.0.0/24 --endpoint-reconciler-type none "${audit[@]}" --v=1
  wait_ready kube-apiserver 60 curl -sf --cacert "$dir/ca.crt" \
    -H "Authorization: Bearer $(cat "$dir/token")" "$server/readyz"

  write_kubeconfig "$dir/kubeconfig" "$server"
  start_bg kube-controller-manager "$bin/kube-controller-manager" --kubeconfig "$dir/kubeconfig" \
    --controllers '*' --leader-elect=false --secure-port 0 \
    --service-account-private-key-file "$dir/sa.key" --root-ca-file "$dir/ca.crt" --v=1
  start_bg kube-scheduler "$bin/kube-scheduler" --kubeconfig "$dir/kubeconfig" --leader-elect=false \
    --secure-port 0 --v=1
  start_bg kwok "$kwok" --kubeconfig "$dir/kubeconfig" --config "$here/k8s/kwok.yaml" \
    --server-address "127.0.0.1:$(free_port)"
  sleep 0.5
  local name
  for name in kube-controller-manager kube-scheduler kwok; do
    kill -0 "$(awk -v n="$name" '$2==n{print $1}' "$dir/pids")" 2>/dev/null || {
      tail -n 30 "$dir/$name.log" >&2; return 1; }
  done
  echo "$dir/kubeconfig"
}

cmd_stop() {
  [ -f "$dir/pids" ] || exit 0
  # Reverse order: KWOK, scheduler, controller manager, API server, then etcd.
  tac "$dir/pids" | while read -r pid name; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    echo "stopped $name ($pid)" >&2
  done
  rm -f "$dir/pids"
}

action=${1:-}
dir=${2:-}
case "$action" in
  prereqs) cmd_prereqs ;;
  start) [ -n "$dir" ] || { echo "usage: $0 start <dir>" >&2; exit 2; }; dir=$(mkdir -p "$dir" && cd "$dir" && pwd); cmd_start ;;
  stop) [ -n "$dir" ] || { echo "usage: $0 stop <dir>" >&2; exit 2; }; cmd_stop ;;
  *) echo "usage: $0 prereqs | start <dir> | stop <dir>" >&2; exit 2 ;;
esac
