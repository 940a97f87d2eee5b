"""The local queue's runs of a task cut into shards: one process a shard
(`python -m inference_job --task-id ID --shards K --shard i`), named, counted and retried one by
one, as an Indexed Job with `backoffLimitPerIndex` runs its Pods.

A run is named by its key: the task's id for a whole task, `ID/i` for its shard i. Which shards
a task needs now (`shards_to_start`) follows from its `task_shards` rows: all K asked before the
plan (the first run of each makes or reads it), then every row not SUCCEEDED and every index
whose last run failed (its row SUCCEEDED: its merge stopped, and a rerun of it only merges);
less those running here, those held by another process's live lease (an orphan of an earlier
server, waited out) and those waiting out their back-off. All rows SUCCEEDED, the task still
open and nothing of it running here: the process merging them died, so shard 0 runs again
and merges.

A shard's retries are counted here, in memory (its row has no place for them): a crash counts
unless the shard's committed position advanced. A restart of the server counts afresh, as the
shards' rows keep their positions. How any run ended, and what the task's user is told of it
(`RunEnd`, `exit_reason`, `backoff_delay`), is shared with the runs of whole tasks.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from tortoise.expressions import F

from api.dispatchers.deadline import OPEN
from videoanalysis.exitcodes import JobExit
from videoanalysis.tables import Task, TaskShard
from videoanalysis.task_status import TaskStatus
from videoanalysis.transitions import transition

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 360.0  # a Job's back-off cap


class RunEnd(NamedTuple):
    """How a run ended: its exit code (None: it could not start), the end of its stderr (or
    why it did not start), and whether it was killed for running past the task's deadline."""

    code: int | None
    tail: str
    overdue: bool = False

    def detail(self) -> str:
        """The operator's side of the reason: what the job printed last (or why it did not start)."""
        if self.code is None:
            return f"not started: {self.tail}"
        return f"exit code {self.code}, its stderr ends:\n{self.tail or '(empty)'}"


def exit_reason(code: int | None) -> str:
    """Why a run ended without its task ending, written for the task's user.

    Never the job's stderr: it holds tracebacks, paths and driver messages (which may name the
    database host); that goes to the server log, under the task id.
    """
    if code is None:
        what = "could not start the analysis process"
    elif code < 0:
        try:
            name = f"{signal.Signals(-code).name}, {-code}"
        except ValueError:
            name = str(-code)
        what = f"the analysis was stopped by a signal ({name})"
    elif code == JobExit.OK:
        what = "the analysis ended without recording a result"
    elif code == JobExit.INTERRUPTED:
        what = f"the analysis was interrupted before the end (exit code {code})"
    elif code == JobExit.NO_TASK:
        what = f"the analysis could not find its task (exit code {code})"
    elif code == JobExit.FAILED:
        what = f"the analysis failed without recording why (exit code {code})"
    else:
        what = f"the analysis stopped unexpectedly (exit code {code})"
    return f"{what}; the server log has the details"


def backoff_delay(retries: int, base_s: float) -> float:
    """10 s, 20 s, 40 s... (with the default base), capped like a Job's."""
    return min(MAX_BACKOFF_SECONDS, base_s * 2 ** max(retries - 1, 0))


class Run(NamedTuple):
    """One process to start: its key, its task, its shard (None: the whole task) of the
    `asked` count, and the committed position it starts from (None: no shard row yet)."""

    key: str
    task: str
    shard: int | None
    asked: int
    position: int | None

    def args(self) -> list[str]:
        """The job's arguments."""
        if self.shard is None:
            return ["--task-id", self.task]
        return ["--task-id", self.task, "--shards", str(self.asked), "--shard", str(self.shard)]


@dataclass(frozen=True, slots=True)
class ShardRow:
    index: int
    status: str
    lease_holder: str | None
    lease_expires_at: datetime | None
    next_frame: int
    preroll_start: int


def run_key(task: str, shard: int | None) -> str:
    return task if shard is None else f"{task}/{shard}"


def task_of(key: str) -> str:
    return key.split("/", 1)[0]


def shard_of(key: str) -> int | None:
    _, sep, index = key.partition("/")
    return int(index) if sep else None


def asked_shards(params: Mapping[str, Any] | None) -> int:
    """The shards a task's parameters ask for (the API stored an integer; older rows have none)."""
    value = (params or {}).get("shards", 1)
    return value if isinstance(value, int) and value > 1 else 1


def shards_to_start(
    asked: int,
    rows: Sequence[ShardRow],
    here: set[int],
    backing_off: Mapping[int, bool],
    now: datetime,
) -> list[int]:
    """The shard indexes of a task to start now, lowest first (see the module docstring).

    `here`: indexes with a run here; `backing_off`: indexes whose last run failed, True while
    their back-off lasts; `now`: the database's time, for the rows' leases."""
    needed = {r.index for r in rows if r.status != TaskStatus.SUCCEEDED} if rows else set(range(asked))
    needed |= set(backing_off)
    if rows and not needed and not here:
        needed = {0}  # only the merge is left, and nobody here runs it
    held = {r.index for r in rows if r.lease_holder and r.lease_expires_at is not None and r.lease_expires_at > now}
    return sorted(needed - here - held - {i for i, waiting in backing_off.items() if waiting})


def advanced(position: int | None, row: ShardRow | None) -> bool:
    """Whether a shard's run committed frames past where it started."""
    if row is None:
        return False
    return row.next_frame > (position if position is not None else row.preroll_start)


async def shard_rows(task: str) -> list[ShardRow]:
    """The task's shard rows, by index (none before its plan)."""
    rows = await (
        TaskShard.filter(task_id=task)
        .order_by("index")
        .values_list("index", "status", "lease_holder", "lease_expires_at", "next_frame", "preroll_start")
    )
    return [ShardRow(*r) for r in rows]


async def release_shard_holders(holders: list[str]) -> int:
    """Free the shard leases of runs known to be gone (this dispatcher's own children)."""
    return await TaskShard.filter(lease_holder__in=holders, status=TaskStatus.RUNNING).update(
        lease_holder=None, lease_expires_at=None
    )


class ShardRetries:
    """The shards whose last run failed: their counted retries and when each may run again
    (the event loop's clock). Kept only while their task is open (`forget`)."""

    def __init__(self) -> None:
        self._by: dict[tuple[str, int], tuple[int, float]] = {}

    def count(self, task: str, shard: int) -> int:
        return self._by.get((task, shard), (0, 0.0))[0]

    def schedule(self, task: str, shard: int, retries: int, after: float) -> None:
        self._by[(task, shard)] = (retries, after)

    def waiting(self, task: str, now: float) -> dict[int, bool]:
        """The task's failed shards, each True while its back-off lasts."""
        return {shard: after > now for (t, shard), (_, after) in self._by.items() if t == task}

    def clear(self, task: str, shard: int) -> None:
        self._by.pop((task, shard), None)

    def forget(self, task: str) -> None:
        for key in [k for k in self._by if k[0] == task]:
            del self._by[key]

    def tasks(self) -> set[str]:
        return {task for task, _ in self._by}


async def settle_shard(run: Run, end: RunEnd, book: ShardRetries, limit: int, base_s: float) -> bool:
    """A shard's run ended (not for the deadline, nor a stop): nothing to do if another run
    holds it or it is done; else that shard alone is retried after its back-off, or the task
    FAILED once its retries pass `limit` (the task's `retries` adds up its shards'). True when
    the task has ended, so that its other processes are stopped."""
    task_id, index = run.task, run.shard
    if end.code == JobExit.SUPERSEDED or index is None:
        return False
    task = await Task.get_or_none(id=task_id)
    if task is None or TaskStatus(task.status).is_final:
        book.forget(task_id)
        return True
    rows = {row.index: row for row in await shard_rows(task_id)}
    row = rows.get(index)
    if end.code == JobExit.OK and (row.status == TaskStatus.SUCCEEDED if row else bool(rows)):
        book.clear(task_id, index)  # done (or past the plan: nothing to do)
        return False
    reason = f"shard {index}: {exit_reason(end.code)}"
    counted = 0 if advanced(run.position, row) else 1
    retries = book.count(task_id, index) + counted
    if retries > limit:
        log.error("task %s shard %d failed, %s", task_id, index, end.detail())
        await transition(task_id, TaskStatus.FAILED, error=reason)
        book.forget(task_id)
        return True
    delay = backoff_delay(retries, base_s)
    log.warning("task %s shard %d: retry %d in %.0f s, %s", task_id, index, retries, delay, end.detail())
    book.schedule(task_id, index, retries, asyncio.get_running_loop().time() + delay)
    await Task.filter(id=task_id, status__in=OPEN).update(retries=F("retries") + counted, error=f"retrying: {reason}")
    return False
