#!/usr/bin/env bash
# Print the path of the compose checker (main.go here: Docker Compose v2's loader, compose-go),
# building it first when missing. The build is cached in
#   ${VA_TOOLS_CACHE:-/opt/videoanalysis-tools}/compose-check-<key>/compose-check
# (${XDG_CACHE_HOME:-~/.cache}/videoanalysis-tools when that is not writable), <key> hashing
# go.mod, go.sum and main.go: a change to any of them builds afresh. The modules come from the
# Go module proxy, checked against the committed go.sum; the build ends within
# VA_TOOLS_BUILD_TIMEOUT_S (600 s) or fails saying so.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=${VA_TOOLS_CACHE:-/opt/videoanalysis-tools}
if ! { mkdir -p "$root" 2>/dev/null && [ -w "$root" ]; }; then
  root=${XDG_CACHE_HOME:-$HOME/.cache}/videoanalysis-tools
  mkdir -p "$root"
fi
key=$(cd "$here" && cat go.mod go.sum main.go | sha256sum | cut -c1-16)
dest=$root/compose-check-$key
limit=${VA_TOOLS_BUILD_TIMEOUT_S:-600}

verified() {
  [ -x "$dest/compose-check" ] && [ -f "$dest/SHA256SUMS" ] \
    && (cd "$dest" && sha256sum --quiet -c SHA256SUMS >/dev/null 2>&1)
}

build() {
  command -v go >/dev/null || { echo "compose-check: no go on PATH (Go 1.24 or newer builds it)" >&2; exit 1; }
  local scratch started=$SECONDS rc=0
  scratch=$(mktemp -d "$root/.compose-check-build.XXXXXX")
  echo "building compose-check $key into $dest" >&2
  (cd "$here" && CGO_ENABLED=0 GOFLAGS=-mod=readonly timeout "$limit" \
    go build -trimpath -buildvcs=false -ldflags "-s -w" -o "$scratch/compose-check" .) || rc=$?
  if [ "$rc" != 0 ]; then
    rm -rf "$scratch"
    [ "$rc" = 124 ] && echo "compose-check: go build did not finish within $limit s (VA_TOOLS_BUILD_TIMEOUT_S)" >&2
    echo "compose-check: go build failed ($rc)" >&2
    exit 1
  fi
  (cd "$scratch" && sha256sum compose-check >SHA256SUMS)
  # Renamed whole, so a reader never sees half a build; a concurrent build that got there first wins.
  mv -T "$scratch" "$dest" 2>/dev/null || rm -rf "$scratch"
  echo "built compose-check in $((SECONDS - started)) s" >&2
}

verified || build
verified || { echo "compose-check: no verified build in $dest" >&2; exit 1; }
echo "$dest/compose-check"
