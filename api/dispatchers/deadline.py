"""The local queue's active deadline: a task's analysis, all its runs and retries together, ends
within `VA_LOCAL_ACTIVE_DEADLINE_SECONDS` of its first run's start, as a Kubernetes Job ends
within its `activeDeadlineSeconds` (the operator's default is the same 3600 s).

The start is the row's `started_at`, stamped when the first run is started (the job's lease
keeps it), so a restart of the server does not reset the deadline. It is stamped and read
with the database's clock, like the leases (`videoanalysis.clock`). Past the deadline the
run's process group is killed (see `LocalDispatcher`) and the task FAILED with
`deadline_reason`, never retried; an overdue task with no run here (waiting
for a retry, or run by an orphan of an earlier server, whose next heartbeat then stops it) is
failed by the poll.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from videoanalysis.clock import db_now
from videoanalysis.tables import Task
from videoanalysis.task_status import TaskStatus
from videoanalysis.transitions import transition

log = logging.getLogger(__name__)

OPEN = (TaskStatus.PENDING, TaskStatus.RUNNING)
SWEEP_BATCH = 100  # overdue tasks failed per poll; more wait for the next one


def deadline_reason(seconds: int) -> str:
    """The task's error, for its user."""
    return f"the analysis ran past its deadline of {seconds} s"


async def first_start(task_id: str) -> datetime | None:
    """When the task's first run started: stamped now when this is its first run. None when
    the task is no longer open."""
    await Task.filter(id=task_id, status__in=OPEN, started_at__isnull=True).update(started_at=await db_now())
    task = await Task.filter(id=task_id, status__in=OPEN).only("id", "started_at").first()
    return task.started_at if task is not None else None


async def fail_overdue_task(task_id: str, seconds: int) -> bool:
    """FAIL the task with the deadline's reason (False: it had already ended)."""
    if await transition(task_id, TaskStatus.FAILED, error=deadline_reason(seconds)) is None:
        return False
    log.error("task %s failed: it ran past its deadline of %d s", task_id, seconds)
    return True


async def fail_overdue(queue: str, seconds: int, running_here: list[str]) -> int:
    """FAIL the open tasks of the queue past their deadline, but those running here (whose
    process group is killed first, by their own run); returns how many were failed."""
    cutoff = await db_now() - timedelta(seconds=seconds)
    query = Task.filter(queue=queue, status__in=OPEN, started_at__lte=cutoff)
    if running_here:
        query = query.exclude(id__in=running_here)
    failed = 0
    for task_id in await query.limit(SWEEP_BATCH).values_list("id", flat=True):
        failed += await fail_overdue_task(str(task_id), seconds)
    return failed
