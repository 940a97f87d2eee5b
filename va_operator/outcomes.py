"""What the Job, its Pods and the task row say, as the `Outcome` a resource moves to.

Pure, like `va_operator.phases`, which turns an outcome into the status patch of the move: the
job controller's verdict (`job_outcome`), a suspended Job (`job_waiting`), a Pod running, left
without a node or unable to pull its image (`pod_outcome`), and the row's own ending, which
wins over all of them (`settle`, `ending_of`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from va_operator.phases import QUEUED, UNSCHEDULABLE, Outcome, Phase
from videoanalysis.k8s import names
from videoanalysis.task_status import TaskStatus

#: Waiting reasons after which the image will not appear by itself.
IMAGE_PULL_FAILURES = frozenset({"ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"})


def _true_condition(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind and cond.get("status") == "True":
            return cond
    return None


def job_outcome(job: Mapping[str, Any]) -> Outcome | None:
    """Succeeded/Failed from the Job's conditions (the job controller's verdict); None before."""
    if _true_condition(job, "Complete"):
        return Outcome(Phase.SUCCEEDED, "Completed", "the analysis Job completed")
    failed = _true_condition(job, "Failed")
    if failed is None:
        return None
    spec, status = job.get("spec") or {}, job.get("status") or {}
    reason = failed.get("reason") or "JobFailed"
    if reason == "PodFailurePolicy":  # the FailJob rule: an exit code no rerun can fix
        return Outcome(Phase.FAILED, "PermanentFailure", f"{failed.get('message') or reason} (permanent: no retry)")
    if reason == "DeadlineExceeded":
        message = f"deadline exceeded: the Job ran longer than {spec.get('activeDeadlineSeconds')}s"
    elif reason == "BackoffLimitExceeded":
        message = (
            f"back-off limit reached: the Pod failed {status.get('failed', 0)} time(s) "
            f"(backoffLimit {spec.get('backoffLimit')})"
        )
    elif reason in ("FailedIndexes", "MaxFailedIndexesExceeded"):  # a sharded (Indexed) Job
        message = (
            f"back-off limit reached: shard(s) {status.get('failedIndexes') or '?'} failed "
            f"(backoffLimitPerIndex {spec.get('backoffLimitPerIndex')}); the merge needs every shard"
        )
    else:
        message = failed.get("message") or f"the Job failed ({reason})"
    return Outcome(Phase.FAILED, reason, message)


def job_waiting(job: Mapping[str, Any]) -> Outcome | None:
    """Pending, Queued while the Job is suspended: Kueue holds a Job until its quota admits it
    (and a suspended Job's activeDeadlineSeconds does not run); None otherwise."""
    if not (job.get("spec") or {}).get("suspend") or job_outcome(job) is not None:
        return None
    queue = ((job.get("metadata") or {}).get("labels") or {}).get(names.LABEL_KUEUE_QUEUE)
    where = f"in Kueue LocalQueue {queue} until its quota admits it" if queue else "suspended until it is resumed"
    return Outcome(Phase.PENDING, QUEUED, f"queued: the Job waits {where}; its deadline does not run meanwhile")


def pod_outcome(pod: Mapping[str, Any]) -> Outcome | None:
    """Running when a Pod runs; Pending, Unschedulable while the scheduler finds no node for it
    (with the scheduler's words); Failed on an image that cannot be pulled (which the job
    controller would wait on until the deadline); else None. Exit codes are the Job's pod
    failure policy's to judge (`job_outcome`)."""
    status = pod.get("status") or {}
    if status.get("phase") == "Running":
        name = (pod.get("metadata") or {}).get("name", "")
        return Outcome(Phase.RUNNING, "PodRunning", f"pod {name} is running")
    if status.get("phase") not in (None, "Pending"):
        return None
    scheduled: Mapping[str, Any] = next(
        (c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"), {}
    )
    if scheduled.get("status") == "False" and scheduled.get("reason") == UNSCHEDULABLE:
        detail = scheduled.get("message") or "no node fits the Pod"
        return Outcome(Phase.PENDING, UNSCHEDULABLE, f"waiting for a node: {detail}")
    for cs in status.get("containerStatuses") or []:
        waiting = (cs.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in IMAGE_PULL_FAILURES:
            detail = waiting.get("message") or waiting["reason"]
            return Outcome(Phase.FAILED, "ImagePullFailure", f"image pull failure for {cs.get('image')}: {detail}")
    return None


def row_outcome(status: str, error: str | None) -> Outcome | None:
    """The resource's ending as the task row says it (the row is the truth); None while open."""
    if status == TaskStatus.SUCCEEDED:
        return Outcome(Phase.SUCCEEDED, "Completed", "the analysis completed")
    if status == TaskStatus.FAILED:
        return Outcome(Phase.FAILED, "AnalysisFailed", error or "the analysis failed")
    if status == TaskStatus.CANCELLED:
        return Outcome(Phase.FAILED, "Cancelled", error or "the task was cancelled")
    return None


NO_RESULT = Outcome(Phase.FAILED, "NoResult", "the Job completed but the task recorded no result")
#: The task row no longer exists (the API's erase, retention): whatever the Job says, there is
#: no result to show and nothing left for a run to write.
ERASED = Outcome(
    Phase.FAILED, "Erased", "the task was erased (its row no longer exists); nothing is left to run or show"
)


def as_shown(status: Mapping[str, Any] | None) -> Outcome:
    """The outcome the resource shows now (moving to it changes nothing but what the row says)."""
    status = status or {}
    phase = Phase(status["phase"]) if status.get("phase") in Phase.__members__.values() else Phase.PENDING
    return Outcome(phase, status.get("reason") or "JobCreated", status.get("message") or "")


def never_started(outcome: Outcome, current: Mapping[str, Any] | None) -> Outcome:
    """A deadline reached while the resource was still Pending says why it never ran: the
    deadline counts from the Job's start, time spent waiting for a node included."""
    current = current or {}
    if outcome.reason != "DeadlineExceeded" or current.get("phase") not in (None, Phase.PENDING.value):
        return outcome
    if current.get("reason") == UNSCHEDULABLE:
        why = f"it never got a node ({current.get('message')})"
    else:
        why = "it never started running"
    return Outcome(outcome.phase, outcome.reason, f"{outcome.message}; {why}")


def ending_of(row: Mapping[str, Any] | None) -> Outcome | None:
    """The resource's ending from its task row's values (`status`, `error`): ERASED without a
    row, the row's own ending once it ended, None while it is open."""
    if row is None:
        return ERASED
    return row_outcome(row["status"], row["error"])


def job_missing(job_name: str, recreated: int, budget: int) -> Outcome:
    """Failed, JobMissing: the Job disappeared while the task was open and no re-creation is
    left (`recreated` of the `budget`, the resource's backoffLimit)."""
    return Outcome(
        Phase.FAILED,
        "JobMissing",
        f"Job {job_name} disappeared before the analysis ended (deleted by hand or by a cleanup) "
        f"and is not re-created again: {recreated} re-creation(s) of backoffLimit {budget} spent",
    )


def settle(outcome: Outcome, row_status: str, row_error: str | None) -> Outcome:
    """What the resource shows once the row was written: the row's ending wins over what the
    Job or Pods said, and a failure carries the job's own reason from the row."""
    ended = row_outcome(row_status, row_error)
    if ended is None:
        return NO_RESULT if outcome.phase is Phase.SUCCEEDED else outcome
    if ended.phase is not outcome.phase:
        return ended
    if outcome.phase is Phase.FAILED and row_error and row_error not in outcome.message:
        return Outcome(outcome.phase, outcome.reason, f"{outcome.message}; {row_error}")
    return outcome


def pod_failure_detail(pod: Mapping[str, Any]) -> str | None:
    """`container inference exited with code 1 (Error): ...` for a failed Pod, else None."""
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        term = (cs.get("state") or {}).get("terminated") or {}
        if term and term.get("exitCode", 0) != 0:
            text = f"container {cs.get('name')} exited with code {term.get('exitCode')}"
            text += f" ({term['reason']})" if term.get("reason") else ""
            return text + (f": {term['message'].strip()}" if term.get("message") else "")
    return None
