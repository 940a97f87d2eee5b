"""The resource's phase as a pure state machine: Job and Pod observations in, status patch out.

Pending -> Running -> Succeeded | Failed. A phase never moves back and an ended resource
never changes again, so late or replayed watch events are harmless. Every move carries a
reason a person can read and shows up as a condition with its lastTransitionTime.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from videoanalysis.status import TaskStatus


class Phase(StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"

    @property
    def rank(self) -> int:
        return {"Pending": 0, "Running": 1}.get(self.value, 2)

    @property
    def is_final(self) -> bool:
        return self.rank == 2

    @property
    def task_status(self) -> TaskStatus:
        return TaskStatus(self.value.upper())


#: Condition type set to True when a phase is entered.
CONDITION_OF = {
    Phase.PENDING: "JobCreated",
    Phase.RUNNING: "Running",
    Phase.SUCCEEDED: "Complete",
    Phase.FAILED: "Failed",
}
#: Waiting reasons after which the image will not appear by itself.
IMAGE_PULL_FAILURES = frozenset({"ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"})


@dataclass(frozen=True)
class Outcome:
    phase: Phase
    reason: str
    message: str


def now_iso(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    else:
        message = failed.get("message") or f"the Job failed ({reason})"
    return Outcome(Phase.FAILED, reason, message)


def pod_outcome(pod: Mapping[str, Any]) -> Outcome | None:
    """Running when a Pod runs; Failed on an image that cannot be pulled (which the job
    controller would wait on until the deadline); else None. Exit codes are the Job's pod
    failure policy's to judge (`job_outcome`)."""
    status = pod.get("status") or {}
    if status.get("phase") == "Running":
        name = (pod.get("metadata") or {}).get("name", "")
        return Outcome(Phase.RUNNING, "PodRunning", f"pod {name} is running")
    if status.get("phase") not in (None, "Pending"):
        return None
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


def _conditions(
    current: list[Mapping[str, Any]], outcome: Outcome, stamp: str, generation: int | None
) -> list[dict[str, Any]]:
    """Upsert the new phase's condition as True; an ending turns Running to False."""
    wanted = CONDITION_OF[outcome.phase]
    result = [dict(c) for c in current if c.get("type") != wanted]
    for cond in result:
        if outcome.phase.is_final and cond.get("type") == "Running" and cond.get("status") == "True":
            cond.update(status="False", reason=outcome.reason, lastTransitionTime=stamp)
    new: dict[str, Any] = {
        "type": wanted,
        "status": "True",
        "reason": outcome.reason,
        "message": outcome.message,
        "lastTransitionTime": stamp,
    }
    if generation is not None:
        new["observedGeneration"] = generation
    return [*result, new]


def next_status(
    current: Mapping[str, Any] | None,
    outcome: Outcome,
    *,
    generation: int | None = None,
    now: datetime | None = None,
    job_name: str | None = None,
    result_url: str | None = None,
) -> dict[str, Any] | None:
    """The status patch that moves the resource to `outcome`, or None if it must not move."""
    current = current or {}
    old = Phase(current["phase"]) if current.get("phase") in Phase.__members__.values() else None
    if old is not None:
        if old.is_final or outcome.phase.rank < old.rank:
            return None
        if old is outcome.phase and current.get("reason") == outcome.reason:
            return None
    stamp = now_iso(now)
    patch: dict[str, Any] = {
        "phase": outcome.phase.value,
        "reason": outcome.reason,
        "message": outcome.message,
        "conditions": _conditions(current.get("conditions") or [], outcome, stamp, generation),
    }
    if generation is not None:
        patch["observedGeneration"] = generation
    if job_name:
        patch["jobName"] = job_name
    if result_url:
        patch["resultUrl"] = result_url
    if outcome.phase is Phase.PENDING and not current.get("progress"):
        patch["progress"] = "0%"
    if outcome.phase.rank >= 1 and not current.get("startTime"):
        patch["startTime"] = stamp
    if outcome.phase.is_final:
        patch["completionTime"] = stamp
    if outcome.phase is Phase.SUCCEEDED:
        patch["progress"] = "100%"
    return patch


def progress_text(frames_done: int, frames_total: int | None) -> str:
    """`"40%"` from the task row's counters (0% while the total is unknown)."""
    if not frames_total:
        return "0%"
    return f"{min(100, int(100 * frames_done / frames_total))}%"


def set_condition(
    current: list[Mapping[str, Any]],
    kind: str,
    status: bool,
    reason: str,
    message: str,
    *,
    generation: int | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]] | None:
    """`current` with the condition `kind` upserted, or None when it already says the same
    (its lastTransitionTime only moves when its status does)."""
    value = "True" if status else "False"
    old = next((dict(c) for c in current if c.get("type") == kind), None)
    same = old is not None and (old.get("status"), old.get("reason"), old.get("message")) == (value, reason, message)
    if same and old is not None and (generation is None or old.get("observedGeneration") == generation):
        return None
    new: dict[str, Any] = {"type": kind, "status": value, "reason": reason, "message": message}
    new["lastTransitionTime"] = old["lastTransitionTime"] if old and old.get("status") == value else now_iso(now)
    if generation is not None:
        new["observedGeneration"] = generation
    return [*(dict(c) for c in current if c.get("type") != kind), new]


def summary_of(counts: Mapping[str, int] | None, objects: Mapping[str, int] | None = None) -> dict[str, Any]:
    """status.summary from the task row's per-label counts and unique tracks (None: no tracker)."""
    detections = {str(k): int(v) for k, v in sorted((counts or {}).items())}
    tracks = {str(k): int(v) for k, v in sorted(objects.items())} if objects is not None else None
    return {
        "detections": detections,
        "detectionsTotal": sum(detections.values()),
        "objects": tracks,
        "objectsTotal": sum(tracks.values()) if tracks is not None else None,
    }
