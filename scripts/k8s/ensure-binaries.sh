#!/usr/bin/env bash
# Make one release's control plane (kube-apiserver, kube-controller-manager, kube-scheduler and
# its etcd) available in /opt/videoanalysis-k8s/<version> and print that folder.
#
#   scripts/k8s/ensure-binaries.sh [vX.Y.Z]      (default: the first line of scripts/k8s/RELEASES)
#
# Order: the cache folder, when its SHA256SUMS still match; else prebuilt gzipped copies in
# ../shared/k8s-bin/<version>/ (used when present and their sums match, never required); else
# a build from the Go module proxy (scripts/k8s/build-control-plane.sh, minutes).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
version=${1:-$("$here/release.sh")}
cache=${VA_K8S_CACHE:-/opt/videoanalysis-k8s}/$version
shared=${VA_K8S_SHARED_BIN:-$root/../shared/k8s-bin}/$version
bins=(kube-apiserver kube-controller-manager kube-scheduler etcd)

verified() {  # verified <dir>: every binary present and matching the folder's SHA256SUMS
  [ -f "$1/SHA256SUMS" ] || return 1
  for b in "${bins[@]}"; do [ -x "$1/$b" ] || return 1; done
  (cd "$1" && sha256sum --quiet -c SHA256SUMS >/dev/null 2>&1)
}

unpack_shared() {
  [ -f "$shared/SHA256SUMS" ] || return 1
  for b in "${bins[@]}"; do [ -f "$shared/$b.gz" ] || return 1; done
  local tmp
  mkdir -p "${cache%/*}"
  tmp=$(mktemp -d "${cache%/*}/.unpack.XXXXXX")
  for b in "${bins[@]}"; do gzip -dc "$shared/$b.gz" >"$tmp/$b"; done
  cp "$shared/SHA256SUMS" "$tmp/"
  chmod 0755 "${bins[@]/#/$tmp/}"
  if ! verified "$tmp"; then
    echo "checksum mismatch in $shared; ignoring that copy" >&2
    rm -rf "$tmp"
    return 1
  fi
  rm -rf "$cache" && mv "$tmp" "$cache"
  echo "unpacked prebuilt $version from $shared into $cache" >&2
}

if ! verified "$cache"; then
  unpack_shared || "$here/build-control-plane.sh" "$version" "$cache"
fi
verified "$cache" || { echo "no verified control plane $version in $cache" >&2; exit 1; }
echo "$cache"
