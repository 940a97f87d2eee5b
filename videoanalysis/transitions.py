"""Moving a task through its status machine (`videoanalysis.task_status`) under a lock on its row;
used by the API, the job and the operator alike."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from tortoise.transactions import in_transaction

from videoanalysis.clock import db_now
from videoanalysis.tables import Task, WebhookDelivery
from videoanalysis.task_status import TaskStatus, can_move

if TYPE_CHECKING:
    from videoanalysis.lease import Lease


async def transition(
    task_id: uuid.UUID | str,
    status: TaskStatus,
    *,
    error: str | None = None,
    fence: Lease | None = None,
    **fields: Any,
) -> Task | None:
    """Move the task to `status` if the state machine allows it, under a row lock.

    Returns the updated task, or None when the move is not allowed (an ended task stays
    ended: a late RUNNING after CANCELLED is ignored) or the task does not exist.
    Extra keyword arguments are written in the same update (e.g. frames_total=...).
    An ending of a task with a callback URL queues its webhook in the same transaction.
    `fence`: only if that run still holds the task's lease (None otherwise). An ending frees
    the lease.
    """
    async with in_transaction() as conn:
        task = await Task.filter(id=task_id).using_db(conn).select_for_update().first()
        if task is None or not can_move(TaskStatus(task.status), status):
            return None
        if fence is not None and (task.lease_attempt, task.lease_holder) != (fence.attempt, fence.holder):
            return None
        now = await db_now(conn)
        task.status = status
        if status is TaskStatus.RUNNING and task.started_at is None:
            task.started_at = now
        if status.is_final:
            task.finished_at = now
            task.lease_holder = task.lease_expires_at = task.retry_at = None
        if error is not None:
            task.error = error
        for name, value in fields.items():
            setattr(task, name, value)
        await task.save(using_db=conn)
        if status.is_final and task.callback_url:
            await WebhookDelivery.create(task=task, url=task.callback_url, next_attempt_at=now, using_db=conn)
        return task
