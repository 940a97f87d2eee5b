#!/usr/bin/env bash
# Make the pinned cluster add-ons (scripts/k8s/ADDONS: KWOK, Kueue) available and print the
# folder holding them: /opt/videoanalysis-k8s/addons/<name>-<version>/<name> with a SHA256SUMS.
#
#   scripts/k8s/ensure-addons.sh             every add-on, built when missing (minutes each)
#   scripts/k8s/ensure-addons.sh kwok        the path of one add-on's binary
#
# Each is built with `go build` from its module on the Go module proxy (a module zip carries
# its cmd/ folders; neither module has replace directives).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=${VA_K8S_CACHE:-/opt/videoanalysis-k8s}/addons
export CGO_ENABLED=0 GOFLAGS=-mod=mod

verified() {  # verified <dir> <name>
  [ -x "$1/$2" ] && [ -f "$1/SHA256SUMS" ] && (cd "$1" && sha256sum --quiet -c SHA256SUMS >/dev/null 2>&1)
}

build() {  # build <name> <module> <version> <cmd-path> <dest>
  local name=$1 module=$2 version=$3 cmd=$4 dest=$5 scratch started=$SECONDS
  scratch=$(mktemp -d /tmp/va-addon-build.XXXXXX)
  echo "building $name $version from $module" >&2
  local go_line
  # awk reads to the end: an early exit would fail curl's write (23) under pipefail
  go_line=$(curl -fsS "$(go env GOPROXY | cut -d, -f1)/$module/@v/$version.mod" | awk '$1 == "go" && !v {v = $2} END {print v}')
  printf 'module videoanalysis.test/%s-build\ngo %s\nrequire %s %s\n' "$name" "$go_line" "$module" "$version" \
    >"$scratch/go.mod"
  (cd "$scratch" && go mod download "$module@$version" && go get "$module/$cmd@$version" >/dev/null 2>&1 || true)
  mkdir -p "$scratch/out"
  (cd "$scratch" && go build -trimpath -ldflags "-s -w" -o "out/$name" "$module/$cmd")
  (cd "$scratch/out" && sha256sum "$name" >SHA256SUMS)
  mkdir -p "${dest%/*}"
  rm -rf "$dest.partial" && mv "$scratch/out" "$dest.partial" && rm -rf "$dest" && mv "$dest.partial" "$dest"
  rm -rf "$scratch"
  echo "installed $name $version into $dest in $((SECONDS - started)) s" >&2
}

want=${1:-}
found=0
while read -r name module version cmd; do
  [[ -z $name || $name == \#* ]] && continue
  [[ -n $want && $name != "$want" ]] && continue
  found=1
  dest=$root/$name-$version
  verified "$dest" "$name" || build "$name" "$module" "$version" "$cmd" "$dest"
  verified "$dest" "$name" || { echo "no verified $name $version in $dest" >&2; exit 1; }
  [[ -n $want ]] && echo "$dest/$name"
done <"$here/ADDONS"
[[ $found == 1 ]] || { echo "no add-on named $want in $here/ADDONS" >&2; exit 2; }
[[ -n $want ]] || echo "$root"
