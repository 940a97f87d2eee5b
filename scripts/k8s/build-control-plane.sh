#!/usr/bin/env bash
# Build kube-apiserver, kube-controller-manager and kube-scheduler of one Kubernetes release
# from the k8s.io/kubernetes module on the Go module proxy, and the etcd that release names in
# its build/dependencies.yaml, into <dest> with a SHA256SUMS file.
#
#   scripts/k8s/build-control-plane.sh v1.37.2 /opt/videoanalysis-k8s/v1.37.2
#
# k8s.io/kubernetes requires its staging modules (k8s.io/api, k8s.io/client-go, ...) at
# v0.0.0 and replaces them with ./staging paths that a module zip does not carry, so a build
# module of ours requires the release and replaces each staging module with its published
# v0.<minor>.<patch>. Module zips have no git metadata: the version is stamped with -ldflags.
# etcd is built the same way, from go.etcd.io/etcd/server/v3's etcdmain.
set -euo pipefail
version=${1:?usage: build-control-plane.sh <vX.Y.Z> <dest-dir>}
dest=${2:?usage: build-control-plane.sh <vX.Y.Z> <dest-dir>}
[[ $version =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || { echo "not a release: $version" >&2; exit 2; }
minor=${BASH_REMATCH[1]} patch=${BASH_REMATCH[2]}
staging_version="v0.$minor.$patch"
scratch=$(mktemp -d /tmp/va-k8s-build.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
export CGO_ENABLED=0 GOFLAGS=-mod=mod
started=$SECONDS

module_dir() {  # module_dir <module@version>: download it and print its folder
  go mod download -json "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])'
}

echo "building Kubernetes $version (staging modules at $staging_version) in $scratch" >&2
k8s_src=$(module_dir "k8s.io/kubernetes@$version")
go_line=$(awk '$1 == "go" {print $2; exit}' "$k8s_src/go.mod")
etcd_version=v$(awk '/name: "etcd"/ {getline; print $2; exit}' "$k8s_src/build/dependencies.yaml")

mkdir -p "$scratch/k8s"
{
  echo "module videoanalysis.test/k8s-build"
  echo "go $go_line"
  echo "require k8s.io/kubernetes $version"
  echo "replace ("
  sed -n 's#^\s*\(k8s\.io/[a-z0-9-]*\) => \./staging/src/.*#\t\1 => \1 '"$staging_version"'#p' "$k8s_src/go.mod"
  echo ")"
} >"$scratch/k8s/go.mod"

# The same stamp as the release's own hack/lib/version.sh.
pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
out="$scratch/out"
mkdir -p "$out"
(
  cd "$scratch/k8s"
  for cmd in kube-apiserver kube-controller-manager kube-scheduler; do
    echo "  go build $cmd" >&2
    go build -trimpath -ldflags "$ldflags" -o "$out/$cmd" "k8s.io/kubernetes/cmd/$cmd"
  done
)

echo "building etcd $etcd_version" >&2
mkdir -p "$scratch/etcd"
cat >"$scratch/etcd/main.go" <<'GO'
// etcd's own main, from the server module (the root module's replace directives point at
// folders a module zip does not carry).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
etcd_go=$(curl -fsS "$(go env GOPROXY | cut -d, -f1)/go.etcd.io/etcd/server/v3/@v/$etcd_version.mod" \
  | awk '$1 == "go" && !v {v = $2} END {print v}') || etcd_go=$go_line  # read to the end: no SIGPIPE for curl
{
  echo "module videoanalysis.test/etcd-build"
  echo "go ${etcd_go:-$go_line}"
  echo "require go.etcd.io/etcd/server/v3 $etcd_version"
  # The server module replaces its siblings with ../ paths; pin them to the same release.
  echo "replace ("
  for m in api/v3 client/pkg/v3 client/v3 pkg/v3; do
    echo "	go.etcd.io/etcd/$m => go.etcd.io/etcd/$m $etcd_version"
  done
  echo ")"
} >"$scratch/etcd/go.mod"
(cd "$scratch/etcd" && go build -trimpath -ldflags "-s -w" -o "$out/etcd" .)

"$out/kube-apiserver" --version >&2
"$out/etcd" --version | sed -n 1p >&2  # sed reads to the end: head would end the pipe early (SIGPIPE)
(cd "$out" && sha256sum kube-apiserver kube-controller-manager kube-scheduler etcd >SHA256SUMS)
echo "$etcd_version" >"$out/ETCD_VERSION"
mkdir -p "${dest%/*}"
rm -rf "$dest.partial" && mv "$out" "$dest.partial" && rm -rf "$dest" && mv "$dest.partial" "$dest"
echo "installed Kubernetes $version and etcd $etcd_version into $dest in $((SECONDS - started)) s" >&2
