"""Dispatch that cannot be lost: the intent to dispatch is the task row's `dispatch_due_at`,
written in the same INSERT as the row, so an API that dies between the row and the dispatch
leaves a due intent, never a task PENDING for ever. The upload's Idempotency-Key is bound in
that INSERT's transaction (api.idempotency), so the client's retry answers this task while the
reconciler dispatches it, never a second task.

Whoever dispatches first claims the intent with a conditional update (due and unclaimed ->
claimed for `CLAIM_S`), so the request itself, this replica's reconciler and another
replica's never dispatch one task twice; a dispatch that went through clears it. The
reconciler runs at start-up and every VA_DISPATCH_POLL_SECONDS. Creating the resource is
idempotent too (409 for the same task is success), which covers a claim that expired while
its dispatch was in flight. The local dispatcher needs none of this: its queue is the table.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from datetime import timedelta

from api.dispatchers.base import Dispatcher, DispatchError
from videoanalysis.clock import db_now
from videoanalysis.periodic import every
from videoanalysis.tables import Task
from videoanalysis.task_status import TaskStatus
from videoanalysis.transitions import transition

# The name its log lines have always carried (log queries and alerts match on it).
log = logging.getLogger("api.dispatch_intents")
CLAIM_S = 60.0  # longer than one create call; a claim older than this is taken over
BACKOFF_S = 10.0  # an unreachable API server is tried again after this
BATCH = 50


async def claim(task_id: uuid.UUID) -> bool:
    """Take the task's due intent (True) or learn that someone else has it or it is done."""
    now = await db_now()
    moved = await Task.filter(id=task_id, status=TaskStatus.PENDING, dispatch_due_at__lte=now).update(
        dispatch_due_at=now + timedelta(seconds=CLAIM_S)
    )
    return moved == 1


async def clear(task_id: uuid.UUID) -> None:
    """The dispatch went through (or failed for good): no intent is left due."""
    await Task.filter(id=task_id).update(dispatch_due_at=None)


async def dispatch(task: Task, dispatcher: Dispatcher) -> None:
    """Submit a claimed task and clear its intent. DispatchError: the refusal is final (the
    task FAILED); any other error leaves the intent due again after BACKOFF_S."""
    try:
        await dispatcher.submit(task)
    except DispatchError as exc:
        if "unreachable" in str(exc):  # the API server, not the request: try again later
            await _retry_later(task.id)
            raise
        await transition(task.id, TaskStatus.FAILED, error=f"could not start the analysis: {exc}")
        await clear(task.id)
        raise
    except BaseException:
        await _retry_later(task.id)
        raise
    await clear(task.id)


async def _retry_later(task_id: uuid.UUID) -> None:
    with contextlib.suppress(Exception):
        await Task.filter(id=task_id).update(dispatch_due_at=await db_now() + timedelta(seconds=BACKOFF_S))


async def reconcile_once(dispatcher: Dispatcher) -> int:
    """Dispatch every due intent this replica can claim; returns how many it submitted."""
    due = await Task.filter(status=TaskStatus.PENDING, dispatch_due_at__lte=await db_now()).limit(BATCH)
    submitted = 0
    for task in due:
        if not await claim(task.id):
            continue  # another replica (or the request itself) has it
        try:
            await dispatch(task, dispatcher)
            submitted += 1
        except Exception as exc:
            log.warning("task %s: dispatch failed: %s", task.id, exc)
    if submitted:
        log.info("dispatched %d task(s) whose intent was left due", submitted)
    return submitted


async def reconcile_loop(dispatcher: Dispatcher, interval_s: float) -> None:
    """At start-up, then every `interval_s`: dispatch what an earlier process left due. A failed
    pass (the database away for a moment) is logged; the next one retries."""
    await every(interval_s, lambda: reconcile_once(dispatcher), name="dispatch reconciler pass", logger=log)
