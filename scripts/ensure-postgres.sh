#!/usr/bin/env bash
# PostgreSQL for the tests, on a machine that may have none: Debian's `postgresql` installed
# when missing, a cluster created when none exists, trust authentication on 127.0.0.1 and ::1
# (the tests connect as `postgres` without a password), the cluster started and a database
# `test` created. Idempotent: a second run finds everything in place and changes nothing.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
marker="# videoanalysis tests: trust authentication on loopback"

connects() { psql -h 127.0.0.1 -p 5432 -U postgres -d test -Atqc 'select 1' >/dev/null 2>&1; }
as_root() {  # as_root <what>: stop with the command to run when this is not root
  [ "$(id -u)" = 0 ] && return 0
  echo "PostgreSQL for the tests: $1 needs root; run: sudo $0" >&2
  exit 1
}

connects && exit 0

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || ! command -v pg_ctlcluster >/dev/null; then
  as_root "installing Debian's postgresql"
  echo "installing PostgreSQL (apt-get install postgresql)..." >&2
  apt-get install -y -q postgresql >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q postgresql; }
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)

if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {found = 1} END {exit !found}'; then
  as_root "creating a cluster"
  pg_createcluster "$version" main >/dev/null
fi

hba=/etc/postgresql/$version/main/pg_hba.conf
if ! grep -qF "$marker" "$hba"; then
  as_root "configuring trust authentication"
  tmp=$(mktemp)
  { echo "$marker"; echo "host all all 127.0.0.1/32 trust"; echo "host all all ::1/128 trust"; cat "$hba"; } >"$tmp"
  install -o postgres -g postgres -m 0640 "$tmp" "$hba"
  rm -f "$tmp"
fi

if pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" && $4 == "online" {found = 1} END {exit !found}'; then
  pg_ctlcluster --skip-systemctl-redirect "$version" main reload
else
  echo "starting PostgreSQL $version..." >&2
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 1
done
pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL did not become ready on 127.0.0.1:5432" >&2; exit 1; }
# The reload is asynchronous: wait until the trust lines answer.
for _ in $(seq 1 20); do
  psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1 && break
  sleep 0.5
done
if ! psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atqc "select 1 from pg_database where datname = 'test'" | grep -q 1; then
  createdb -h 127.0.0.1 -p 5432 -U postgres test
fi
connects || { echo "cannot connect to postgres@127.0.0.1:5432/test with trust authentication" >&2; exit 1; }
echo "PostgreSQL $version ready on 127.0.0.1:5432 (database test)" >&2
