"""The rendered chart applied with server-side dry-run to the real test API server (the pinned
release): the API server's own validation and defaulting, not a schema copy. CRD first (the fixture
installs it), then every manifest of each values file, then a sample VideoAnalysis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from tests.support.cluster import kubectl
from tests.support.helm import VALUES, Manifest, helm_template

pytestmark = pytest.mark.kubernetes

SAMPLE_TASK = str(uuid.uuid4())
SAMPLE = {
    "apiVersion": "videoanalysis.io/v1alpha1",
    "kind": "VideoAnalysis",
    "metadata": {"name": f"va-{SAMPLE_TASK}"},  # a taskId names its resource (the CRD's rule)
    "spec": {
        "taskId": SAMPLE_TASK,
        "videoUri": "videos://demo.mp4",
        "gpus": 1,
        "nodeSelector": {"nvidia.com/gpu.present": "true"},
    },
}


@pytest.fixture
def ship_namespace(k8s_cluster: Path, kube_api: client.ApiClient) -> Iterator[str]:
    """A fresh namespace (dry-run cannot create the namespace its objects live in)."""
    core = client.CoreV1Api(kube_api)
    name = f"va-ship-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


def _dry_run(namespace: str, text: str) -> str:
    proc = kubectl(
        "apply",
        "--server-side",
        "--dry-run=server",
        "--field-manager=helm",
        "-n",
        namespace,
        "-f",
        "-",
        input=text,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("values", sorted(VALUES))
def test_rendered_chart_passes_server_side_dry_run(
    ship_namespace: str, kube_api: client.ApiClient, renders: dict[str, list[Manifest]], values: str
) -> None:
    docs = renders[values]
    text = yaml.safe_dump_all(
        [
            {**d, "metadata": {**d["metadata"], "namespace": ship_namespace}}
            if d["kind"] != "CustomResourceDefinition"
            else d
            for d in docs
        ]
    )
    out = _dry_run(ship_namespace, text)
    assert out.count("(server dry run)") == len(docs)
    # A dry run persists nothing.
    apps = client.AppsV1Api(kube_api)
    assert not apps.list_namespaced_deployment(ship_namespace).items


def test_job_egress_with_ipv6_ranges_allowed_networks_and_http_passes_dry_run(ship_namespace: str) -> None:
    """Every shape the Jobs' video-URL rule takes: `except` within 0.0.0.0/0 and ::/0, the CIDRs
    and bare addresses of videoUrls.allowedNetworks, port 80."""
    proc = helm_template(
        "--set-json",
        'networkPolicy.clusterCidrs=["10.96.0.0/12","10.244.0.0/16","fd00:10:96::/112","fd00:10:244::/56"]',
        "--set",
        "videoUrls.allowedNetworks=10.1.2.0/24\\,minio.storage.svc\\,192.168.5.7\\,fd12::5",
        "--set",
        "videoUrls.allowHttp=true",
        "--show-only",
        "templates/networkpolicy.yaml",
    )
    assert _dry_run(ship_namespace, proc.stdout).count("(server dry run)") == 2  # the database's and the Jobs'


def test_sample_videoanalysis_is_accepted_and_defaulted(ship_namespace: str) -> None:
    proc = kubectl(
        "apply",
        "--server-side",
        "--dry-run=server",
        "-n",
        ship_namespace,
        "-o",
        "yaml",
        "-f",
        "-",
        input=yaml.safe_dump(SAMPLE),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    spec = yaml.safe_load(proc.stdout)["spec"]
    # No static model default: the operator applies VA_DEFAULT_MODEL (the parameter contract).
    assert "model" not in spec and spec["frameStride"] == 1 and spec["scoreThreshold"] == 0.5


def test_api_server_refuses_a_videoanalysis_out_of_bounds(ship_namespace: str) -> None:
    bad = {**SAMPLE, "spec": {**SAMPLE["spec"], "gpus": 99}}
    proc = kubectl(
        "apply",
        "--server-side",
        "--dry-run=server",
        "-n",
        ship_namespace,
        "-f",
        "-",
        input=yaml.safe_dump(bad),
        check=False,
    )
    assert proc.returncode != 0 and "spec.gpus" in proc.stderr
