"""VideoAnalysis resources and their Jobs on the test cluster: made as the API or a person
makes them, and read back; plus resource and Job bodies for the pure builder tests."""

from __future__ import annotations

from typing import Any

import yaml
from kubernetes import client

from api.dispatchers.kubernetes import KubernetesDispatcher
from tests.support.waits import wait_for
from va_operator.config import OperatorSettings
from videoanalysis.k8s import names
from videoanalysis.k8s.resource import build_videoanalysis
from videoanalysis.tables import Task

#: The task id of the bodies below.
TASK_ID = "123e4567-e89b-12d3-a456-426614174000"


# --- writes -----------------------------------------------------------------------------------


async def submit(task: Task, ns: str) -> str:
    """Create the task's resource the way the API does (the kubernetes dispatcher)."""
    dispatcher = KubernetesDispatcher(OperatorSettings(kube_namespace=ns))
    try:
        await dispatcher.submit(task)
    finally:
        await dispatcher.close()
    return names.resource_name(str(task.id))


def create_va(api: client.ApiClient, task: Task, ns: str, **spec: Any) -> str:
    """Create the task's resource with extra spec fields (what a person could kubectl apply)."""
    body = build_videoanalysis(task, ns)
    body["spec"].update(spec)
    client.CustomObjectsApi(api).create_namespaced_custom_object(names.GROUP, names.VERSION, ns, names.PLURAL, body)
    return body["metadata"]["name"]


def manifest(namespace: str, name: str, **spec: Any) -> str:
    """What a person keeps in Git and applies."""
    return yaml.safe_dump(
        {
            "apiVersion": "videoanalysis.io/v1alpha1",
            "kind": "VideoAnalysis",
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        }
    )


# --- reads ------------------------------------------------------------------------------------


def get_va(api: client.ApiClient, ns: str, name: str) -> dict[str, Any]:
    return client.CustomObjectsApi(api).get_namespaced_custom_object(names.GROUP, names.VERSION, ns, names.PLURAL, name)


def phase_is(api: client.ApiClient, ns: str, name: str, phase: str) -> Any:
    """A predicate for `wait_for`: the resource, once its phase is `phase`."""
    return lambda: (va := get_va(api, ns, name)).get("status", {}).get("phase") == phase and va


def condition(va: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((c for c in va.get("status", {}).get("conditions", []) if c["type"] == kind), None)


def event_reasons(api: client.ApiClient, ns: str, name: str) -> set[str]:
    events = client.CoreV1Api(api).list_namespaced_event(ns, field_selector=f"involvedObject.name={name}")
    return {e.reason for e in events.items}


def jobs(api: client.ApiClient, ns: str) -> list[client.V1Job]:
    return client.BatchV1Api(api).list_namespaced_job(ns).items


def job_of(kube: client.ApiClient, namespace: str, resource: str) -> list[client.V1Job]:
    """The Jobs of one resource (by owner) in `namespace`."""
    return [j for j in jobs(kube, namespace) if j.metadata.owner_references[0].name == resource]


async def job_and_pod(api: client.ApiClient, kwok: Any, ns: str) -> tuple[client.V1Job, Any]:
    """The one Job the operator made in `ns` and its first Pod, placed on a node by the scheduler."""
    [job] = await wait_for(lambda: jobs(api, ns), what="the Job")
    [pod] = kwok.wait_for_pods(ns, job.metadata.name)
    return job, pod


def job_condition(api: client.ApiClient, ns: str, job: str, kind: str) -> Any:
    """The Job's condition `kind` when True, else None."""
    current = client.BatchV1Api(api).read_namespaced_job(job, ns)
    return next((c for c in current.status.conditions or [] if c.type == kind and c.status == "True"), None)


# --- bodies for the pure builder tests --------------------------------------------------------


def va_body(**spec: object) -> dict:
    """A resource of task `TASK_ID` as the operator reads it (spec and status.taskId set)."""
    return {
        "apiVersion": names.API_VERSION,
        "kind": names.KIND,
        "metadata": {"name": f"va-{TASK_ID}", "namespace": "team-a", "uid": "uid-1"},
        "spec": {"taskId": TASK_ID, "videoUri": "videos://a.mp4", "model": "opencv-face", **spec},
        "status": {"taskId": TASK_ID},
    }


def container(job: dict) -> dict:
    """The one container of a built Job."""
    return job["spec"]["template"]["spec"]["containers"][0]
