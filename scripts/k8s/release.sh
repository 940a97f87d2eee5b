#!/usr/bin/env bash
# Print the Kubernetes release the tests run on: $VA_K8S_VERSION, else the newest pinned one
# (the first release in scripts/k8s/RELEASES). `release.sh --all` prints every pinned release.
set -euo pipefail
releases="$(cd "$(dirname "$0")" && pwd)/RELEASES"
if [ "${1:-}" = --all ]; then grep -v '^#' "$releases"; exit 0; fi
echo "${VA_K8S_VERSION:-$(grep -v '^#' "$releases" | sed -n 1p)}"
