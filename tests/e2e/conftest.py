"""The cluster the end-to-end test is given: simulated (the test API server, the default) or
real (`VA_E2E_API_URL` and `KUBECONFIG` set, as scripts/e2e-kind.sh does). See drivers.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from kubernetes import client

from tests.e2e.drivers import (
    NAMESPACE_PREFIX,
    RETENTION_DAYS,
    ClusterDriver,
    RealCluster,
    SimulatedCluster,
    real_cluster_url,
)
from tests.support.cluster import create_namespace
from tests.support.https_videos import make_test_ca
from tests.support.operator_process import OperatorProcess, running_operator

HERE = Path(__file__).parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "kind: runs on a full cluster too (scripts/e2e-kind.sh: pytest -m kind)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a real cluster only the `kind` tests of this folder apply: deselect the others here."""
    if not real_cluster_url():
        return
    mine = [i for i in items if HERE in Path(str(i.path)).parents and i.get_closest_marker("kind") is None]
    if mine:
        config.hook.pytest_deselected(items=mine)
        items[:] = [i for i in items if i not in mine]


@pytest.fixture(scope="session")
def e2e_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    """The test CA of this folder's HTTPS video servers, trusted by the operator's Jobs."""
    return make_test_ca(tmp_path_factory.mktemp("e2e-ca"))


@pytest.fixture(scope="session")
def e2e_operator(
    db: str, k8s_cluster: Path, tmp_path_factory: pytest.TempPathFactory, e2e_ca: tuple[trustme.CA, Path]
) -> Iterator[OperatorProcess]:
    """A real operator process watching this folder's namespaces, on the session database; its
    Jobs may fetch video URLs from loopback (the tests' HTTPS server) and trust the test CA;
    its retention sweeps every second."""
    log = tmp_path_factory.mktemp("e2e-operator") / "operator.log"
    env = {
        "VA_VIDEO_URL_ALLOWED_NETWORKS": "127.0.0.1",
        "VA_CA_BUNDLE": str(e2e_ca[1]),
        "VA_RETENTION_DAYS": str(RETENTION_DAYS),  # tests backdate the tasks they want expired
        "VA_RETENTION_INTERVAL_S": "1",
    }
    with running_operator(db, f"{NAMESPACE_PREFIX}*", log, **env) as proc:
        yield proc


@pytest.fixture
def e2e_namespace(kube_api: client.ApiClient, db: str) -> Iterator[str]:
    name = create_namespace(kube_api, NAMESPACE_PREFIX, db)
    yield name
    client.CoreV1Api(kube_api).delete_namespace(name)


@pytest.fixture
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> ClusterDriver:
    """The driver of the cluster this run was given; the simulated one starts only what it needs."""
    if real_cluster_url():
        return RealCluster.from_env()
    request.getfixturevalue("e2e_operator")
    open_api_client: Any = request.getfixturevalue("open_api_client")
    return SimulatedCluster(
        kube=request.getfixturevalue("kube_api"),
        namespace=request.getfixturevalue("e2e_namespace"),
        open_api_client=open_api_client,
        work_dir=tmp_path,
    )
