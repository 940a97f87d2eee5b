#!/usr/bin/env bash
# Make kube-apiserver and kube-controller-manager 1.20.2 available in the cache folder and
# print the folder. Order: the cache folder as it is; else unpack the gzipped copies from
# ../shared/k8s-bin/ (if that folder exists) and verify their SHA256SUMS; else build them
# from Debian's source package (scripts/k8s/build-from-source.sh, ~13 minutes).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${VA_K8S_BIN_DIR:-/opt/videoanalysis-k8s/1.20.2}
shared=${VA_K8S_SHARED_BIN:-$root/../shared/k8s-bin}
bins=(kube-apiserver kube-controller-manager)

have_all() {
  for b in "${bins[@]}"; do [ -x "$cache/$b" ] || return 1; done
}

unpack_shared() {
  [ -f "$shared/SHA256SUMS" ] || return 1
  for b in "${bins[@]}"; do [ -f "$shared/$b.gz" ] || return 1; done
  local tmp
  tmp=$(mktemp -d "${cache%/*}/.unpack.XXXXXX")
  for b in "${bins[@]}"; do gzip -dc "$shared/$b.gz" >"$tmp/$b"; done
  if ! (cd "$tmp" && sha256sum --quiet -c "$shared/SHA256SUMS"); then
    echo "checksum mismatch in $shared; ignoring that copy" >&2
    rm -rf "$tmp"
    return 1
  fi
  chmod 0755 "$tmp"/*
  mkdir -p "$cache"
  for b in "${bins[@]}"; do mv -f "$tmp/$b" "$cache/$b"; done
  rm -rf "$tmp"
  echo "unpacked cached binaries from $shared into $cache" >&2
}

if ! have_all; then
  mkdir -p "${cache%/*}"
  unpack_shared || "$here/build-from-source.sh" "$cache"
fi
have_all || { echo "no kube-apiserver/kube-controller-manager in $cache" >&2; exit 1; }
echo "$cache"
