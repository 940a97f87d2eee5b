"""The Job follows the task row (`va_operator.lifecycle`), against a real API server and the
session's operator: a Job that disappears while the row is open is made again under its own
name until the resource's backoffLimit is spent, then the task fails `JobMissing`; a row that
ended before its Job gets none and the resource takes the row's ending; a row erased mid-run
ends the resource `Failed`, `Erased` (never `Succeeded`) and stops its Job."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from kubernetes import client

from tests.support.operator_process import OperatorProcess
from tests.support.pods import KwokPods
from tests.support.resources import create_va, event_reasons, get_va, job_and_pod, jobs, phase_is
from tests.support.tasks import row_is
from tests.support.waits import wait_for
from va_operator.outcomes import ERASED, ending_of, job_missing
from va_operator.phases import Outcome, Phase
from va_operator.row_io import write_row
from va_operator.taskrow import task_id_for
from videoanalysis.k8s import names
from videoanalysis.tables import Task, User
from videoanalysis.task_status import TaskStatus
from videoanalysis.transitions import transition


def delete_job(api: client.ApiClient, ns: str, name: str) -> None:
    """What `kubectl delete job` does (its Pods go by the garbage collector)."""
    client.BatchV1Api(api).delete_namespaced_job(name, ns, propagation_policy="Background")


def job_other_than(api: client.ApiClient, ns: str, uid: str) -> Any:
    """The namespace's Job when it is another object than the one with `uid`, else None."""
    return next((j for j in jobs(api, ns) if j.metadata.uid != uid), None)


def test_an_ending_comes_from_the_row_and_none_while_it_is_open() -> None:
    assert ending_of(None) == ERASED and ERASED.phase is Phase.FAILED and ERASED.reason == "Erased"
    assert "the task was erased" in ERASED.message
    assert ending_of({"status": TaskStatus.RUNNING, "error": None}) is None
    assert ending_of({"status": TaskStatus.CANCELLED, "error": "cancelled by its owner"}) == Outcome(
        Phase.FAILED, "Cancelled", "cancelled by its owner"
    )
    missing = job_missing("va-x-analysis", 1, 1)
    assert (missing.phase, missing.reason) == (Phase.FAILED, "JobMissing")
    assert (
        "Job va-x-analysis disappeared" in missing.message and "1 re-creation(s) of backoffLimit 1" in missing.message
    )


async def test_a_success_reported_for_an_erased_row_shows_erased(db: str) -> None:
    """A Job that completed after its row was erased: no row, no success to show."""
    done = Outcome(Phase.SUCCEEDED, "Completed", "the analysis Job completed")
    assert await write_row(str(uuid.uuid4()), done) == ERASED


async def test_a_job_that_disappears_is_made_again_until_the_backoff_limit_then_fails(
    operator: OperatorProcess,
    namespace: str,
    kube_api: client.ApiClient,
    kwok: KwokPods,
    make_task: Any,
) -> None:
    task = await make_task()
    name = create_va(kube_api, task, namespace, backoffLimit=1)
    job, pod = await job_and_pod(kube_api, kwok, namespace)
    kwok.run(pod)
    await wait_for(phase_is(kube_api, namespace, name, "Running"), what="Running")
    await row_is(task, TaskStatus.RUNNING)

    delete_job(kube_api, namespace, job.metadata.name)
    again = await wait_for(lambda: job_other_than(kube_api, namespace, job.metadata.uid), what="the Job made again")
    assert again.metadata.name == job.metadata.name  # the same deterministic name
    [owner] = again.metadata.owner_references
    assert (owner.kind, owner.name, owner.controller) == (names.KIND, name, True)
    assert again.metadata.labels[names.LABEL_TASK] == str(task.id)
    await task.refresh_from_db()
    assert (task.status, task.retries) == (TaskStatus.RUNNING, 1)  # the count survives a restart
    assert get_va(kube_api, namespace, name)["status"]["phase"] == "Running"
    await wait_for(lambda: "JobRecreated" in event_reasons(kube_api, namespace, name), what="the JobRecreated Event")

    delete_job(kube_api, namespace, again.metadata.name)  # the one retry is spent
    va = await wait_for(phase_is(kube_api, namespace, name, "Failed"), what="Failed")
    assert va["status"]["reason"] == "JobMissing"
    assert f"Job {job.metadata.name} disappeared" in va["status"]["message"]
    assert "1 re-creation(s) of backoffLimit 1" in va["status"]["message"]
    await row_is(task, TaskStatus.FAILED)
    assert task.error == va["status"]["message"] and task.retries == 1
    await asyncio.sleep(2)  # two repair periods: no third Job
    assert jobs(kube_api, namespace) == []


@pytest.mark.parametrize(
    "ending, error, phase, reason",
    [
        (TaskStatus.CANCELLED, "cancelled by its owner", "Failed", "Cancelled"),
        (TaskStatus.SUCCEEDED, None, "Succeeded", "Completed"),
    ],
)
async def test_a_row_that_ended_before_its_job_gets_none_and_the_resource_takes_its_ending(
    operator: OperatorProcess,
    namespace: str,
    kube_api: client.ApiClient,
    make_task: Any,
    ending: TaskStatus,
    error: str | None,
    phase: str,
    reason: str,
) -> None:
    """A cancel that raced the dispatch, or a task that ended before a resume: the resource
    comes, the row has ended, and no Job is ever made for it."""
    task = await make_task()
    await transition(task.id, ending, error=error)
    name = create_va(kube_api, task, namespace)
    va = await wait_for(phase_is(kube_api, namespace, name, phase), what=phase)
    assert va["status"]["reason"] == reason and va["status"]["taskId"] == str(task.id)
    if error:
        assert va["status"]["message"] == error
    assert jobs(kube_api, namespace) == []
    await row_is(task, ending)


async def test_a_row_erased_mid_run_fails_the_resource_as_erased_and_stops_its_job(
    operator: OperatorProcess,
    namespace: str,
    kube_api: client.ApiClient,
    kwok: KwokPods,
    db: str,
) -> None:
    """A resource applied by hand whose row the retention (or an erase) removed while its Job
    runs: Failed, Erased, its Job deleted; the row is not made again."""
    owner = await User.create(email=f"k8s-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    body = {
        "apiVersion": names.API_VERSION,
        "kind": names.KIND,
        "metadata": {"name": "by-hand", "namespace": namespace},
        "spec": {"owner": owner.email, "videoUri": "videos://clip.mp4"},
    }
    created: Any = client.CustomObjectsApi(kube_api).create_namespaced_custom_object(
        names.GROUP, names.VERSION, namespace, names.PLURAL, body
    )
    task_id = task_id_for(created["metadata"]["uid"])
    _, pod = await job_and_pod(kube_api, kwok, namespace)
    kwok.run(pod)
    await wait_for(phase_is(kube_api, namespace, "by-hand", "Running"), what="Running")

    await Task.filter(id=task_id).delete()  # what retention and the API's erase do
    va = await wait_for(phase_is(kube_api, namespace, "by-hand", "Failed"), what="Failed")
    assert va["status"]["reason"] == "Erased" and "the task was erased" in va["status"]["message"]
    assert va["status"]["progress"] != "100%"
    await wait_for(lambda: not jobs(kube_api, namespace), what="the Job stopped")
    await wait_for(lambda: "Erased" in event_reasons(kube_api, namespace, "by-hand"), what="the Erased Event")
    assert not await Task.exists(id=task_id)
