"""`helm upgrade` updates the CRD, on the test control plane with the real helm binary.

The chart's CRD template is installed under a renamed group and kind (`upgrade-test.videoanalysis.io`)
in a chart of its own that holds only that template, the helpers and the values, so the session's
`videoanalyses.videoanalysis.io`, which every other test uses, is never touched. The previous
version of the chart shipped the CRD in `crds/` (installed once, never upgraded, with no Helm
ownership metadata), without `spec.tracker`; it stands in as a chart with that `crds/` folder."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.support.cluster import KUBECTL
from tests.support.helm import BIN, CHART
from tests.support.paths import ROOT

GROUP, VERSION, PLURAL, KIND = "upgrade-test.videoanalysis.io", "v1alpha1", "upgradetests", "UpgradeTest"
CRD_NAME = f"{PLURAL}.{GROUP}"
RELEASE = "crd-upgrade"
#: The lines of crds/videoanalysis.yaml (and of the template made from it) that name the CRD,
#: and their renamed form: a new group, and names that cannot shadow `va` or `videoanalyses`
#: for the other tests' kubectl while this test runs.
RENAMES = {
    "  name: videoanalyses.videoanalysis.io\n": f"  name: {CRD_NAME}\n",
    "  group: videoanalysis.io\n": f"  group: {GROUP}\n",
    "    kind: VideoAnalysis\n": f"    kind: {KIND}\n",
    "    plural: videoanalyses\n": f"    plural: {PLURAL}\n",
    "    singular: videoanalysis\n": "    singular: upgradetest\n",
    "    shortNames: [va]\n": "    shortNames: [vaupgradetest]\n",
    "    categories: [videoanalysis]\n": "    categories: [videoanalysis-upgrade-test]\n",
}
TASK_ID = str(uuid.UUID(int=7))
#: A resource as the previous CRD took it.
OLD_SPEC = {
    "taskId": TASK_ID,
    "videoUri": "videos://old.mp4",
    "model": "opencv-face",
    "scoreThreshold": 0.7,
    "frameStride": 5,
    "labels": ["face"],
    "gpus": 0,
}


def renamed(text: str) -> str:
    """The CRD text under the test's group and names; fails rather than leave one line that
    would make the test's helm release own the session's CRD."""
    for line, new in RENAMES.items():
        assert text.count(line) == 1, f"expected one {line!r} in the CRD"
        text = text.replace(line, new)
    assert "videoanalyses.videoanalysis.io" not in text
    return text


def previous_chart(root: Path) -> Path:
    """The previous chart's shape: the CRD in crds/, here without spec.tracker."""
    crd = yaml.safe_load(renamed((ROOT / "crds" / "videoanalysis.yaml").read_text()))
    del crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["tracker"]
    chart = root / "previous"
    (chart / "crds").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(yaml.safe_dump({"apiVersion": "v2", "name": "videoanalysis", "version": "0.0.9"}))
    (chart / "crds" / "videoanalysis.yaml").write_text(yaml.safe_dump(crd))
    return chart


def current_chart(root: Path) -> Path:
    """This chart with its CRD template only (renamed), its helpers, values and values schema."""
    chart = root / "current"
    (chart / "templates").mkdir(parents=True)
    for name in ("Chart.yaml", "values.yaml", "values.schema.json", "templates/_helpers.tpl"):
        shutil.copy(CHART / name, chart / name)
    template = (CHART / "templates" / "crd-videoanalysis.yaml").read_text()
    (chart / "templates" / "crd-videoanalysis.yaml").write_text(renamed(template))
    return chart


class Helm:
    """The venv's helm against the test cluster, in one release namespace, with its own homes."""

    def __init__(self, kubeconfig: Path, namespace: str, home: Path) -> None:
        self.kubeconfig, self.namespace, self.home = kubeconfig, namespace, home
        home.mkdir(parents=True, exist_ok=True)
        # HOME too: client-go keeps its discovery cache under it (else in the working directory).
        self.env = {f"HELM_{d}_HOME": str(home / d.lower()) for d in ("CACHE", "CONFIG", "DATA")}
        self.env |= {"HOME": str(home), "PATH": "/usr/bin:/bin"}

    def __call__(self, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(BIN / "helm"), *map(str, args), "--namespace", self.namespace, "--kubeconfig", str(self.kubeconfig)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=self.env, cwd=self.home, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"helm {' '.join(map(str, args))} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def kubectl(self, *args: str) -> None:
        """kubectl as the chart's README has users type it."""
        cmd = [str(KUBECTL), "--kubeconfig", str(self.kubeconfig), *args]
        subprocess.run(cmd, check=True, capture_output=True, env=self.env, cwd=self.home, timeout=60)


@pytest.fixture
def helm(k8s_cluster: Path, unwatched_namespace: str, kube_api: client.ApiClient, tmp_path: Path) -> Iterator[Helm]:
    """helm in a fresh namespace; the test CRD (which an uninstall with crds.keep leaves) and
    its resources are deleted afterwards."""
    yield Helm(k8s_cluster, unwatched_namespace, tmp_path / "helm")
    extensions = client.ApiextensionsV1Api(kube_api)
    try:
        extensions.delete_custom_resource_definition(CRD_NAME)
    except ApiException as e:
        if e.status != 404:
            raise
    eventually(lambda: crd(kube_api) is None)


def eventually(check: Callable[[], Any], seconds: float = 30) -> Any:
    """check()'s first truthy result; the API server takes a moment to serve a CRD's new schema."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            assert result, f"{check} still false after {seconds} s"
            return result
        time.sleep(0.2)


def crd(kube_api: client.ApiClient) -> dict[str, Any] | None:
    """The test CRD, None while absent."""
    try:
        found = client.ApiextensionsV1Api(kube_api).read_custom_resource_definition(CRD_NAME)
    except ApiException as e:
        if e.status == 404:
            return None
        raise
    return kube_api.sanitize_for_serialization(found)


def established(kube_api: client.ApiClient) -> bool:
    conditions = ((crd(kube_api) or {}).get("status") or {}).get("conditions") or []
    return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)


def create(kube_api: client.ApiClient, namespace: str, task_id: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Create a resource with strict field validation: an unknown field is an error, not pruned."""
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": KIND,
        "metadata": {"name": f"va-{task_id}"},
        "spec": {**spec, "taskId": task_id},
    }
    objects = client.CustomObjectsApi(kube_api)
    made = objects.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body, field_validation="Strict")
    return cast(dict[str, Any], made)


def read(kube_api: client.ApiClient, namespace: str, task_id: str) -> dict[str, Any]:
    objects = client.CustomObjectsApi(kube_api)
    return cast(
        dict[str, Any], objects.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, f"va-{task_id}")
    )


def accepts_tracker(kube_api: client.ApiClient, namespace: str) -> bool:
    """Whether the served schema knows spec.tracker (a strict server-side dry run)."""
    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": KIND, "metadata": {"name": "probe"}}
    body["spec"] = {"videoUri": "videos://probe.mp4", "tracker": "sort"}
    try:
        client.CustomObjectsApi(kube_api).create_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, body, dry_run="All", field_validation="Strict"
        )
    except ApiException as e:
        if e.status == 400 and 'unknown field "spec.tracker"' in json.loads(e.body or "{}").get("message", ""):
            return False
        raise
    return True


def adopt_with_kubectl(helm: Helm) -> tuple[str, ...]:
    """The adoption step of the chart's README for an install made with the CRD in crds/."""
    helm.kubectl("label", "crd", CRD_NAME, "app.kubernetes.io/managed-by=Helm", "--overwrite")
    helm.kubectl(
        "annotate",
        "crd",
        CRD_NAME,
        f"meta.helm.sh/release-name={RELEASE}",
        f"meta.helm.sh/release-namespace={helm.namespace}",
        "--overwrite",
    )
    return ()


def adopt_with_take_ownership(helm: Helm) -> tuple[str, ...]:
    """The other way the README gives (Helm 3.17 and newer): the upgrade takes the CRD over."""
    return ("--take-ownership",)


@pytest.mark.parametrize("adopt", [adopt_with_kubectl, adopt_with_take_ownership])
def test_upgrade_from_a_crds_folder_install_updates_the_crd_and_keeps_resources(
    helm: Helm, kube_api: client.ApiClient, tmp_path: Path, adopt: Callable[[Helm], tuple[str, ...]]
) -> None:
    namespace = helm.namespace
    helm("install", RELEASE, previous_chart(tmp_path))
    eventually(lambda: established(kube_api))
    create(kube_api, namespace, TASK_ID, OLD_SPEC)
    assert not accepts_tracker(kube_api, namespace)

    # The CRD from crds/ carries no Helm ownership: the upgrade stops before changing anything.
    chart = current_chart(tmp_path)
    refused = helm("upgrade", RELEASE, chart, check=False)
    assert refused.returncode != 0
    assert f'CustomResourceDefinition "{CRD_NAME}" in namespace "" exists and cannot be imported' in refused.stderr
    assert "invalid ownership metadata" in refused.stderr
    assert f'missing key "meta.helm.sh/release-name": must be set to "{RELEASE}"' in refused.stderr
    assert 'missing key "app.kubernetes.io/managed-by": must be set to "Helm"' in refused.stderr
    assert not accepts_tracker(kube_api, namespace) and "annotations" not in (crd(kube_api) or {})["metadata"]

    helm("upgrade", RELEASE, chart, *adopt(helm))
    metadata = (crd(kube_api) or {})["metadata"]
    assert metadata["annotations"]["helm.sh/resource-policy"] == "keep"
    assert metadata["annotations"]["meta.helm.sh/release-name"] == RELEASE
    assert metadata["labels"]["app.kubernetes.io/managed-by"] == "Helm"

    # A new field is accepted, and the resource made under the previous CRD keeps every field
    # (the new field's default is applied when it is read).
    eventually(lambda: accepts_tracker(kube_api, namespace))
    new_task = str(uuid.UUID(int=8))
    assert create(kube_api, namespace, new_task, {"videoUri": "videos://new.mp4", "tracker": "bytetrack"})
    assert read(kube_api, namespace, new_task)["spec"]["tracker"] == "bytetrack"
    assert read(kube_api, namespace, TASK_ID)["spec"] == {**OLD_SPEC, "tracker": "ocsort", "shards": 1}

    # crds.keep (the default): uninstalling leaves the CRD and so every resource.
    uninstall = helm("uninstall", RELEASE)
    assert CRD_NAME in uninstall.stdout and "kept due to the resource policy" in uninstall.stdout
    assert established(kube_api)
    assert read(kube_api, namespace, TASK_ID)["spec"]["videoUri"] == OLD_SPEC["videoUri"]


def test_without_keep_an_uninstall_deletes_the_crd(helm: Helm, kube_api: client.ApiClient, tmp_path: Path) -> None:
    """What the keep annotation prevents: the CRD, and with it every resource, goes."""
    helm("install", RELEASE, current_chart(tmp_path), "--set", "crds.keep=false")
    eventually(lambda: established(kube_api))
    assert "helm.sh/resource-policy" not in ((crd(kube_api) or {})["metadata"].get("annotations") or {})
    helm("uninstall", RELEASE)
    eventually(lambda: crd(kube_api) is None)
