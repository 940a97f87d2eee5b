"""Where the scheduler puts a resource's Pod, and what a user sees when no node can take it.

The scheduler places the Job's Pod on the KWOK nodes of the session (tests/support/nodes.py: two
GPU nodes of two GPUs each behind a NoSchedule taint, one CPU node). A Pod no node can take
leaves the resource Pending, Unschedulable, with the scheduler's own words in the status, the
`Waiting` condition, an Event and the task row the API answers from; it starts by itself when a
node that fits appears.
"""

from __future__ import annotations

import uuid
from typing import Any

from kubernetes import client

from api.schemas import TaskOut
from tests.support.nodes import add_node, remove_node
from tests.support.operator_process import OperatorProcess
from tests.support.pods import KwokPods
from tests.support.resources import create_va, event_reasons, get_va, jobs, phase_is
from tests.support.tasks import row_is
from tests.support.waits import wait_for
from videoanalysis.tables import Task
from videoanalysis.task_status import TaskStatus


def condition(va: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in va["status"]["conditions"] if c["type"] == kind)


def waiting_on(api: client.ApiClient, ns: str, name: str, words: str) -> Any:
    """Pending, Unschedulable with the scheduler's `words` in the message."""

    def check() -> Any:
        status = get_va(api, ns, name).get("status") or {}
        return status.get("reason") == "Unschedulable" and words in status.get("message", "") and status

    return check


async def placed_pod(api: client.ApiClient, kwok: KwokPods, ns: str) -> Any:
    [job] = await wait_for(lambda: jobs(api, ns), what="the Job")
    [pod] = kwok.wait_for_pods(ns, job.metadata.name)
    return pod


async def test_a_gpu_job_lands_on_a_gpu_node_and_a_cpu_job_on_a_cpu_node(
    operator: OperatorProcess, namespace: str, kube_api: client.ApiClient, kwok: KwokPods, make_task: Any
) -> None:
    gpu_task, cpu_task = await make_task(), await make_task()
    create_va(kube_api, gpu_task, namespace, gpus=1)
    pods: dict[str, Any] = {}
    pods["gpu"] = await placed_pod(kube_api, kwok, namespace)
    create_va(kube_api, cpu_task, namespace, gpus=0)
    [cpu_job] = await wait_for(
        lambda: [j for j in jobs(kube_api, namespace) if str(cpu_task.id) in j.metadata.name], what="the CPU Job"
    )
    [pods["cpu"]] = kwok.wait_for_pods(namespace, cpu_job.metadata.name)
    nodes = {kind: client.CoreV1Api(kube_api).read_node(pod.spec.node_name) for kind, pod in pods.items()}
    assert "nvidia.com/gpu" in nodes["gpu"].status.capacity  # the only nodes the GPU Pod fits and tolerates
    assert "nvidia.com/gpu" not in nodes["cpu"].status.capacity  # a GPU node's taint keeps the CPU Pod off
    kwok.run(pods["gpu"])
    name = f"va-{gpu_task.id}"
    va = await wait_for(phase_is(kube_api, namespace, name, "Running"), what="Running")
    assert va["status"]["reason"] == "PodRunning"


async def test_a_pod_no_node_fits_waits_with_the_schedulers_reason_and_starts_when_a_node_appears(
    operator: OperatorProcess, namespace: str, kube_api: client.ApiClient, kwok: KwokPods, make_task: Any
) -> None:
    pool = f"burst-{uuid.uuid4().hex[:6]}"
    task = await make_task()
    name = create_va(kube_api, task, namespace, gpus=1, nodeSelector={"videoanalysis.test/pool": pool})
    status = await wait_for(
        waiting_on(kube_api, namespace, name, "didn't match Pod's node affinity/selector"), what="Unschedulable"
    )
    assert status["phase"] == "Pending"
    assert status["message"].startswith("waiting for a node: 0/")
    va = get_va(kube_api, namespace, name)
    waiting = condition(va, "Waiting")
    assert (waiting["status"], waiting["reason"], waiting["message"]) == ("True", "Unschedulable", status["message"])
    assert "Unschedulable" in event_reasons(kube_api, namespace, name)
    row = await wait_for(lambda: Task.get(id=task.id), what="the row")
    answer = TaskOut.of(await Task.get(id=task.id))
    assert row.status == TaskStatus.PENDING
    assert answer.waiting is not None and answer.waiting.reason == "Unschedulable"
    assert answer.waiting.message == status["message"]

    add_node(kube_api, f"kwok-{pool}", gpus=2, **{"videoanalysis.test/pool": pool})  # capacity appears
    try:
        pod = await placed_pod(kube_api, kwok, namespace)
        assert pod.spec.node_name == f"kwok-{pool}"
        kwok.run(pod)
        va = await wait_for(phase_is(kube_api, namespace, name, "Running"), what="Running once a node fits")
        assert condition(va, "Waiting")["status"] == "False"
        await row_is(task, TaskStatus.RUNNING)
        assert TaskOut.of(await Task.get(id=task.id)).waiting is None
    finally:  # the session's cluster keeps its two GPU nodes only: later tests count on where Pods go
        remove_node(kube_api, f"kwok-{pool}")


async def test_more_gpus_than_any_node_has_waits_and_its_deadline_says_it_never_got_a_node(
    operator: OperatorProcess, namespace: str, kube_api: client.ApiClient, make_task: Any
) -> None:
    """Without Kueue the Job's deadline counts from its start, the wait for a node included."""
    task = await make_task()
    name = create_va(kube_api, task, namespace, gpus=3, activeDeadlineSeconds=6)
    await wait_for(waiting_on(kube_api, namespace, name, "Insufficient nvidia.com/gpu"), what="Unschedulable")
    va = await wait_for(phase_is(kube_api, namespace, name, "Failed"), timeout=40, what="the deadline")
    assert va["status"]["reason"] == "DeadlineExceeded"
    assert "never got a node (waiting for a node: 0/" in va["status"]["message"]
    assert "Insufficient nvidia.com/gpu" in va["status"]["message"]
    await row_is(task, TaskStatus.FAILED)
    assert "never got a node" in (await Task.get(id=task.id)).error


async def test_a_gpu_node_taint_keeps_off_a_pod_without_its_toleration(
    operator: OperatorProcess, namespace: str, kube_api: client.ApiClient, make_task: Any
) -> None:
    """No GPUs asked (so no GPU toleration added), but a selector only GPU nodes match."""
    task = await make_task()
    name = create_va(kube_api, task, namespace, gpus=0, nodeSelector={"nvidia.com/gpu.present": "true"})
    status = await wait_for(waiting_on(kube_api, namespace, name, "untolerated taint"), what="Unschedulable")
    assert status["phase"] == "Pending"
    [pod] = client.CoreV1Api(kube_api).list_namespaced_pod(namespace).items
    assert pod.spec.node_name is None  # on no node: neither the GPU nodes (taint) nor the CPU node (selector)
