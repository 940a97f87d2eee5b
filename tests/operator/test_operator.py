"""The operator against a real API server and job controller; the kwok is simulated."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from kubernetes import client

from api.dispatchers.base import DispatchError
from api.dispatchers.kubernetes import KubernetesDispatcher
from tests.support.cluster import kubectl
from tests.support.operator_process import OperatorProcess
from tests.support.pods import KwokPods
from tests.support.resources import create_va, event_reasons, get_va, job_and_pod, job_condition, jobs, phase_is, submit
from tests.support.tasks import row_is, status_is, task_status
from tests.support.waits import wait_for
from va_operator.config import OperatorSettings
from videoanalysis.exitcodes import JobExit
from videoanalysis.k8s import names
from videoanalysis.tables import Task
from videoanalysis.task_status import TaskStatus
from videoanalysis.transitions import transition

pytestmark = pytest.mark.kubernetes


def bad_resource(ns: str, **spec: Any) -> str:
    return json.dumps(
        {
            "apiVersion": names.API_VERSION,
            "kind": names.KIND,
            "metadata": {"name": "bad", "namespace": ns},
            "spec": spec,
        }
    )


async def test_crd_installs_and_refuses_bad_resources(k8s_cluster: Any, namespace: str) -> None:
    crd = json.loads(kubectl("get", "crd", names.CRD_NAME, "-o", "json").stdout)
    assert {c["type"]: c["status"] for c in crd["status"]["conditions"]}["Established"] == "True"
    refused = kubectl(
        "create",
        "--validate=false",
        "-f",
        "-",
        check=False,
        input=bad_resource(namespace, videoUri="videos://a.mp4", scoreThreshold=2),
    )
    assert refused.returncode != 0
    assert "spec.scoreThreshold" in refused.stderr and "less than or equal to 1" in refused.stderr
    assert "spec.taskId" not in refused.stderr  # optional: a resource applied by hand has none
    zero_stride = kubectl(
        "create",
        "--validate=false",
        "-f",
        "-",
        check=False,
        input=bad_resource(
            namespace, taskId="123e4567-e89b-12d3-a456-426614174000", videoUri="videos://a.mp4", frameStride=0
        ),
    )
    assert zero_stride.returncode != 0 and "spec.frameStride" in zero_stride.stderr
    assert kubectl("get", "va", "-n", namespace, "--ignore-not-found", "-o", "name").stdout == ""


async def test_job_follows_the_resource_through_a_restart_to_success(
    operator: OperatorProcess,
    namespace: str,
    kube_api: client.ApiClient,
    kwok: KwokPods,
    make_task: Any,
) -> None:
    task = await make_task()
    name = await submit(task, namespace)
    va = get_va(kube_api, namespace, name)
    # The CRD defaults model/stride/threshold; gpus, deadline and backoff are left to the operator
    # (VA_JOB_DEFAULTS, then its fallbacks), so the Job below still gets 1 GPU.
    assert va["spec"]["frameStride"] == 1 and "gpus" not in va["spec"] and "backoffLimit" not in va["spec"]
    await wait_for(lambda: jobs(kube_api, namespace), what="the Job")
    operator.stop()  # restart mid-way: the Job exists, its Pod has not run
    operator.start()
    await wait_for(phase_is(kube_api, namespace, name, "Pending"), what="Pending")
    [job] = jobs(kube_api, namespace)
    [owner] = job.metadata.owner_references
    assert (owner.kind, owner.name, owner.uid, owner.controller) == (names.KIND, name, va["metadata"]["uid"], True)
    assert job.spec.template.spec.containers[0].resources.limits == {"nvidia.com/gpu": "1"}
    assert job.metadata.labels[names.LABEL_TASK] == str(task.id)

    [pod] = kwok.wait_for_pods(namespace, job.metadata.name)
    kwok.run(pod)
    await wait_for(phase_is(kube_api, namespace, name, "Running"), what="Running")
    await row_is(task, TaskStatus.RUNNING)
    await Task.filter(id=task.id).update(frames_done=6, frames_total=12)
    await wait_for(
        lambda: get_va(kube_api, namespace, name)["status"].get("progress") == "50%",
        what="progress mirrored from the task row",
    )
    await transition(task.id, TaskStatus.SUCCEEDED)  # what the job records before it exits 0
    kwok.finish(pod, exit_code=0)
    status = (await wait_for(phase_is(kube_api, namespace, name, "Succeeded"), what="Succeeded"))["status"]
    assert status["reason"] == "Completed" and status["jobName"] == job.metadata.name
    assert status["resultUrl"] == f"https://va.example.test/tasks/video-analysis-result/{task.id}/"
    assert status["startTime"] and status["completionTime"] and status["observedGeneration"] == 1
    assert {c["type"] for c in status["conditions"] if c["status"] == "True"} >= {"JobCreated", "Complete"}
    await row_is(task, TaskStatus.SUCCEEDED)
    assert len(jobs(kube_api, namespace)) == 1
    table = kubectl("get", "va", "-n", namespace).stdout
    assert table.split("\n")[0].split() == ["NAME", "PHASE", "PROGRESS", "DETECTIONS", "OBJECTS", "MODEL", "AGE"]
    row = table.split("\n")[1].split()  # OBJECTS is blank: the simulated kwok runs no tracker
    assert row[:4] == [name, "Succeeded", "100%", "0"] and "opencv-face" in row
    assert status["taskId"] == str(task.id) and status["model"] == "opencv-face"
    # JobCreated may have been posted by the operator that was stopped (Events are best-effort).
    await wait_for(
        lambda: {"PodRunning", "Completed"} <= event_reasons(kube_api, namespace, name), what="an Event per transition"
    )


async def test_backoff_limit_fails_with_the_pods_reason(
    operator: OperatorProcess,
    namespace: str,
    kube_api: client.ApiClient,
    kwok: KwokPods,
    make_task: Any,
) -> None:
    task = await make_task()
    name = create_va(kube_api, task, namespace, backoffLimit=0)
    _, pod = await job_and_pod(kube_api, kwok, namespace)
    kwok.finish(pod, exit_code=1, message="Traceback: MemoryError")  # a crash: retriable
    va = await wait_for(phase_is(kube_api, namespace, name, "Failed"), what="Failed")
    assert va["status"]["reason"] == "BackoffLimitExceeded"
    assert "back-off limit reached" in va["status"]["message"]
    assert "exited with code 1 (Error): Traceback: MemoryError" in va["status"]["message"]
    await row_is(task, TaskStatus.FAILED)
    assert "back-off limit reached" in task.error
    await wait_for(
        lambda: {"JobCreated", "BackoffLimitExceeded"} <= event_reasons(kube_api, namespace, name),
        what="an Event per transition",
    )


async def test_permanent_exit_fails_the_job_by_its_pod_failure_policy(
    operator: OperatorProcess,
    namespace: str,
    kube_api: client.ApiClient,
    kwok: KwokPods,
    make_task: Any,
) -> None:
    """FailJob on a permanent exit code is the job controller's: the Job fails at its first Pod
    (reason PodFailurePolicy, no retry despite backoffLimit 3) and the resource and the row say
    why. (When the job recorded its own reason first, the row's reason wins: `settle`.)"""
    task = await make_task()
    name = create_va(kube_api, task, namespace, backoffLimit=3)
    job, pod = await job_and_pod(kube_api, kwok, namespace)
    kwok.run(pod)
    await row_is(task, TaskStatus.RUNNING)
    kwok.finish(pod, exit_code=JobExit.FAILED)
    failed = await wait_for(lambda: job_condition(kube_api, namespace, job.metadata.name, "Failed"), what="Job Failed")
    assert failed.reason == "PodFailurePolicy"
    assert "exit code 3" in failed.message and "FailJob" in failed.message
    va = await wait_for(phase_is(kube_api, namespace, name, "Failed"), what="Failed")
    assert va["status"]["reason"] == "PermanentFailure"
    assert "exited with code 3" in va["status"]["message"] and "permanent: no retry" in va["status"]["message"]
    assert len(kwok.wait_for_pods(namespace, job.metadata.name)) == 1
    await row_is(task, TaskStatus.FAILED)
    assert "exit code 3" in task.error


async def test_exits_that_are_not_the_runs_fault_spend_no_back_off(
    operator: OperatorProcess,
    namespace: str,
    kube_api: client.ApiClient,
    kwok: KwokPods,
    make_task: Any,
) -> None:
    """With backoffLimit 0, an interrupted run (75) and a disrupted Pod each get a new Pod (the
    two Ignore rules; 4, superseded, shares the first); the first crash of the run's own then
    fails the Job. The job controller's own back-off between Pods (10 s, doubling) applies."""
    task = await make_task()
    name = create_va(kube_api, task, namespace, backoffLimit=0)
    job, pod = await job_and_pod(kube_api, kwok, namespace)
    for count, end in enumerate([lambda p: kwok.finish(p, JobExit.INTERRUPTED), kwok.disrupt], start=2):
        end(pod)
        pod = kwok.wait_for_pods(namespace, job.metadata.name, count=count, timeout=60)[-1]
        current = client.BatchV1Api(kube_api).read_namespaced_job(job.metadata.name, namespace)
        assert not current.status.failed and job_condition(kube_api, namespace, job.metadata.name, "Failed") is None
    kwok.finish(pod, exit_code=1)
    failed = await wait_for(lambda: job_condition(kube_api, namespace, job.metadata.name, "Failed"), what="Job Failed")
    assert failed.reason == "BackoffLimitExceeded"
    va = await wait_for(phase_is(kube_api, namespace, name, "Failed"), what="Failed")
    assert va["status"]["reason"] == "BackoffLimitExceeded"
    assert "exited with code 1" in va["status"]["message"]


async def test_job_complete_without_a_recorded_result_fails(
    operator: OperatorProcess,
    namespace: str,
    kube_api: client.ApiClient,
    kwok: KwokPods,
    make_task: Any,
) -> None:
    """The row is the truth: a Job's Complete alone is no success."""
    task = await make_task()
    name = await submit(task, namespace)
    _, pod = await job_and_pod(kube_api, kwok, namespace)
    kwok.run(pod)
    await row_is(task, TaskStatus.RUNNING)
    kwok.finish(pod, exit_code=0)
    va = await wait_for(phase_is(kube_api, namespace, name, "Failed"), what="Failed")
    assert va["status"]["reason"] == "NoResult"
    await row_is(task, TaskStatus.FAILED)
    assert task.error == "the Job completed but the task recorded no result"


async def test_deadline_exceeded(
    operator: OperatorProcess, namespace: str, kube_api: client.ApiClient, kwok: KwokPods, make_task: Any
) -> None:
    task = await make_task()
    name = create_va(kube_api, task, namespace, activeDeadlineSeconds=2)
    _, pod = await job_and_pod(kube_api, kwok, namespace)
    kwok.run(pod)
    va = await wait_for(phase_is(kube_api, namespace, name, "Failed"), timeout=40, what="deadline")
    assert va["status"]["reason"] == "DeadlineExceeded"
    assert "deadline exceeded" in va["status"]["message"]
    await row_is(task, TaskStatus.FAILED)
    assert "deadline exceeded" in task.error


async def test_image_pull_failure_fails_and_stops_the_job(
    operator: OperatorProcess,
    namespace: str,
    kube_api: client.ApiClient,
    kwok: KwokPods,
    make_task: Any,
) -> None:
    task = await make_task()
    name = await submit(task, namespace)
    _, pod = await job_and_pod(kube_api, kwok, namespace)
    kwok.image_pull_backoff(pod)
    va = await wait_for(phase_is(kube_api, namespace, name, "Failed"), what="Failed")
    assert va["status"]["reason"] == "ImagePullFailure"
    assert "image pull failure for videoanalysis/inference:latest" in va["status"]["message"]
    await row_is(task, TaskStatus.FAILED)
    await wait_for(lambda: not jobs(kube_api, namespace), what="the Job deleted")


async def test_a_pod_with_the_labels_but_not_owned_by_the_job_moves_nothing(
    operator: OperatorProcess,
    namespace: str,
    kube_api: client.ApiClient,
    kwok: KwokPods,
    make_task: Any,
) -> None:
    """Pods are matched to resources by owner reference (Pod -> Job -> resource), not by the
    labels anyone can set: a stray Pod carrying the Job's labels that fails to pull its image
    neither fails the resource nor stops its real Job; the real Pod then does."""
    task = await make_task()
    name = await submit(task, namespace)
    job, pod = await job_and_pod(kube_api, kwok, namespace)
    stray = client.CoreV1Api(kube_api).create_namespaced_pod(
        namespace,
        {
            # The labels the operator selects by; not the controller-uid the job controller
            # adopts orphans by (an adopted Pod is the Job's own).
            "metadata": {"name": "stray", "labels": {**job.metadata.labels, "job-name": job.metadata.name}},
            "spec": {"containers": [{"name": names.CONTAINER, "image": "stray:1"}]},
        },
    )
    kwok.run(pod)
    await wait_for(phase_is(kube_api, namespace, name, "Running"), what="Running")
    kwok.image_pull_backoff(stray)
    await asyncio.sleep(3)  # the Pod's event and three repair passes
    assert get_va(kube_api, namespace, name)["status"]["phase"] == "Running"
    assert [j.metadata.name for j in jobs(kube_api, namespace)] == [job.metadata.name]
    await row_is(task, TaskStatus.RUNNING)


async def test_spec_that_can_never_run_fails_without_a_job(
    operator: OperatorProcess,
    namespace: str,
    kube_api: client.ApiClient,
    make_task: Any,
) -> None:
    task = await make_task(model="no-such-model")
    name = await submit(task, namespace)
    va = await wait_for(phase_is(kube_api, namespace, name, "Failed"), what="Failed")
    assert va["status"]["reason"] == "InvalidSpec" and "unknown model 'no-such-model'" in va["status"]["message"]
    await row_is(task, TaskStatus.FAILED)
    assert "unknown model" in task.error
    assert jobs(kube_api, namespace) == []


async def test_deleting_the_resource_cancels_the_task_and_the_job(
    operator: OperatorProcess,
    namespace: str,
    kube_api: client.ApiClient,
    make_task: Any,
) -> None:
    task = await make_task()
    await submit(task, namespace)
    await wait_for(lambda: jobs(kube_api, namespace), what="the Job")
    dispatcher = KubernetesDispatcher(OperatorSettings(kube_namespace=namespace))
    await dispatcher.cancel(task)  # what DELETE /tasks/{id}/ does
    await dispatcher.cancel(task)  # idempotent
    await dispatcher.close()
    await wait_for(lambda: task_status(task), what="task row")
    await wait_for(lambda: status_is(task_status(task), TaskStatus.CANCELLED), what="CANCELLED")
    assert "resource was deleted" in task.error
    await wait_for(lambda: not jobs(kube_api, namespace), timeout=60, what="the Job garbage-collected")


async def test_refused_resource_raises_the_servers_message(k8s_cluster: Any, make_task: Any) -> None:
    task = await make_task()
    dispatcher = KubernetesDispatcher(OperatorSettings(kube_namespace="no-such-namespace"))
    with pytest.raises(DispatchError, match='namespaces "no-such-namespace" not found'):
        await dispatcher.submit(task)
    await dispatcher.close()


@pytest.mark.parametrize("api_client", [{"dispatcher": "kubernetes", "kube_namespace": "default"}], indirect=True)
async def test_api_client_parametrized_with_the_kubernetes_dispatcher(k8s_cluster: Any, api_client: Any) -> None:
    """`dispatcher` is a settings override (the instance parameter is `dispatcher_instance`)."""
    assert api_client.settings.dispatcher.value == "kubernetes"
    assert isinstance(api_client.app.state.dispatcher, KubernetesDispatcher)
    assert api_client.app.state.dispatcher.settings.kube_namespace == "default"
