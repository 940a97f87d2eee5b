"""The chart's pre-delete hook (`python -m va_operator.uninstall`) on the test control plane.

The hook's ServiceAccount, Role and RoleBinding are rendered by helm for the test's namespace and
applied; the module then runs as the hook's container does, a process of its own, here with a
kubeconfig holding a token of that ServiceAccount, so the chart's rules are what it may do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support.chart import apply, documents, render_template
from tests.support.operator_process import OperatorProcess
from tests.support.paths import ROOT
from tests.support.resources import get_va, jobs, phase_is, submit
from tests.support.tasks import task_status
from tests.support.waits import wait_for
from va_operator.uninstall import holds_up_deletion
from videoanalysis.k8s import names
from videoanalysis.task_status import TaskStatus

HOOK_ACCOUNT = "va-videoanalysis-uninstall"


def run_hook(kubeconfig: Path, namespace: str, timeout_s: float) -> subprocess.CompletedProcess[str]:
    """The hook container's command, as the chart renders it."""
    command = [sys.executable, "-m", "va_operator.uninstall", f"--namespace={namespace}"]
    return subprocess.run(
        [*command, f"--timeout-seconds={timeout_s:g}"],
        cwd=ROOT,
        env={"KUBECONFIG": str(kubeconfig), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=timeout_s + 60,
    )


def hook_kubeconfig(kube_api: client.ApiClient, k8s_cluster: Path, namespace: str, workdir: Path) -> Path:
    """The chart's hook RBAC applied in `namespace`, and a kubeconfig with a token of its
    ServiceAccount (the cluster's own CA and server)."""
    rendered = render_template("uninstall-hook.yaml", namespace, {}, workdir)
    apply(documents(rendered, "ServiceAccount", "Role", "RoleBinding"), namespace)
    request = {"spec": {"expirationSeconds": 600}}
    token = client.CoreV1Api(kube_api).create_namespaced_service_account_token(HOOK_ACCOUNT, namespace, request)
    config = yaml.safe_load(k8s_cluster.read_text())
    config["users"] = [{"name": "uninstall-hook", "user": {"token": token.status.token}}]
    config["contexts"][0]["context"]["user"] = "uninstall-hook"
    path = workdir / "hook-kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path


def create_va(kube_api: client.ApiClient, namespace: str, name: str, **metadata: Any) -> None:
    """A resource applied by hand (not run by any operator here)."""
    body = {
        "apiVersion": names.API_VERSION,
        "kind": names.KIND,
        "metadata": {"name": name, **metadata},
        "spec": {"videoUri": "videos://street.mp4", "owner": "nobody@example.com"},
    }
    client.CustomObjectsApi(kube_api).create_namespaced_custom_object(
        names.GROUP, names.VERSION, namespace, names.PLURAL, body
    )


def names_in(kube_api: client.ApiClient, namespace: str) -> set[str]:
    listed = client.CustomObjectsApi(kube_api).list_namespaced_custom_object(
        names.GROUP, names.VERSION, namespace, names.PLURAL
    )
    return {item["metadata"]["name"] for item in listed["items"]}


def test_only_an_unfinished_resource_or_one_still_finalized_holds_up_a_deletion() -> None:
    finalized = {"metadata": {"finalizers": ["example.test/other", names.FINALIZER]}}
    assert holds_up_deletion({})
    assert holds_up_deletion({"status": {"phase": "Running"}})
    assert holds_up_deletion({**finalized, "status": {"phase": "Succeeded"}})
    assert not holds_up_deletion({"status": {"phase": "Succeeded"}})
    assert not holds_up_deletion({"metadata": {"finalizers": ["example.test/other"]}, "status": {"phase": "Failed"}})


def test_the_finalizer_is_the_one_the_operator_sets() -> None:
    import kopf

    from va_operator.config import OperatorSettings, apply_kopf_settings

    settings = kopf.OperatorSettings()
    apply_kopf_settings(settings, OperatorSettings())
    assert settings.persistence.finalizer == names.FINALIZER


@pytest.mark.kubernetes
async def test_the_hook_cancels_the_running_analyses_while_the_operator_runs(
    operator: OperatorProcess,
    namespace: str,
    kube_api: client.ApiClient,
    k8s_cluster: Path,
    make_task: Any,
    tmp_path: Path,
) -> None:
    tasks = [await make_task(), await make_task()]
    running = [await submit(task, namespace) for task in tasks]
    for name in running:
        va = await wait_for(phase_is(kube_api, namespace, name, "Pending"), what=f"{name} Pending")
        assert names.FINALIZER in va["metadata"]["finalizers"]
    # One that ended (an owner the API does not know): no finalizer, so it stays.
    create_va(kube_api, namespace, "finished")
    await wait_for(phase_is(kube_api, namespace, "finished", "Failed"), what="finished Failed")
    await wait_for(lambda: not get_va(kube_api, namespace, "finished")["metadata"].get("finalizers"))

    proc = run_hook(hook_kubeconfig(kube_api, k8s_cluster, namespace, tmp_path), namespace, 60)

    assert proc.returncode == 0, proc.stderr
    assert f"{namespace}: unfinished analyses deleted: 2, finalizers forced: 0" in proc.stdout
    assert names_in(kube_api, namespace) == {"finished"}
    assert [await task_status(task) for task in tasks] == [TaskStatus.CANCELLED, TaskStatus.CANCELLED]
    await wait_for(lambda: not jobs(kube_api, namespace), timeout=60, what="the Jobs garbage-collected")


@pytest.mark.kubernetes
def test_past_its_timeout_the_hook_removes_the_operators_finalizer_and_no_other(
    unwatched_namespace: str, kube_api: client.ApiClient, k8s_cluster: Path, tmp_path: Path
) -> None:
    """No operator answers here: the hook deletes the unfinished resource, waits, then takes
    the operator's finalizer off, leaving someone else's and a finished resource alone."""
    ns = unwatched_namespace
    create_va(kube_api, ns, "stuck", finalizers=[names.FINALIZER, "example.test/other"])
    create_va(kube_api, ns, "done")
    client.CustomObjectsApi(kube_api).patch_namespaced_custom_object_status(
        names.GROUP, names.VERSION, ns, names.PLURAL, "done", {"status": {"phase": "Succeeded"}}
    )

    proc = run_hook(hook_kubeconfig(kube_api, k8s_cluster, ns, tmp_path), ns, 2)

    assert proc.returncode == 0, proc.stderr
    assert f"warning: {ns}/stuck: the operator did not let it go within 2 s" in proc.stderr
    assert f"{ns}: unfinished analyses deleted: 1, finalizers forced: 1" in proc.stdout
    stuck = get_va(kube_api, ns, "stuck")
    assert stuck["metadata"]["deletionTimestamp"] and stuck["metadata"]["finalizers"] == ["example.test/other"]
    assert get_va(kube_api, ns, "done")["status"]["phase"] == "Succeeded"
    client.CustomObjectsApi(kube_api).patch_namespaced_custom_object(
        names.GROUP, names.VERSION, ns, names.PLURAL, "stuck", {"metadata": {"finalizers": None}}
    )
    with pytest.raises(ApiException) as gone:
        get_va(kube_api, ns, "stuck")
    assert gone.value.status == 404
