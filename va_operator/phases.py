"""The resource's phase as a pure state machine: an `Outcome` in, the status patch of the move out.

Pending -> Running -> Succeeded | Failed. A phase never moves back and an ended resource
never changes again, so late or replayed watch events are harmless. Every move carries a
reason a person can read and shows up as a condition with its lastTransitionTime. While
Pending, the reason says why the Job waits: `Queued` (suspended behind a Kueue quota) or
`Unschedulable` (the scheduler's message), shown as the `Waiting` condition. Which outcome
the Job, its Pods and the task row stand for is `va_operator.outcomes`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from videoanalysis.params import frames_to_analyse
from videoanalysis.summary import TaskSummary
from videoanalysis.task_status import TaskStatus


class Phase(StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"

    @property
    def rank(self) -> int:
        """The phase's step in PHASE_ORDER; a resource never moves to a lower one."""
        return next(step for step, phases in enumerate(PHASE_ORDER) if self in phases)

    @property
    def is_final(self) -> bool:
        return self in PHASE_ORDER[-1]

    @property
    def task_status(self) -> TaskStatus:
        return TaskStatus(self.value.upper())


#: The steps a resource moves through, in order. Both endings are the last step: neither
#: follows the other.
PHASE_ORDER: tuple[frozenset[Phase], ...] = (
    frozenset({Phase.PENDING}),
    frozenset({Phase.RUNNING}),
    frozenset({Phase.SUCCEEDED, Phase.FAILED}),
)

#: Condition type set to True when a phase is entered.
CONDITION_OF = {
    Phase.PENDING: "JobCreated",
    Phase.RUNNING: "Running",
    Phase.SUCCEEDED: "Complete",
    Phase.FAILED: "Failed",
}
#: Pending reasons that say why the Job does not run yet (condition `Waiting`, the row's wait_reason).
UNSCHEDULABLE, QUEUED = "Unschedulable", "Queued"
WAITING = frozenset({UNSCHEDULABLE, QUEUED})


@dataclass(frozen=True)
class Outcome:
    phase: Phase
    reason: str
    message: str


def now_iso(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def condition_type(outcome: Outcome) -> str:
    return "Waiting" if outcome.phase is Phase.PENDING and outcome.reason in WAITING else CONDITION_OF[outcome.phase]


def _conditions(
    current: list[Mapping[str, Any]], outcome: Outcome, stamp: str, generation: int | None
) -> list[dict[str, Any]]:
    """Upsert the new phase's condition as True; an ending turns Running to False, and any move
    but another wait turns Waiting to False."""
    wanted = condition_type(outcome)
    result = [dict(c) for c in current if c.get("type") != wanted]
    for cond in result:
        if cond.get("status") != "True":
            continue
        if (outcome.phase.is_final and cond.get("type") == "Running") or cond.get("type") == "Waiting":
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
    if outcome.phase.rank >= Phase.RUNNING.rank and not current.get("startTime"):
        patch["startTime"] = stamp
    if outcome.phase.is_final:
        patch["completionTime"] = stamp
    if outcome.phase is Phase.SUCCEEDED:
        patch["progress"] = "100%"
    return patch


def percent_done(frames_done: int, frames_total: int | None) -> str:
    """status.progress, `"40%"`, from the task row's counters (0% while the total is unknown)."""
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


def summary_of(
    counts: Mapping[str, int] | None,
    objects: Mapping[str, int] | None = None,
    params: Mapping[str, Any] | None = None,
    zone_totals: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """status.summary from the task row's per-label counts and unique tracks (None: no tracker),
    with the zone and line totals of a task that has them."""
    return TaskSummary.of(counts, objects, params, zone_totals).as_status()


def shards_of(rows: Iterable[Mapping[str, Any]], stride: int) -> list[dict[str, Any]]:
    """status.shards from a sharded task's `task_shards` rows (index order): each shard's status
    as a phase word and its own counters. A shard that has not started has no count of its own
    yet; its range in the plan gives it (the run's own count may differ slightly at the end)."""
    return [
        {
            "index": row["index"],
            "phase": TaskStatus(row["status"]).value.title(),
            "framesDone": row["frames_done"] or 0,
            "framesTotal": row["frames_total"]
            or frames_to_analyse(row["end_frame"], stride) - frames_to_analyse(row["start_frame"], stride),
        }
        for row in sorted(rows, key=lambda r: r["index"])
    ]
