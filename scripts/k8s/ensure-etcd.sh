#!/usr/bin/env bash
# Install Debian's etcd-server (3.4) if `etcd` is not on PATH. Only the binary is used: the
# test cluster starts its own etcd on loopback with a temporary data dir.
set -euo pipefail
command -v etcd >/dev/null 2>&1 && exit 0
echo "installing etcd-server..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q etcd-server
# The package enables a system service; the tests never use it.
if pgrep -x etcd >/dev/null 2>&1 && command -v service >/dev/null 2>&1; then
  service etcd stop >/dev/null 2>&1 || true
fi
