"""`python -m va_operator.secret_bootstrap`: the release's Secret, made once in the cluster.

The chart renders no random value, so `helm template`, Argo CD and Flux see the same manifests
at every sync. This runs as a Helm hook Job before the migrations: it generates the JWT key and
the bundled database's password only where the Secret lacks them and never replaces them. Values
given explicitly (the `SEED_*` variables, from the chart's values) are written as given. The
Secret belongs to no Helm release, so no upgrade, sync or uninstall deletes it.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from videoanalysis.k8s import kube

SECRET_KEY, DATABASE_URL, POSTGRES_PASSWORD = "secret-key", "database-url", "postgres-password"
#: Environment variables with the values given explicitly (the chart's seed Secret).
SEED_ENV = {
    SECRET_KEY: "SEED_SECRET_KEY",
    DATABASE_URL: "SEED_DATABASE_URL",
    POSTGRES_PASSWORD: "SEED_POSTGRES_PASSWORD",
}


class BootstrapError(Exception):
    """The Secret cannot be completed; the message says which value to set."""


@dataclass(frozen=True)
class BundledDb:
    """Where the chart's own PostgreSQL listens; its URL is built from the (kept) password."""

    host: str
    user: str
    database: str
    port: int = 5432

    def url(self, password: str) -> str:
        return (
            f"postgres://{quote(self.user, safe='')}:{quote(password, safe='')}@{self.host}:{self.port}/{self.database}"
        )


def secret_data(
    existing: Mapping[str, str],
    seeds: Mapping[str, str],
    bundled: BundledDb | None,
    token: Callable[[int], str] = secrets.token_urlsafe,
) -> dict[str, str]:
    """The Secret's keys: explicit seeds win, existing keys stay, missing ones are generated."""
    data = dict(existing)
    data.update({k: v for k, v in seeds.items() if v})
    data.setdefault(SECRET_KEY, token(48))
    if bundled is not None:
        data.setdefault(POSTGRES_PASSWORD, token(24))
        if not seeds.get(DATABASE_URL):
            data[DATABASE_URL] = bundled.url(data[POSTGRES_PASSWORD])
    if not data.get(DATABASE_URL):
        raise BootstrapError("no database URL: set secret.databaseUrl, secret.existingSecret or postgresql.enabled")
    return data


def _decoded(secret: client.V1Secret) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in (secret.data or {}).items()}


def ensure_secret(
    core: client.CoreV1Api,
    namespace: str,
    name: str,
    seeds: Mapping[str, str],
    bundled: BundledDb | None,
    labels: Mapping[str, str] | None = None,
) -> str:
    """Create the Secret if absent, else add what it lacks; returns created, updated or kept."""
    for _ in range(5):
        try:
            current = core.read_namespaced_secret(name, namespace)
        except ApiException as exc:
            if exc.status != 404:
                raise
            body = client.V1Secret(
                metadata=client.V1ObjectMeta(name=name, labels=dict(labels or {})),
                type="Opaque",
                string_data=secret_data({}, seeds, bundled),
            )
            try:
                core.create_namespaced_secret(namespace, body, **kube.STRICT)
                return "created"
            except ApiException as exc2:
                if exc2.status == 409:  # made meanwhile: read it again
                    continue
                raise
        existing = _decoded(current)
        wanted = secret_data(existing, seeds, bundled)
        if wanted == existing:
            return "kept"
        version = current.metadata.resource_version if current.metadata else None
        patch = {"metadata": {"resourceVersion": version}, "stringData": wanted}
        try:
            core.patch_namespaced_secret(name, namespace, patch, **kube.STRICT)
            return "updated"
        except ApiException as exc:
            if exc.status != 409:
                raise
    raise BootstrapError(f"Secret {namespace}/{name} kept changing; try again")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--instance", default="", help="app.kubernetes.io/instance label of the Secret")
    parser.add_argument("--postgres-host", default="", help="the bundled PostgreSQL's Service (empty: external)")
    parser.add_argument("--postgres-user", default="videoanalysis")
    parser.add_argument("--postgres-database", default="videoanalysis")
    args = parser.parse_args(argv)
    bundled = BundledDb(args.postgres_host, args.postgres_user, args.postgres_database) if args.postgres_host else None
    seeds = {key: os.environ.get(env, "") for key, env in SEED_ENV.items()}
    labels = {"app.kubernetes.io/name": "videoanalysis", "app.kubernetes.io/part-of": "videoanalysis"}
    if args.instance:
        labels["app.kubernetes.io/instance"] = args.instance
    try:
        outcome = ensure_secret(kube.core(), args.namespace, args.name, seeds, bundled, labels)
    except (BootstrapError, ApiException) as exc:
        print(f"error: Secret {args.namespace}/{args.name}: {getattr(exc, 'reason', None) or exc}", file=sys.stderr)
        return 1
    print(f"Secret {args.namespace}/{args.name}: {outcome} (keys are never printed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
