"""The operator's reads and writes of a bound task row: the outcome of a move (with why a
PENDING row's Job waits), the counters the status mirrors, the spec snapshot edits are compared
with, and the cancel when the resource is deleted. Binding a resource to its row in the first
place is `va_operator.taskrow`'s.

The row is the truth: each status written to it goes through `videoanalysis.transitions.transition`
(the task state machine, under a row lock), and what the resource shows is settled from the
row after the write (`outcomes.settle`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from va_operator import taskrow
from va_operator.outcomes import ERASED, settle
from va_operator.phases import WAITING, Outcome, Phase, percent_done, shards_of, summary_of
from videoanalysis import transitions
from videoanalysis.k8s.resource import task_id_of
from videoanalysis.tables import Task, TaskShard
from videoanalysis.task_status import TaskStatus


async def write_row(task_id: str, outcome: Outcome) -> Outcome:
    """Write `outcome` to the task row (a no-op when the row already ended) and return what
    the resource must show: the row's own ending wins, and a row that no longer exists is
    ERASED (never a success: nothing is left to show). Only the job itself records success: a
    Job that completed while the row is still open failed to record its result."""
    status = outcome.phase.task_status
    if status is not TaskStatus.FAILED:
        await write_wait(task_id, outcome)
    if status in (TaskStatus.RUNNING, TaskStatus.FAILED):
        await transitions.transition(task_id, status, error=outcome.message if status is TaskStatus.FAILED else None)
    row = await Task.filter(id=task_id).first().values("status", "error")
    if not row:
        return ERASED
    settled = settle(outcome, row["status"], row["error"])
    if settled.phase is Phase.FAILED and not TaskStatus(row["status"]).is_final:
        await transitions.transition(task_id, TaskStatus.FAILED, error=settled.message)
    return settled


async def write_wait(task_id: str, outcome: Outcome) -> None:
    """Why a PENDING row's Job waits, for the API to say (cleared by any other move).

    The clear runs on every other move, not only when the resource shows a wait: the row is
    written before the resource, so a wait the resource never showed may still be in the row."""
    if outcome.phase is Phase.PENDING and outcome.reason in WAITING:
        await Task.filter(id=task_id, status=TaskStatus.PENDING).update(
            wait_reason=outcome.reason, wait_message=outcome.message
        )
    else:
        await Task.filter(id=task_id, wait_reason__isnull=False).update(wait_reason=None, wait_message=None)


async def row_counters(task_id: str) -> dict[str, Any] | None:
    """Progress and the detection summary of the task row (None without a row), and each
    shard's phase and counters when the task was planned in more than one (progress stays the
    whole task's: the shards add their frames to the task row)."""
    row = await (
        Task.filter(id=task_id)
        .first()
        .values("frames_done", "frames_total", "detections", "objects", "shards", "params", "zone_totals")
    )
    if not row:
        return None
    counters = {
        "progress": percent_done(row["frames_done"] or 0, row["frames_total"]),
        "framesDone": row["frames_done"] or 0,
        "framesTotal": row["frames_total"],
        "summary": summary_of(row["detections"], row["objects"], row["params"], row["zone_totals"]),
    }
    if (row["shards"] or 1) > 1:
        shards = await TaskShard.filter(task_id=task_id).values(
            "index", "status", "frames_done", "frames_total", "start_frame", "end_frame"
        )
        counters["shards"] = shards_of(shards, int((row["params"] or {}).get("frame_stride") or 1))
    return counters


async def spec_changes(body: Mapping[str, Any], default_model: str) -> list[str] | None:
    """The spec fields that differ from the task row's snapshot (`taskrow.spec_changes`);
    None without a row."""
    task = await Task.get_or_none(id=task_id_of(body))
    if task is None:
        return None
    return taskrow.spec_changes(body.get("spec") or {}, task, default_model)


async def cancel_task(body: Mapping[str, Any]) -> bool:
    """The resource is being deleted: its task (`status.taskId`, none until the operator bound
    one; never `spec.taskId`, which anyone can write) ends CANCELLED unless it already ended."""
    task_id = task_id_of(body)
    if not task_id:
        return False
    moved = await transitions.transition(
        task_id, TaskStatus.CANCELLED, error="cancelled: the VideoAnalysis resource was deleted"
    )
    return moved is not None
