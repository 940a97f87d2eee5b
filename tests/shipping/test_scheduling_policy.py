"""Who may steer the GPUs: the chart's ValidatingAdmissionPolicy on the test control plane.

The policy and its binding are rendered by helm for the test's namespace (the release namespace)
with an admin user, an admin group and an admin ServiceAccount, applied, and removed at the end
(they are cluster-scoped and the cluster is shared). Every identity is the admin client
impersonating someone: `bob` of the group `analysts`, which a Role lets create and edit
VideoAnalyses in the namespace, is no admin."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.support.chart import apply, delete, render_template
from tests.support.operator_process import OperatorProcess
from tests.support.resources import get_va, jobs, phase_is
from tests.support.tasks import task_status
from tests.support.waits import wait_for
from videoanalysis.k8s import kube, names
from videoanalysis.k8s.resource import build_videoanalysis
from videoanalysis.task_status import TaskStatus

pytestmark = pytest.mark.kubernetes

ADMIN_USER, ADMIN_GROUP, ADMIN_ACCOUNT = "gpu-admin", "gpu-admins", "ci"
ANALYSTS = "analysts"
MAX_GPUS = 1
SCHEDULING = {
    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    "nodeSelector": {"nvidia.com/gpu.present": "true"},
    "resources": {"limits": {"cpu": "2", "memory": "4Gi"}},
    "gpus": 2,
}


def acting_as(kube_api: client.ApiClient, user: str, group: str | None = None) -> client.CustomObjectsApi:
    """The admin's connection, impersonating `user` (in `group`)."""
    api = client.ApiClient(kube_api.configuration)
    api.set_default_header("Impersonate-User", user)
    if group:
        api.set_default_header("Impersonate-Group", group)
    return client.CustomObjectsApi(api)


def resource(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": names.API_VERSION,
        "kind": names.KIND,
        "metadata": {"name": name},
        "spec": {"videoUri": "videos://street.mp4", **spec},
    }


def create(api: client.CustomObjectsApi, ns: str, body: dict[str, Any], dry_run: bool = True) -> dict[str, Any]:
    extra = {"dry_run": "All"} if dry_run else {}
    created: dict[str, Any] = api.create_namespaced_custom_object(
        names.GROUP, names.VERSION, ns, names.PLURAL, body, **extra
    )
    return created


def patch(api: client.CustomObjectsApi, ns: str, name: str, body: dict[str, Any]) -> None:
    api.patch_namespaced_custom_object(names.GROUP, names.VERSION, ns, names.PLURAL, name, body, dry_run="All")


def refusal(call: Any) -> str:
    """The API server's message of a refused request (403), or fails."""
    with pytest.raises(ApiException) as refused:
        call()
    assert refused.value.status == 403, refused.value.body
    return kube.server_message(refused.value)


def grant_editing(kube_api: client.ApiClient, ns: str) -> None:
    """The analysts, the admins and the admin ServiceAccount may create and edit VideoAnalyses."""
    rbac = client.RbacAuthorizationV1Api(kube_api)
    rule = {"apiGroups": [names.GROUP], "resources": [names.PLURAL], "verbs": ["create", "get", "update", "patch"]}
    rbac.create_namespaced_role(ns, {"metadata": {"name": "edit-analyses"}, "rules": [rule]})
    subjects = [
        {"kind": "Group", "name": ANALYSTS, "apiGroup": "rbac.authorization.k8s.io"},
        {"kind": "Group", "name": ADMIN_GROUP, "apiGroup": "rbac.authorization.k8s.io"},
        {"kind": "User", "name": ADMIN_USER, "apiGroup": "rbac.authorization.k8s.io"},
        {"kind": "ServiceAccount", "name": ADMIN_ACCOUNT, "namespace": ns},
    ]
    role_ref = {"kind": "Role", "name": "edit-analyses", "apiGroup": "rbac.authorization.k8s.io"}
    rbac.create_namespaced_role_binding(
        ns, {"metadata": {"name": "edit-analyses"}, "roleRef": role_ref, "subjects": subjects}
    )


def wait_until_in_force(bob: client.CustomObjectsApi, ns: str, timeout: float = 30) -> None:
    """A new policy reaches the API server's admission a moment after it was stored: until
    then the non-admin's dry run of too many GPUs passes."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            create(bob, ns, resource("probe", gpus=MAX_GPUS + 1))
        except ApiException as exc:
            if exc.status == 403:
                return
            raise
        assert time.monotonic() < deadline, "the scheduling policy was not in force after 30 s"
        time.sleep(0.3)


@pytest.fixture
def bob(kube_api: client.ApiClient) -> client.CustomObjectsApi:
    return acting_as(kube_api, "bob", ANALYSTS)


@contextmanager
def policy_in_force(kube_api: client.ApiClient, ns: str, values: dict[str, Any], workdir: Path) -> Iterator[str]:
    """The chart's policy and binding rendered with `values` for `ns`, in force (the policy's
    name is yielded); both are removed at the end: they are cluster-scoped."""
    text = render_template("scheduling-policy.yaml", ns, values, workdir)
    apply(text, ns)
    try:
        wait_until_in_force(acting_as(kube_api, "bob", ANALYSTS), ns)
        yield f"va-videoanalysis-scheduling.{ns}"
    finally:
        delete(text, ns)


@pytest.fixture
def scheduling_policy(namespace: str, kube_api: client.ApiClient, tmp_path: Path) -> Iterator[str]:
    """The policy in `namespace`, naming an admin user, group and ServiceAccount."""
    grant_editing(kube_api, namespace)
    admins = {"users": [ADMIN_USER], "groups": [ADMIN_GROUP], "serviceAccounts": [{"name": ADMIN_ACCOUNT}]}
    with policy_in_force(
        kube_api, namespace, {"schedulingPolicy": {"admins": admins, "maxGpus": MAX_GPUS}}, tmp_path
    ) as policy:
        yield policy


def test_with_the_default_values_nobody_may_steer(
    unwatched_namespace: str, kube_api: client.ApiClient, tmp_path: Path
) -> None:
    """The chart's defaults name no admin: the job.* values are then the only scheduling."""
    grant_editing(kube_api, unwatched_namespace)
    with policy_in_force(kube_api, unwatched_namespace, {}, tmp_path):
        admin = acting_as(kube_api, ADMIN_USER)
        message = refusal(lambda: create(admin, unwatched_namespace, resource("mine", gpus=2)))
        assert "only by nobody (schedulingPolicy.admins names no one), not by gpu-admin" in message
        assert create(admin, unwatched_namespace, resource("mine", gpus=1))["spec"]["gpus"] == 1


@pytest.mark.parametrize("field", sorted(SCHEDULING))
def test_a_non_admin_is_refused_each_scheduling_field_with_its_name_and_who_may(
    scheduling_policy: str, namespace: str, bob: client.CustomObjectsApi, field: str
) -> None:
    message = refusal(lambda: create(bob, namespace, resource("mine", **{field: SCHEDULING[field]})))
    assert f"spec.{field}" in message and "not by bob" in message
    assert f"users {ADMIN_USER}; members of {ADMIN_GROUP}; service accounts {namespace}/{ADMIN_ACCOUNT}" in message
    if field == "gpus":
        assert f"spec.gpus=2 is more than {MAX_GPUS}" in message
    else:
        assert "the Job gets the cluster defaults" in message


async def test_a_non_admin_gets_the_defaults_and_up_to_max_gpus(
    scheduling_policy: str, namespace: str, bob: client.CustomObjectsApi, make_task: Any
) -> None:
    for spec in ({}, {"gpus": 0}, {"gpus": MAX_GPUS}, {"tolerations": [], "nodeSelector": {}, "resources": {}}):
        assert create(bob, namespace, resource("mine", **spec))["spec"]["videoUri"] == "videos://street.mp4"
    # What the API's dispatcher sends passes too: its identity needs no exemption.
    task = await make_task()
    assert create(bob, namespace, build_videoanalysis(task, namespace))["spec"]["taskId"] == str(task.id)


@pytest.mark.parametrize(
    ("user", "group"),
    [(ADMIN_USER, None), ("carol", ADMIN_GROUP), (f"system:serviceaccount:{{ns}}:{ADMIN_ACCOUNT}", None)],
)
def test_an_admin_named_by_user_group_or_service_account_may_set_them_all(
    scheduling_policy: str, namespace: str, kube_api: client.ApiClient, user: str, group: str | None
) -> None:
    admin = acting_as(kube_api, user.format(ns=namespace), group)
    created = create(admin, namespace, resource("steered", **{**SCHEDULING, "gpus": 8}))
    assert created["spec"]["gpus"] == 8 and created["spec"]["nodeSelector"] == SCHEDULING["nodeSelector"]


def test_a_non_admin_may_edit_an_admins_resource_but_not_its_scheduling(
    scheduling_policy: str, namespace: str, kube_api: client.ApiClient, bob: client.CustomObjectsApi
) -> None:
    admin = acting_as(kube_api, ADMIN_USER)
    create(admin, namespace, resource("steered", **SCHEDULING), dry_run=False)
    patch(bob, namespace, "steered", {"metadata": {"labels": {"team": "street"}}})
    patch(bob, namespace, "steered", {"spec": {"frameStride": 5}})
    message = refusal(lambda: patch(bob, namespace, "steered", {"spec": {"gpus": 3}}))
    assert "spec.gpus=3 is more than 1" in message
    toleration = {"key": "dedicated", "operator": "Exists"}
    message = refusal(lambda: patch(bob, namespace, "steered", {"spec": {"tolerations": [toleration]}}))
    assert "spec.tolerations may be set only by" in message
    # Dropping a field leaves the cluster's defaults, which anyone may have.
    patch(bob, namespace, "steered", {"spec": {"nodeSelector": None}})
    patch(admin, namespace, "steered", {"spec": {"gpus": 3}})


async def test_the_operator_runs_an_admins_resource_under_the_policy(
    operator: OperatorProcess,
    scheduling_policy: str,
    namespace: str,
    kube_api: client.ApiClient,
    make_task: Any,
) -> None:
    """The operator is named nowhere in the policy: its finalizer and annotation patches leave
    the spec as it was, and its status writes go to the status subresource, which the policy
    does not match. So it takes an admin's resource through to the end of a deletion."""
    task = await make_task()
    body = build_videoanalysis(task, namespace)
    body["spec"].update(SCHEDULING)
    create(acting_as(kube_api, ADMIN_USER), namespace, body, dry_run=False)
    name = body["metadata"]["name"]
    va = await wait_for(phase_is(kube_api, namespace, name, "Pending"), what="Pending")
    assert names.FINALIZER in va["metadata"]["finalizers"]
    [job] = await wait_for(lambda: jobs(kube_api, namespace), what="the Job")
    pod = job.spec.template.spec
    assert pod.containers[0].resources.limits == {"cpu": "2", "memory": "4Gi", "nvidia.com/gpu": "2"}
    assert pod.node_selector == SCHEDULING["nodeSelector"]
    client.CustomObjectsApi(kube_api).delete_namespaced_custom_object(
        names.GROUP, names.VERSION, namespace, names.PLURAL, name
    )
    await wait_for(lambda: not _exists(kube_api, namespace, name), what="the resource gone")
    assert await task_status(task) is TaskStatus.CANCELLED


def _exists(kube_api: client.ApiClient, ns: str, name: str) -> bool:
    try:
        get_va(kube_api, ns, name)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True
