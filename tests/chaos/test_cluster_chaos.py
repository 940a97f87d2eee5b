"""Crashes on the cluster path: the real operator (`kopf run`) killed between its writes, and
events it never saw. Each case ends with the task row and the resource agreeing, nothing left
running, and the ending's webhook queued once."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import timedelta
from typing import Any

import pytest
from kubernetes import client

from api.dispatchers.intents import claim, reconcile_once
from api.dispatchers.kubernetes import KubernetesDispatcher
from tests.support.operator_process import OperatorProcess
from tests.support.pods import KwokPods
from tests.support.resources import job_and_pod, job_condition, jobs, phase_is, submit
from tests.support.tasks import row_is
from tests.support.waits import wait_for
from va_operator.config import OperatorSettings
from videoanalysis.clock import local_now
from videoanalysis.exitcodes import JobExit
from videoanalysis.k8s import names
from videoanalysis.tables import Task, WebhookDelivery
from videoanalysis.task_status import TaskStatus
from videoanalysis.transitions import transition

pytestmark = pytest.mark.kubernetes
HOOK = "https://hooks.example.test/va"


def kill(operator: OperatorProcess) -> None:
    """SIGKILL: no cleanup, no finished handler, whatever Kopf was in the middle of."""
    assert operator.proc is not None
    os.killpg(operator.proc.pid, signal.SIGKILL)
    operator.proc.wait(timeout=10)


async def webhooks(task: Task) -> int:
    return await WebhookDelivery.filter(task_id=task.id).count()


async def hooked_task(make_task: Any) -> Task:
    """A task whose ending queues a webhook (counted by `webhooks`)."""
    task = await make_task()
    await Task.filter(id=task.id).update(callback_url=HOOK)
    return task


async def started(operator: OperatorProcess, kube_api: Any, kwok: KwokPods, ns: str, task: Task) -> str:
    name = await submit(task, ns)
    _, pod = await job_and_pod(kube_api, kwok, ns)
    kwok.run(pod)
    await wait_for(phase_is(kube_api, ns, name, "Running"), what="Running")
    return name


async def end_while_the_operator_is_down(
    operator: OperatorProcess,
    kube_api: Any,
    kwok: KwokPods,
    ns: str,
    task: Task,
    *,
    status: TaskStatus,
    exit_code: int,
    error: str | None = None,
) -> None:
    """The job's ending happens while no operator watches: the row written, then the Pod exits
    with `exit_code`; then the operator starts again."""
    _, pod = await job_and_pod(kube_api, kwok, ns)
    kill(operator)
    try:
        await transition(task.id, status, error=error)
        kwok.finish(pod, exit_code=exit_code)
    finally:
        operator.start()


async def test_row_written_and_status_not_is_repaired_without_any_event(
    operator: OperatorProcess, namespace: str, kube_api: client.ApiClient, kwok: KwokPods, make_task: Any
) -> None:
    """The row ended and nothing in the cluster moved: only the repair timer can see it."""
    task = await hooked_task(make_task)
    name = await started(operator, kube_api, kwok, namespace, task)
    await transition(task.id, TaskStatus.FAILED, error="video is truncated at frame 14")
    va = await wait_for(phase_is(kube_api, namespace, name, "Failed"), what="Failed from the row")
    assert va["status"]["reason"] == "AnalysisFailed" and va["status"]["message"] == "video is truncated at frame 14"
    assert await webhooks(task) == 1


async def test_operator_killed_between_the_row_and_the_status(
    operator: OperatorProcess, namespace: str, kube_api: client.ApiClient, kwok: KwokPods, make_task: Any
) -> None:
    task = await hooked_task(make_task)
    name = await started(operator, kube_api, kwok, namespace, task)
    # the job's ending, the row written; the Job completes while no operator watches
    await end_while_the_operator_is_down(
        operator, kube_api, kwok, namespace, task, status=TaskStatus.SUCCEEDED, exit_code=0
    )
    va = await wait_for(phase_is(kube_api, namespace, name, "Succeeded"), what="Succeeded")
    assert va["status"]["progress"] == "100%"
    await row_is(task, TaskStatus.SUCCEEDED)
    assert await webhooks(task) == 1


async def test_operator_killed_between_the_job_and_the_status(
    operator: OperatorProcess, namespace: str, kube_api: client.ApiClient, kwok: KwokPods, make_task: Any
) -> None:
    task = await hooked_task(make_task)
    name = await submit(task, namespace)
    await wait_for(lambda: jobs(kube_api, namespace), interval=0.02, what="the Job")
    kill(operator)  # the Job exists; its status (Pending, jobName) may not
    operator.start()
    await wait_for(phase_is(kube_api, namespace, name, "Pending"), what="Pending")
    [job] = jobs(kube_api, namespace)  # the restart found it: no second Job
    [pod] = kwok.wait_for_pods(namespace, job.metadata.name)
    kwok.run(pod)
    await transition(task.id, TaskStatus.RUNNING)
    await transition(task.id, TaskStatus.SUCCEEDED)
    kwok.finish(pod, exit_code=0)
    va = await wait_for(phase_is(kube_api, namespace, name, "Succeeded"), what="Succeeded")
    assert va["status"]["jobName"] == job.metadata.name and len(jobs(kube_api, namespace)) == 1
    assert await webhooks(task) == 1


async def test_permanent_failure_ends_at_the_first_attempt_while_the_operator_was_down(
    operator: OperatorProcess, namespace: str, kube_api: client.ApiClient, kwok: KwokPods, make_task: Any
) -> None:
    task = await hooked_task(make_task)
    name = await started(operator, kube_api, kwok, namespace, task)
    await end_while_the_operator_is_down(
        operator,
        kube_api,
        kwok,
        namespace,
        task,
        status=TaskStatus.FAILED,
        error="unknown label 'unicorn'",
        exit_code=JobExit.FAILED,
    )
    va = await wait_for(phase_is(kube_api, namespace, name, "Failed"), what="Failed")
    assert "unknown label 'unicorn'" in va["status"]["message"]
    [job] = jobs(kube_api, namespace)
    failed = await wait_for(lambda: job_condition(kube_api, namespace, job.metadata.name, "Failed"), what="Job Failed")
    assert failed.reason == "PodFailurePolicy"  # the Job's own FailJob rule, not a retry
    assert len(kwok.wait_for_pods(namespace, job.metadata.name)) == 1
    await task.refresh_from_db()
    assert task.error == "unknown label 'unicorn'" and await webhooks(task) == 1


async def test_api_killed_between_the_row_and_the_dispatch(
    operator: OperatorProcess, namespace: str, kube_api: client.ApiClient, kwok: KwokPods, make_task: Any
) -> None:
    """The row and its intent were written, the process died before creating the resource:
    the reconciler of any replica dispatches it once, and the operator runs it."""
    task = await make_task()
    # the session database is shared: only this task's intent may be due for the count below
    await Task.filter(dispatch_due_at__isnull=False).exclude(id=task.id).update(dispatch_due_at=None)
    await Task.filter(id=task.id).update(dispatch_due_at=local_now())  # what the upload's INSERT left
    replicas = [KubernetesDispatcher(OperatorSettings(kube_namespace=namespace)) for _ in range(2)]
    try:
        counts = await asyncio.gather(*(reconcile_once(d) for d in replicas))
        assert sorted(counts) == [0, 1]  # one claim wins; the other replica skips it
        assert await reconcile_once(replicas[0]) == 0  # done: nothing due any more
    finally:
        for d in replicas:
            await d.close()
    await task.refresh_from_db()
    assert task.dispatch_due_at is None and task.status == TaskStatus.PENDING
    name = names.resource_name(str(task.id))
    [job] = await wait_for(lambda: jobs(kube_api, namespace), what="the Job")
    assert job.metadata.labels[names.LABEL_RESOURCE] == name


async def test_an_intent_claimed_by_a_crashed_replica_is_taken_over_after_its_claim(make_task: Any) -> None:
    task = await make_task()
    await Task.filter(id=task.id).update(dispatch_due_at=local_now())
    assert await claim(task.id) and not await claim(task.id)  # a conditional update: one winner
    await Task.filter(id=task.id).update(dispatch_due_at=local_now() - timedelta(seconds=1))  # its claim ran out
    assert await claim(task.id)
    await Task.filter(id=task.id).update(dispatch_due_at=None)  # not dispatched by a later test
