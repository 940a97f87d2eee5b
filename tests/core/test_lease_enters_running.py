"""Taking the lease moves a task into RUNNING under the state machine's rule, the same one
`transition` keeps: an ended task is never leased back into RUNNING, nor its lease taken."""

from __future__ import annotations

import pytest

from tests.support.job_harness import JobHarness
from videoanalysis.lease import TaskStopped, acquire
from videoanalysis.tables import Task
from videoanalysis.task_status import TaskStatus
from videoanalysis.transitions import transition


async def task_in(harness: JobHarness, status: TaskStatus) -> Task:
    task = await harness.task("none.mp4")
    await Task.filter(id=task.id).update(status=status)
    return task


@pytest.mark.parametrize("status", list(TaskStatus))
async def test_acquire_enters_running_exactly_where_transition_does(harness: JobHarness, status: TaskStatus) -> None:
    moved = await transition((await task_in(harness, status)).id, TaskStatus.RUNNING) is not None
    task = await task_in(harness, status)
    try:
        lease = await acquire(task.id, "run-a", ttl_s=30)
    except TaskStopped:
        leased = False
    else:
        leased = True
        assert lease.attempt == 1
    assert leased == moved == (not status.is_final)
    row = await Task.get(id=task.id)
    if leased:
        assert (row.status, row.lease_holder, row.lease_attempt) == (TaskStatus.RUNNING, "run-a", 1)
    else:  # refused: the ending and its timestamps stay as they were, no lease is taken
        assert (row.status, row.lease_holder, row.lease_attempt, row.started_at) == (status, None, 0, None)
