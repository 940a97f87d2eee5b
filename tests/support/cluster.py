"""The test control plane: ONE per session, started only if a test needs it (`k8s_cluster`),
by scripts/k8s-test-cluster.sh as processes started and stopped by PID; kubectl against it, and
fresh namespaces for the tests (`namespace` for the session's operator, `unwatched_namespace`
for the API server alone).

Every test that uses the control plane is `kubernetes`-marked here (the release matrix,
scripts/k8s/matrix.sh, selects them by that marker).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from tests.support.paths import ROOT

SCRIPT = ROOT / "scripts" / "k8s-test-cluster.sh"
KUBECTL = Path(sys.executable).with_name("kubectl")
#: The namespaces the session's operator watches (the `namespace` fixture makes them).
NAMESPACE_PREFIX = "va-t-"


def start_cluster(state_dir: Path) -> Path:
    """etcd + kube-apiserver + kube-controller-manager; returns the kubeconfig."""
    out = subprocess.run([str(SCRIPT), "start", str(state_dir)], check=True, capture_output=True, text=True)
    return Path(out.stdout.strip().splitlines()[-1])


def stop_cluster(state_dir: Path) -> None:
    subprocess.run([str(SCRIPT), "stop", str(state_dir)], check=False, capture_output=True)


def kubectl(*args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the venv's kubectl against $KUBECONFIG (the test cluster)."""
    return subprocess.run([str(KUBECTL), *args], check=check, capture_output=True, text=True, input=input)


#: The claim the Job mounts its videos from (OperatorSettings.videos_pvc's default).
VIDEOS_PVC = "videoanalysis-videos"


def create_namespace(kube: client.ApiClient, prefix: str, database_url: str) -> str:
    """A fresh namespace with its default service account, the Job's database Secret and its
    videos claim, bound (the scheduler places no Pod whose claim is unbound)."""
    core = client.CoreV1Api(kube)
    name = f"{prefix}{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}})
    deadline = time.monotonic() + 20
    # Pods are admitted only once the namespace's default service account exists.
    while not core.list_namespaced_service_account(name, field_selector="metadata.name=default").items:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no default service account in {name}")
        time.sleep(0.2)
    core.create_namespaced_secret(name, {"metadata": {"name": "videoanalysis-db"}, "stringData": {"url": database_url}})
    bind_videos_claim(kube, name)
    return name


def bind_videos_claim(kube: client.ApiClient, namespace: str, claim: str = VIDEOS_PVC) -> None:
    """The namespace's videos claim and a volume made for it (pre-bound both ways, as a
    provisioner would), waiting until the PV controller reports the claim Bound."""
    core = client.CoreV1Api(kube)
    volume = f"va-videos-{namespace}"
    core.create_persistent_volume(
        {
            "metadata": {"name": volume, "labels": {"videoanalysis.test/namespace": namespace}},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadOnlyMany"],
                "persistentVolumeReclaimPolicy": "Retain",
                "storageClassName": "",
                "hostPath": {"path": "/var/lib/videoanalysis/videos"},
                "claimRef": {"namespace": namespace, "name": claim},
            },
        }
    )
    core.create_namespaced_persistent_volume_claim(
        namespace,
        {
            "metadata": {"name": claim},
            "spec": {
                "accessModes": ["ReadOnlyMany"],
                "storageClassName": "",
                "volumeName": volume,
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
    )
    deadline = time.monotonic() + 30
    while core.read_namespaced_persistent_volume_claim(claim, namespace).status.phase != "Bound":
        if time.monotonic() > deadline:
            raise TimeoutError(f"claim {namespace}/{claim} not Bound after 30 s")
        time.sleep(0.2)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test on the control plane is `kubernetes`-marked (the release matrix selects them)."""
    for item in items:
        if "k8s_cluster" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.kubernetes)


@pytest.fixture(scope="session")
def k8s_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The kubeconfig of a fresh control plane (started only if a test needs it) with the CRD
    installed and the default KWOK nodes Ready; KUBECONFIG points at it for the session
    (scripts/k8s-test-cluster.sh, tests/support/nodes.py)."""
    from tests.support.nodes import add_default_nodes
    from videoanalysis.k8s import kube, names

    state = tmp_path_factory.mktemp("k8s")
    old = os.environ.get("KUBECONFIG")
    try:
        kubeconfig = start_cluster(state)
        os.environ["KUBECONFIG"] = str(kubeconfig)
        kube.reset_client()
        kubectl("apply", "-f", str(ROOT / "crds" / "videoanalysis.yaml"))
        kubectl("wait", "--for=condition=Established", "--timeout=30s", f"crd/{names.CRD_NAME}")
        add_default_nodes(kube.api_client())
        yield kubeconfig
    finally:
        stop_cluster(state)
        kube.reset_client()
        if old is None:
            os.environ.pop("KUBECONFIG", None)
        else:
            os.environ["KUBECONFIG"] = old


@pytest.fixture(scope="session")
def kube_api(k8s_cluster: Path) -> client.ApiClient:
    """A `kubernetes.client.ApiClient` of the test cluster."""
    from videoanalysis.k8s import kube

    return kube.api_client()


@pytest.fixture
def namespace(kube_api: client.ApiClient, db: str) -> Iterator[str]:
    """A fresh namespace the session's operator watches, with its default service account, the
    database Secret and a bound videos claim."""
    name = create_namespace(kube_api, NAMESPACE_PREFIX, db)
    yield name
    client.CoreV1Api(kube_api).delete_namespace(name)


@pytest.fixture
def unwatched_namespace(kube_api: client.ApiClient) -> Iterator[str]:
    """A fresh namespace the session's operator does not watch (not `va-t-*`), for resources
    meant for the API server alone: in a watched one, the operator would still find them while
    the namespace terminates and fail them, which other tests' counts would then include."""
    core = client.CoreV1Api(kube_api)
    name = f"va-api-{uuid.uuid4().hex[:8]}"
    assert not name.startswith(NAMESPACE_PREFIX)
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)
