"""The embedded default: the task table is the queue; each task runs as a subprocess here
(`python -m inference_job --task-id ID`) under the lease the job takes.

A poll loop (woken at once by a submit) starts, oldest first and at most `VA_LOCAL_CONCURRENCY`
at a time, the tasks of this server's queue (`VA_LOCAL_QUEUE`) that are PENDING, or RUNNING
with no live lease: after any restart the interrupted ones resume from their last committed
frame and the queued ones start. A live lease (an orphan analysis of an earlier server still
running) is waited out, never doubled. A run that ends without the task ending (killed, crashed)
is retried with back-off, like a Job's Pods, up to `VA_LOCAL_BACKOFF_LIMIT` retries (a run that
advanced the committed position does not count), then the task is FAILED with the last reason:
a sentence for the user by exit code, never the job's stderr, whose last lines go to the server
log with the task id.
A task's runs and retries together are bounded by `VA_LOCAL_ACTIVE_DEADLINE_SECONDS` from its
first run's start (a Job's activeDeadlineSeconds, see `deadline.py`): past it the run's process
group is killed and the task FAILED with the deadline as its reason, never retried.
A graceful stop SIGTERMs the runs, which release their leases: the tasks stay RUNNING and
resume at the next start. Each run has its own process group, so cancel stops all it started.

A task whose parameters ask for K > 1 shards runs as K processes (`--shards K --shard i`), each
taking a slot, so a task's shards may start in waves; each shard is retried alone with its own
back-off (see `local_runs.py`), under the task's one deadline. Cancel, the deadline, and a task
that ends meanwhile (a shard failed it, the merge ended it) stop all of its processes.

The bookkeeping is bounded: the poll's query names at most `VA_LOCAL_CONCURRENCY` ids (the live
runs), and failed shards are kept only while their tasks are open. Cancelling an ended task (an
erasure, a retention sweep) records nothing; an open one is kept out of the queue only until its
row is no longer open (the API writes CANCELLED right after the cancel), and at most
`MAX_CANCELLING` at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import uuid
from collections import deque
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tortoise.expressions import Q

from api.dispatchers.deadline import OPEN, fail_overdue, fail_overdue_task, first_start
from api.dispatchers.local_runs import (
    Run,
    RunEnd,
    ShardRetries,
    asked_shards,
    backoff_delay,
    exit_reason,
    release_shard_holders,
    run_key,
    settle_shard,
    shard_of,
    shard_rows,
    shards_to_start,
    task_of,
)
from videoanalysis.clock import db_now
from videoanalysis.exitcodes import JobExit
from videoanalysis.lease import release_holders
from videoanalysis.periodic import every
from videoanalysis.tables import Task
from videoanalysis.task_status import TaskStatus
from videoanalysis.transitions import transition

if TYPE_CHECKING:
    from api.config import ApiSettings

log = logging.getLogger(__name__)

STDERR_TAIL_LINES = 15
KILL_GRACE_SECONDS = 5.0
# Cancelled open tasks whose CANCELLED is not written yet; past it the oldest is forgotten (its
# row, still open after so long, says that it is to run).
MAX_CANCELLING = 1000


class LocalDispatcher:
    """Runs analyses as child processes of the API; see the module docstring."""

    name = "local"

    def __init__(self, settings: ApiSettings, *, command: Sequence[str] | None = None) -> None:
        # `command` replaces the job entry point (the task id is appended as --task-id ID).
        self._command = list(command or [sys.executable, "-m", "inference_job"])
        self.queue = settings.local_queue
        self._concurrency = settings.local_concurrency
        self._backoff_limit = settings.local_backoff_limit
        self._backoff_s = settings.local_backoff_seconds
        self._poll_s = settings.local_poll_seconds
        self._deadline_s = settings.local_active_deadline_seconds
        self._env = {
            **os.environ,
            **settings.video_url_env(),
            **settings.zone_limits_env(),
            "VA_DATABASE_URL": settings.resolved_database_url,
            "VA_VIDEOS_DIR": str(settings.resolved_videos_dir),
            "VA_DATA_DIR": str(settings.data_dir.resolve()),
        }
        # Keyed by run key (`local_runs.run_key`): the task id, or `ID/i` for its shard i.
        self._runs: dict[str, asyncio.Task[None]] = {}
        self._procs: dict[str, asyncio.subprocess.Process] = {}
        self._holders: dict[str, str] = {}  # run key -> lease holder name of that run
        self._shard_retries = ShardRetries()
        # Cancelled tasks whose rows are still open, oldest first: not picked (pruned by the poll).
        self._cancelled: dict[str, None] = {}
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def running(self) -> set[str]:
        """Ids of the tasks with a process alive now."""
        return {task_of(key) for key in self._procs}

    async def start(self) -> None:
        """Start the queue loop (the server's start-up; a submit starts it too)."""
        if self._loop is None and not self._closing:
            self._loop = asyncio.create_task(self._poll_loop(), name=f"local-queue-{self.queue}")

    async def submit(self, task: Task) -> None:
        """The row is the queue entry (written with its queue name); wake the loop."""
        await self.start()
        self._wake.set()

    async def cancel(self, task: Task) -> None:
        """Stop the task's runs (their process groups) if it has any here; the caller writes
        CANCELLED. An ended task is not remembered: erasing thousands costs nothing."""
        key = str(task.id)
        if not self._keys_of(key) and TaskStatus(task.status).is_final:
            return  # an ended task (erased, swept by retention): nothing runs, nothing to keep
        self._cancelled[key] = None  # not picked again while the API writes CANCELLED
        while len(self._cancelled) > MAX_CANCELLING:
            del self._cancelled[next(iter(self._cancelled))]
        self._shard_retries.forget(key)
        await self._stop_task(key)

    async def close(self) -> None:
        """Graceful stop: the runs release their leases and their tasks stay RUNNING; queued
        tasks stay PENDING. Both are picked up at the next start."""
        self._closing = True
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
        await asyncio.gather(*(_stop(p) for p in list(self._procs.values())))
        await asyncio.gather(*self._runs.values(), return_exceptions=True)

    def _keys_of(self, task_id: str) -> list[str]:
        """The task's runs here (at most VA_LOCAL_CONCURRENCY keys to look through)."""
        return [key for key in self._runs if task_of(key) == task_id]

    async def _stop_task(self, task_id: str) -> None:
        """Stop every process of the task (its shards', or its one run's)."""
        await asyncio.gather(*(_stop(p) for key, p in list(self._procs.items()) if task_of(key) == task_id))

    async def _poll_loop(self) -> None:
        """Fill the free slots every VA_LOCAL_POLL_SECONDS, at once after a submit (`_wake`); a
        failed pass (the database away for a moment) is logged and the next tick retries."""
        await every(self._poll_s, self._fill, name=f"local queue {self.queue}: polling", logger=log, wake=self._wake)

    async def _fill(self) -> None:
        if self._closing:
            return
        await fail_overdue(self.queue, self._deadline_s, list({task_of(key) for key in self._runs}))
        await self._prune()
        free = self._concurrency - len(self._runs)
        if free <= 0:
            return
        now = await db_now()
        query = (
            Task.filter(queue=self.queue, status__in=OPEN)
            .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now))
            .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
        )
        whole = [key for key in self._runs if shard_of(key) is None]
        if whole:  # at most VA_LOCAL_CONCURRENCY ids; the cancelled ones are skipped below
            query = query.exclude(id__in=whole)
        # A sharded task with runs here is picked again: more of its shards may be due.
        sharded = {task_of(key) for key in self._runs if shard_of(key) is not None}
        picked = query.order_by("created_at").limit(free + len(self._cancelled) + len(sharded))
        for task_id, position, params in await picked.values_list("id", "next_frame", "params"):
            key = str(task_id)
            if key in self._cancelled or len(self._runs) >= self._concurrency:
                continue
            asked = asked_shards(params)
            if asked > 1:
                await self._start_shards(key, asked, now)
            else:
                self._launch(Run(key, key, None, 1, position))

    async def _prune(self) -> None:
        """Forget the cancelled tasks and the failed shards of tasks no longer open, and stop
        the processes of sharded tasks that ended meanwhile (their runs are fenced out)."""
        if self._cancelled:
            rows = await Task.filter(id__in=list(self._cancelled), status__in=OPEN).values_list("id", flat=True)
            still_open = {str(task_id) for task_id in rows}
            self._cancelled = {key: None for key in self._cancelled if key in still_open}
        sharded = {task_of(key) for key in self._procs if shard_of(key) is not None}
        watched = sharded | self._shard_retries.tasks()
        if not watched:
            return
        rows = await Task.filter(id__in=list(watched), status__in=OPEN).values_list("id", flat=True)
        ended = watched - {str(task_id) for task_id in rows}
        for task_id in ended:
            self._shard_retries.forget(task_id)
        await asyncio.gather(*(self._stop_task(task_id) for task_id in ended & sharded))

    async def _start_shards(self, task_id: str, asked: int, now: datetime) -> None:
        """Start the task's shards that are due, in index order, while slots are free."""
        rows = await shard_rows(task_id)
        here = {i for key in self._keys_of(task_id) if (i := shard_of(key)) is not None}
        waiting = self._shard_retries.waiting(task_id, asyncio.get_running_loop().time())
        by_index = {row.index: row for row in rows}
        for index in shards_to_start(asked, rows, here, waiting, now):
            if len(self._runs) >= self._concurrency:
                return
            row = by_index.get(index)
            self._launch(Run(run_key(task_id, index), task_id, index, asked, row.next_frame if row else None))

    def _launch(self, run: Run) -> None:
        self._runs[run.key] = asyncio.create_task(self._run(run), name=f"local-run-{run.key}")

    async def _run(self, run: Run) -> None:
        holder = f"local:{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self._holders[run.key] = holder
        try:
            started = await first_start(run.task)
            if started is None or run.task in self._cancelled or self._closing:
                return  # ended (or cancelled) since it was picked
            deadline = started + timedelta(seconds=self._deadline_s)
            end = RunEnd(None, "", overdue=True)
            if deadline > await db_now():
                end = await self._spawn_and_wait(run, holder, deadline)
            if run.task in self._cancelled:
                return
            if end.overdue:
                await fail_overdue_task(run.task, self._deadline_s)
                await self._stop_task(run.task)  # its other shards, if any
            elif self._closing:
                return  # stopped on purpose: the next start resumes it
            elif run.shard is None:
                await self._settle(run.task, end, run.position or 0)
            elif await settle_shard(run, end, self._shard_retries, self._backoff_limit, self._backoff_s):
                await self._stop_task(run.task)  # the task ended: its other shards are fenced out
        finally:
            # The child is gone: its lease (if it still holds one) is free for the next run.
            with contextlib.suppress(Exception):
                await release_holders([holder])
            if run.shard is not None:
                with contextlib.suppress(Exception):
                    await release_shard_holders([holder])
            self._runs.pop(run.key, None)
            self._holders.pop(run.key, None)
            self._wake.set()

    async def _spawn_and_wait(self, run: Run, holder: str, deadline: datetime) -> RunEnd:
        """Run the job until it ends or the task's deadline passes (then its process group is
        killed). The code is None when it could not start, with the error in place of the tail."""
        try:
            proc = await asyncio.create_subprocess_exec(
                *self._command,
                *run.args(),
                env={**self._env, "VA_LEASE_HOLDER": holder},
                stdin=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            return RunEnd(None, f"{self._command[0]}: {exc}")
        self._procs[run.key] = proc
        tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        try:
            async with asyncio.timeout((deadline - await db_now()).total_seconds()):
                if proc.stderr is not None:  # always, with stderr=PIPE
                    async for raw in proc.stderr:
                        line = raw.decode("utf-8", "replace").rstrip()
                        log.debug("task %s: %s", run.key, line)
                        tail.append(line)
                return RunEnd(await proc.wait(), "\n".join(tail))
        except TimeoutError:
            await _stop(proc)
            return RunEnd(proc.returncode, "\n".join(tail), overdue=True)
        finally:
            self._procs.pop(run.key, None)
            if proc.returncode is None:  # cancelled while waiting: do not leave an orphan
                await _stop(proc)

    async def _settle(self, key: str, end: RunEnd, position: int) -> None:
        """A run ended: nothing to do if its task ended or another run holds it; else retry
        with back-off, or fail the task once the retries are spent."""
        code = end.code
        if code == JobExit.SUPERSEDED:
            return
        task = await Task.get_or_none(id=key)
        if task is None or TaskStatus(task.status).is_final:
            return
        reason = exit_reason(code)
        retries = task.retries + (0 if task.next_frame > position else 1)
        if retries > self._backoff_limit:
            log.error("task %s failed, %s", key, end.detail())
            await transition(key, TaskStatus.FAILED, error=reason)
            return
        delay = backoff_delay(retries, self._backoff_s)
        log.warning("task %s: retry %d in %.0f s, %s", key, retries, delay, end.detail())
        await Task.filter(id=key, status__in=OPEN).update(
            retries=retries, retry_at=await db_now() + timedelta(seconds=delay), error=f"retrying: {reason}"
        )


async def _stop(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM the process group, then SIGKILL it after a grace period."""
    if proc.returncode is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            await asyncio.wait_for(proc.wait(), KILL_GRACE_SECONDS)
            return
        except TimeoutError:
            continue
