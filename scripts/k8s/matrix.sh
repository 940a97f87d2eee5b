#!/usr/bin/env bash
# Run every `kubernetes`-marked test on each pinned release and print one line per release.
#   scripts/k8s/matrix.sh <python> [pytest args...]
# VA_K8S_RELEASES (space-separated) runs a subset, e.g. VA_K8S_RELEASES=v1.34.4.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python=${1:?usage: matrix.sh <python> [pytest args...]}
shift
summary=() status=0
for version in ${VA_K8S_RELEASES:-$("$here/release.sh" --all)}; do
  log=$(mktemp)
  started=$SECONDS
  VA_K8S_VERSION=$version "$python" -m pytest -m kubernetes -q -p no:cacheprovider "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  [ "$rc" = 0 ] || status=1
  counts=$(grep -E '^(=+ )?[0-9]+ (passed|failed|error)' "$log" | tail -n 1 | sed 's/=//g; s/^ *//; s/ *$//')
  summary+=("$(printf 'Kubernetes %-8s %s (%d s)' "$version" "${counts:-no result, exit $rc}" $((SECONDS - started)))")
  rm -f "$log"
done
echo "=== Kubernetes matrix"
printf '%s\n' "${summary[@]}"
exit $status
