"""Which task a resource runs, against a real API server and the session's operator:
`spec.taskId` binds only to the task the API made for that very resource, so a manifest naming
another user's task id (ids are public: the API's resources are `va-<id>`) fails and neither
moves, mirrors nor cancels that task; an API-made resource carries no URL secret; the
operator's retention leaves the API's tasks to the API; a manifest cannot name another user's
upload."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from kubernetes import client

from api.dispatchers.kubernetes import KubernetesDispatcher
from tests.support.operator_process import OperatorProcess
from tests.support.resources import get_va, jobs, phase_is
from tests.support.waits import wait_for
from va_operator import retention
from va_operator.config import OperatorSettings
from videoanalysis.clock import local_now
from videoanalysis.k8s import names
from videoanalysis.tables import Task, TaskOrigin, User
from videoanalysis.task_status import TaskStatus

pytestmark = pytest.mark.kubernetes

#: Where the API made its resources (not a namespace of these tests).
API_NAMESPACE = "videoanalysis"


def claim(api: client.ApiClient, ns: str, task: Task) -> str:
    """Apply a manifest that names `task` in spec.taskId, under the name the CRD demands."""
    name = names.resource_name(str(task.id))
    body = {
        "apiVersion": names.API_VERSION,
        "kind": names.KIND,
        "metadata": {"name": name, "namespace": ns},
        "spec": {"taskId": str(task.id), "videoUri": "videos://mine.mp4"},
    }
    client.CustomObjectsApi(api).create_namespaced_custom_object(names.GROUP, names.VERSION, ns, names.PLURAL, body)
    return name


def delete_va(api: client.ApiClient, ns: str, name: str) -> None:
    client.CustomObjectsApi(api).delete_namespaced_custom_object(names.GROUP, names.VERSION, ns, names.PLURAL, name)


def gone(api: client.ApiClient, ns: str, name: str) -> bool:
    listed: Any = client.CustomObjectsApi(api).list_namespaced_custom_object(
        names.GROUP, names.VERSION, ns, names.PLURAL
    )
    return name not in [item["metadata"]["name"] for item in listed["items"]]


async def refused(api: client.ApiClient, ns: str, name: str) -> dict[str, Any]:
    """The resource once Failed: InvalidSpec, no task bound, no Job made."""
    va = await wait_for(phase_is(api, ns, name, "Failed"), what="Failed")
    status = va["status"]
    assert status["reason"] == "InvalidSpec" and "spec.taskId is set by the API only" in status["message"]
    assert "taskId" not in status and jobs(api, ns) == []
    return status


async def test_a_manifest_naming_another_users_task_fails_and_deleting_it_leaves_that_task_pending(
    operator: OperatorProcess, namespace: str, kube_api: client.ApiClient, make_task: Any
) -> None:
    victim = await make_task(namespace=API_NAMESPACE)
    name = claim(kube_api, namespace, victim)
    await refused(kube_api, namespace, name)
    delete_va(kube_api, namespace, name)
    await wait_for(lambda: gone(kube_api, namespace, name), what="the resource gone")
    await victim.refresh_from_db()
    assert victim.status == TaskStatus.PENDING and victim.error is None  # not cancelled, not failed
    assert victim.lease_attempt == 0 and victim.lease_holder is None  # no run leased it


async def test_a_manifest_naming_a_running_task_mirrors_none_of_its_progress(
    operator: OperatorProcess, namespace: str, kube_api: client.ApiClient, make_task: Any
) -> None:
    victim = await make_task(namespace=API_NAMESPACE)
    running = {"status": TaskStatus.RUNNING, "frames_total": 10, "frames_done": 4, "detections": {"face": 3}}
    await Task.filter(id=victim.id).update(**running)
    name = claim(kube_api, namespace, victim)
    status = await refused(kube_api, namespace, name)
    assert not {"progress", "framesDone", "framesTotal", "summary", "model"} & set(status)
    delete_va(kube_api, namespace, name)
    await wait_for(lambda: gone(kube_api, namespace, name), what="the resource gone")
    await victim.refresh_from_db()
    assert (victim.status, victim.frames_done, victim.error) == (TaskStatus.RUNNING, 4, None)


async def test_an_api_resource_shows_a_presigned_url_without_its_signature(
    unwatched_namespace: str, kube_api: client.ApiClient, make_task: Any
) -> None:
    """Through the API's dispatcher: the row records the resource before it is made (what the
    operator binds by), and the resource's spec holds the URL without its query."""
    task = await make_task()
    url = "https://bucket.s3.example.com/clips/a.mp4?X-Amz-Credential=AKIA&X-Amz-Signature=0123abcd"
    await Task.filter(id=task.id).update(video_uri=url)
    await task.refresh_from_db()
    dispatcher = KubernetesDispatcher(OperatorSettings(kube_namespace=unwatched_namespace))
    try:
        await dispatcher.submit(task)
    finally:
        await dispatcher.close()
    name = names.resource_name(str(task.id))
    spec = get_va(kube_api, unwatched_namespace, name)["spec"]
    assert spec["videoUri"] == "https://bucket.s3.example.com/clips/a.mp4" and "X-Amz" not in str(spec)
    await task.refresh_from_db()
    assert (task.origin, task.resource_namespace, task.resource_name) == (TaskOrigin.API, unwatched_namespace, name)
    assert task.video_uri == url  # the job reads the whole URL from the row


async def test_operator_retention_leaves_the_api_tasks_that_name_their_resource(
    kube_api: client.ApiClient, make_task: Any
) -> None:
    """The API records its resource in the row too: the operator's sweep goes by origin and
    erases only the tasks of manifests."""
    made = await make_task(namespace=API_NAMESPACE)
    applied = await make_task(namespace=API_NAMESPACE)
    await Task.filter(id=applied.id).update(origin=TaskOrigin.MANIFEST, resource_name="by-hand")
    ended = local_now() - timedelta(days=8)
    await Task.filter(id__in=[made.id, applied.id]).update(status=TaskStatus.SUCCEEDED, finished_at=ended)
    try:
        assert await retention.expire_applied(OperatorSettings(retention_days=7)) >= 1
        assert await Task.exists(id=made.id) and not await Task.exists(id=applied.id)
    finally:  # the session database is shared: the API's sweep in other tests must not see it
        await Task.filter(id=made.id).delete()


async def test_a_manifest_naming_another_users_upload_fails_and_its_video_stays(
    operator: OperatorProcess, namespace: str, kube_api: client.ApiClient, make_task: Any
) -> None:
    """An upload's key is visible in the API's resources; a manifest naming it (with its own
    account as owner) is refused before any task is made, so the upload is neither served nor
    erased through that task."""
    victim = await make_task(namespace=API_NAMESPACE)
    key = f"{uuid.uuid4().hex}.mp4"  # what the API's upload names a stored video
    attacker = await User.create(email=f"att-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    body = {
        "apiVersion": names.API_VERSION,
        "kind": names.KIND,
        "metadata": {"name": "borrowed", "namespace": namespace},
        "spec": {"owner": attacker.email, "videoUri": f"videos://{key}"},
    }
    client.CustomObjectsApi(kube_api).create_namespaced_custom_object(
        names.GROUP, names.VERSION, namespace, names.PLURAL, body
    )
    va = await wait_for(phase_is(kube_api, namespace, "borrowed", "Failed"), what="Failed")
    assert va["status"]["reason"] == "InvalidSpec" and "names a video the API stored" in va["status"]["message"]
    assert jobs(kube_api, namespace) == []
    assert not await Task.filter(owner=attacker).exists()  # no task of the attacker's to read or erase it
    await victim.refresh_from_db()
    assert victim.status == TaskStatus.PENDING
