#!/usr/bin/env bash
# Build kube-apiserver and kube-controller-manager 1.20.2 from Debian bookworm's own source
# package `kubernetes` and install them into $1 (the cache folder). About 13 minutes cold on
# 2 cores and 3 GB of scratch disk; run only when no cached binaries are found.
#
# Why a patch: the vendored github.com/modern-go/reflect2 1.0.1 segfaults under Go >= 1.18
# (the API server dies on the first request after a CRD is created), so the vendored
# reflect2 and json-iterator are replaced by Debian's newer copies.
set -euo pipefail
dest=${1:?usage: build-from-source.sh <dest-dir>}
version="1.20.5+really1.20.2-1.1+deb12u1"
scratch=${K8S_BUILD_DIR:-$(mktemp -d /tmp/va-k8s-build.XXXXXX)}
export DEBIAN_FRONTEND=noninteractive

echo "building kube-apiserver and kube-controller-manager from Debian source in $scratch" >&2
apt-get update -q
apt-get install -y -q golang-go rsync jq dpkg-dev etcd-server \
  golang-github-modern-go-reflect2-dev golang-github-json-iterator-go-dev

# Source entries: the machine's own deb822 sources with `Types: deb-src`, so no mirror host
# name is written here (whatever mirror this machine uses is used for the sources too).
src_list=/etc/apt/sources.list.d/va-k8s-deb-src.sources
if [ ! -f "$src_list" ]; then
  tmp=$(mktemp)
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && [ "$f" != "$src_list" ] || continue
    sed 's/^Types:.*/Types: deb-src/' "$f" >>"$tmp"
    echo >>"$tmp"
  done
  # One-line style sources.list entries, if any.
  if [ -f /etc/apt/sources.list ]; then
    grep -E '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' >"${src_list%.sources}.list" || true
  fi
  install -m 0644 "$tmp" "$src_list"
  rm -f "$tmp"
  apt-get update -q
fi

cd "$scratch"
apt-get source --download-only "kubernetes=$version"
dsc=$(ls kubernetes_*.dsc | head -n 1)
rm -rf src && dpkg-source -x "$dsc" src
cd src

# The patch: Debian's reflect2 / json-iterator instead of the vendored copies.
for pkg in github.com/modern-go/reflect2 github.com/json-iterator/go; do
  rm -rf "vendor/$pkg"
  mkdir -p "vendor/$pkg"
  rsync -a --exclude='*_test.go' --exclude='.git*' "/usr/share/gocode/src/$pkg/" "vendor/$pkg/"
done

# GOPATH mode, as the 1.20 build scripts expect.
mkdir -p .go/src/k8s.io
ln -sfn "$PWD" .go/src/k8s.io/kubernetes
export GOPATH="$PWD/.go" GO111MODULE=off CGO_ENABLED=0
export KUBE_GIT_VERSION=v1.20.2 KUBE_GIT_TREE_STATE=clean
cd .go/src/k8s.io/kubernetes
make WHAT="cmd/kube-apiserver cmd/kube-controller-manager"

mkdir -p "$dest"
for bin in kube-apiserver kube-controller-manager; do
  install -m 0755 "_output/local/bin/linux/amd64/$bin" "$dest/$bin"
done
echo "installed into $dest" >&2
[ -n "${K8S_BUILD_DIR:-}" ] || rm -rf "$scratch"
