"""The Job follows the task row: made only while the row is open, made again when it disappears.

A Job is created only after the row was read open: a cancel that raced the dispatch, or a
resume after the task ended, makes no Job and the resource takes the row's ending; a row that
no longer exists (the API's erase, retention) ends the resource `Failed`, `Erased`, and stops
its Job (`row_io.write_row`, `reconcile.advance`).

A Job that disappears while the row is open (deleted by hand or by a cleanup; the repair pass
sees the 404) is created again under its deterministic name, at most the resource's
`backoffLimit` times. Each re-creation is counted in the row's `retries` by a conditional
update before the Job is made, so a restart of the operator neither resets the count nor grants
a free one, and two passes cannot spend the same retry. With the retries spent the task ends
`Failed`, `JobMissing`. Only the repair pass re-creates: the creation (and resume) handler makes
the first Job and leaves a resource whose Job was made before (`status.jobName`) to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf
from tortoise.expressions import F

from va_operator import kube_io, ownership, reconcile
from va_operator.builders import effective_spec
from va_operator.config import OperatorSettings
from va_operator.outcomes import as_shown, ending_of, job_missing, job_outcome, job_waiting, pod_outcome
from va_operator.phases import Outcome, Phase
from videoanalysis.k8s import names
from videoanalysis.k8s.resource import task_id_of
from videoanalysis.tables import Task
from videoanalysis.task_status import TaskStatus

#: The row states a Job may run for.
OPEN = (TaskStatus.PENDING, TaskStatus.RUNNING)


async def start(body: Mapping[str, Any], settings: OperatorSettings) -> None:
    """The creation and resume handler: the task row (`status.taskId`), then, while the row is
    open and no Job was made before, the Job (create-if-absent) and Pending."""
    resource = await reconcile.ensure_task(body, settings)
    if await take_row_ending(resource, settings):
        return
    if (resource.get("status") or {}).get("jobName"):
        return  # made before: one that disappeared is the repair pass's (counted)
    job = await reconcile.ensure_job(resource, settings)
    created = Outcome(Phase.PENDING, "JobCreated", f"Job {job['metadata']['name']} created")
    await reconcile.advance(resource, created, settings)


async def take_row_ending(resource: Mapping[str, Any], settings: OperatorSettings) -> bool:
    """True when the row ended or no longer exists: the resource was moved to that ending
    (an erased one's Job stopped) and no Job must be made; False while the row is open."""
    row = await Task.filter(id=task_id_of(resource)).first().values("status", "error")
    ending = ending_of(row)
    if ending is None:
        return False
    await reconcile.advance(resource, ending, settings)
    return True


async def repair(body: Mapping[str, Any], settings: OperatorSettings) -> None:
    """Level-triggered pass over an unfinished resource: re-read its Job, its Pods and its row
    and bring both row and resource to the same ending, whichever events were missed; a Job
    that disappeared is `replace_missing`'s."""
    meta = body["metadata"]
    if not task_id_of(body):
        return
    job_name = names.job_name(meta["name"])
    job = await kube_io.read_job(meta["namespace"], job_name, settings)
    if job is None:
        await replace_missing(body, settings)
        return
    outcome = None
    if ownership.controlled_by(job, names.KIND, meta.get("uid")):  # else an earlier resource's: the GC removes it
        outcomes = [o for p in await kube_io.owned_pods(job) if (o := pod_outcome(p))]
        outcome = job_outcome(job) or next(iter(outcomes), None) or job_waiting(job)
    if outcome is None and (body.get("status") or {}).get("phase"):
        # Nothing new to show (a Pod placed and starting, or between two Pods: a wait's reason
        # stays until the next one says otherwise), but the row may have ended meanwhile.
        outcome = as_shown(body.get("status"))
    await reconcile.advance(body, outcome or Outcome(Phase.PENDING, "JobCreated", f"Job {job_name} created"), settings)


def recreation_budget(body: Mapping[str, Any], settings: OperatorSettings) -> int:
    """How often a missing Job is made again: the backoffLimit the Job itself was given."""
    return int(effective_spec(body.get("spec") or {}, settings.job_defaults)["backoffLimit"])


async def replace_missing(body: Mapping[str, Any], settings: OperatorSettings) -> None:
    """The resource's Job does not exist. Before the first Job was made (no `status.jobName`)
    that is the creation handler's business, and a resource being deleted takes its Job with
    it; else the Job is made again while the row is open and a retry is left, and otherwise the
    resource takes the row's ending, or ends JobMissing."""
    meta, status = body["metadata"], body.get("status") or {}
    if not status.get("jobName") or meta.get("deletionTimestamp"):
        return
    task_id, budget = task_id_of(body), recreation_budget(body, settings)
    retry = Task.filter(id=task_id, status__in=OPEN, retries__lt=budget)
    if await retry.update(retries=F("retries") + 1):
        try:
            job = await reconcile.ensure_job(body, settings)
        except kopf.TemporaryError:  # not made: the retry is not spent
            await Task.filter(id=task_id, retries__gt=0).update(retries=F("retries") - 1)
            raise
        spent = await Task.filter(id=task_id).first().values_list("retries", flat=True)
        name = job["metadata"]["name"]
        message = f"Job {name} disappeared while the task was open; re-created ({spent} of backoffLimit {budget})"
        kopf.warn(dict(body), reason="JobRecreated", message=message)  # type: ignore[arg-type]  # any resource mapping
        return
    row = await Task.filter(id=task_id).first().values("status", "error", "retries")
    ending = ending_of(row) or job_missing(status["jobName"], row["retries"] if row else 0, budget)
    await reconcile.advance(body, ending, settings)
