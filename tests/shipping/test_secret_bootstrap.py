"""The release's Secret under GitOps: the chart renders no secret, and the hook Job's own command
(taken from the render) makes it once against the real test API server and keeps it through
upgrades, including an upgrade from a chart that rendered the Secret itself."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from tests.support.helm import CHART, helm_template, one, parse, pod_spec, render
from tests.support.paths import ROOT
from va_operator.secret_bootstrap import BootstrapError, BundledDb, secret_data

SECRET = "va-videoanalysis"
PG_URL = "postgres://videoanalysis:{}@va-videoanalysis-postgresql:5432/videoanalysis"


def test_two_renders_are_identical_and_hold_no_secret_material() -> None:
    first, second = helm_template().stdout, helm_template().stdout
    assert first == second
    docs = parse(first)
    assert not [d for d in docs if d["kind"] == "Secret"]
    for doc in docs:
        if doc["kind"] in ("Deployment", "StatefulSet", "Job", "Pod"):
            for container in pod_spec(doc)["containers"]:
                for env in container.get("env", []):
                    if env["name"] in ("VA_SECRET_KEY", "VA_DATABASE_URL", "POSTGRES_PASSWORD"):
                        assert "secretKeyRef" in env["valueFrom"], (doc["metadata"]["name"], env)


def test_bootstrap_hook_runs_before_the_migrations_with_its_own_narrow_identity() -> None:
    docs = render()
    job = one(docs, "Job", "-secret-bootstrap")
    weight = int(job["metadata"]["annotations"]["helm.sh/hook-weight"])
    for kind in ("ServiceAccount", "Role", "RoleBinding"):
        hook = one(docs, kind, "-secret-bootstrap")["metadata"]["annotations"]
        assert hook["helm.sh/hook"] == "pre-install,pre-upgrade" and int(hook["helm.sh/hook-weight"]) < weight
        assert "hook-succeeded" in hook["helm.sh/hook-delete-policy"]
    assert weight < int(one(docs, "Job", "-migrate")["metadata"]["annotations"]["helm.sh/hook-weight"])
    assert pod_spec(job)["serviceAccountName"] == "va-videoanalysis-secret-bootstrap"
    assert "envFrom" not in pod_spec(job)["containers"][0]  # nothing given: everything generated in the cluster


def test_existing_secret_needs_no_bootstrap() -> None:
    docs = render("--set", "secret.existingSecret=va-creds", "--set", "postgresql.enabled=false")
    assert not [d for d in docs if d["metadata"]["name"].endswith(("-secret-bootstrap", "-seed"))]


def test_secret_data_keeps_existing_keys_and_writes_given_ones() -> None:
    bundled = BundledDb("pg", "u", "db")
    made = secret_data({}, {}, bundled, token=lambda n: "t" * n)
    assert made == {
        "secret-key": "t" * 48,
        "postgres-password": "t" * 24,
        "database-url": f"postgres://u:{'t' * 24}@pg:5432/db",
    }
    assert secret_data(made, {}, bundled, token=lambda n: "other") == made
    given = secret_data(made, {"secret-key": "k" * 40, "postgres-password": "p@ss/word"}, bundled)
    assert given["secret-key"] == "k" * 40 and given["database-url"] == "postgres://u:p%40ss%2Fword@pg:5432/db"
    with pytest.raises(BootstrapError, match=r"secret\.databaseUrl"):
        secret_data({}, {}, None)


@pytest.fixture
def namespace(k8s_cluster: Path, kube_api: client.ApiClient) -> Iterator[str]:
    core = client.CoreV1Api(kube_api)
    name = f"va-secret-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


def _run_hook(values: Path | None, namespace: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the rendered hook Job's command here, as the Pod would, with its seed Secret as env."""
    docs = render(*args, values=values)
    container = pod_spec(one(docs, "Job", "-secret-bootstrap"))["containers"][0]
    command = [sys.executable if c == "python" else c for c in container["command"]]
    command = [f"--namespace={namespace}" if c.startswith("--namespace=") else c for c in command]
    seeds = [d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"].endswith("-seed")]
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(seeds[0]["stringData"] if seeds else {})}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def _read(kube_api: client.ApiClient, namespace: str) -> dict[str, str]:
    secret = client.CoreV1Api(kube_api).read_namespaced_secret(SECRET, namespace)
    return {k: base64.b64decode(v).decode() for k, v in secret.data.items()}


@pytest.mark.kubernetes
def test_install_then_upgrade_keeps_the_generated_key(namespace: str, kube_api: client.ApiClient) -> None:
    install = _run_hook(None, namespace)
    assert install.returncode == 0 and "created" in install.stdout, install.stderr
    made = _read(kube_api, namespace)
    assert len(made["secret-key"]) >= 32 and made["database-url"] == PG_URL.format(made["postgres-password"])
    assert made["secret-key"] not in install.stdout + install.stderr
    upgrade = _run_hook(None, namespace)  # a second render, as every upgrade or sync makes
    assert upgrade.returncode == 0 and "kept" in upgrade.stdout, upgrade.stderr
    assert _read(kube_api, namespace) == made


@pytest.mark.kubernetes
def test_upgrade_from_a_chart_rendered_secret_keeps_it(namespace: str, kube_api: client.ApiClient) -> None:
    old = {"secret-key": "o" * 64, "postgres-password": "oldpw", "database-url": PG_URL.format("oldpw")}
    client.CoreV1Api(kube_api).create_namespaced_secret(namespace, {"metadata": {"name": SECRET}, "stringData": old})
    proc = _run_hook(None, namespace)
    assert proc.returncode == 0 and "kept" in proc.stdout, proc.stderr
    assert _read(kube_api, namespace) == old


@pytest.mark.kubernetes
def test_given_values_are_written_and_generated_ones_stay(namespace: str, kube_api: client.ApiClient) -> None:
    assert _run_hook(CHART / "values-dev.yaml", namespace).returncode == 0
    dev = _read(kube_api, namespace)
    assert dev["secret-key"] == "development-only-secret-key-0123456789abcdef"
    assert dev["database-url"] == PG_URL.format("development")
    external = "postgres://va:pw@db.example.internal:5432/va"
    moved = _run_hook(
        CHART / "values-dev.yaml",
        namespace,
        "--set",
        "postgresql.enabled=false",
        "--set",
        f"secret.databaseUrl={external}",
    )
    assert moved.returncode == 0 and "updated" in moved.stdout, moved.stderr
    assert _read(kube_api, namespace) == {**dev, "database-url": external}
