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

The bookkeeping is bounded: the poll's query names at most `VA_LOCAL_CONCURRENCY` ids (the live
runs). Cancelling an ended task (an erasure, a retention sweep) records nothing; an open one is
kept out of the queue only until its row is no longer open (the API writes CANCELLED right after
the cancel), and at most `MAX_CANCELLING` at once.
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
from typing import TYPE_CHECKING, NamedTuple

from tortoise.expressions import Q

from api.dispatchers.deadline import OPEN, fail_overdue, fail_overdue_task, first_start
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
MAX_BACKOFF_SECONDS = 360.0  # a Job's back-off cap
# Cancelled open tasks whose CANCELLED is not written yet; past it the oldest is forgotten (its
# row, still open after so long, says that it is to run).
MAX_CANCELLING = 1000


class RunEnd(NamedTuple):
    """How a run ended: its exit code (None: it could not start), the end of its stderr (or
    why it did not start), and whether it was killed for running past the task's deadline."""

    code: int | None
    tail: str
    overdue: bool = False


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
            "VA_DATABASE_URL": settings.resolved_database_url,
            "VA_VIDEOS_DIR": str(settings.resolved_videos_dir),
            "VA_DATA_DIR": str(settings.data_dir.resolve()),
        }
        self._runs: dict[str, asyncio.Task[None]] = {}
        self._procs: dict[str, asyncio.subprocess.Process] = {}
        self._holders: dict[str, str] = {}  # task id -> lease holder name of its current run
        # Cancelled tasks whose rows are still open, oldest first: not picked (pruned by the poll).
        self._cancelled: dict[str, None] = {}
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def running(self) -> set[str]:
        """Ids of the tasks whose process is alive now."""
        return set(self._procs)

    async def start(self) -> None:
        """Start the queue loop (the server's start-up; a submit starts it too)."""
        if self._loop is None and not self._closing:
            self._loop = asyncio.create_task(self._poll_loop(), name=f"local-queue-{self.queue}")

    async def submit(self, task: Task) -> None:
        """The row is the queue entry (written with its queue name); wake the loop."""
        await self.start()
        self._wake.set()

    async def cancel(self, task: Task) -> None:
        """Stop the task's run (its process group) if it has one here; the caller writes
        CANCELLED. An ended task is not remembered: erasing thousands costs nothing."""
        key = str(task.id)
        if key not in self._runs and TaskStatus(task.status).is_final:
            return  # an ended task (erased, swept by retention): nothing runs, nothing to keep
        self._cancelled[key] = None  # not picked again while the API writes CANCELLED
        while len(self._cancelled) > MAX_CANCELLING:
            del self._cancelled[next(iter(self._cancelled))]
        proc = self._procs.get(key)
        if proc is not None:
            await _stop(proc)

    async def close(self) -> None:
        """Graceful stop: the runs release their leases and their tasks stay RUNNING; queued
        tasks stay PENDING. Both are picked up at the next start."""
        self._closing = True
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
        await asyncio.gather(*(_stop(p) for p in list(self._procs.values())))
        await asyncio.gather(*self._runs.values(), return_exceptions=True)

    async def _poll_loop(self) -> None:
        """Fill the free slots every VA_LOCAL_POLL_SECONDS, at once after a submit (`_wake`); a
        failed pass (the database away for a moment) is logged and the next tick retries."""
        await every(self._poll_s, self._fill, name=f"local queue {self.queue}: polling", logger=log, wake=self._wake)

    async def _fill(self) -> None:
        if self._closing:
            return
        await fail_overdue(self.queue, self._deadline_s, list(self._runs))
        if self._cancelled:
            rows = await Task.filter(id__in=list(self._cancelled), status__in=OPEN).values_list("id", flat=True)
            still_open = {str(task_id) for task_id in rows}
            self._cancelled = {key: None for key in self._cancelled if key in still_open}
        free = self._concurrency - len(self._runs)
        if free <= 0:
            return
        now = await db_now()
        query = (
            Task.filter(queue=self.queue, status__in=OPEN)
            .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now))
            .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
        )
        if self._runs:  # at most VA_LOCAL_CONCURRENCY ids; the cancelled ones are skipped below
            query = query.exclude(id__in=list(self._runs))
        picked = query.order_by("created_at").limit(free + len(self._cancelled))
        for task_id, position in await picked.values_list("id", "next_frame"):
            key = str(task_id)
            if key in self._cancelled or len(self._runs) >= self._concurrency:
                continue
            self._runs[key] = asyncio.create_task(self._run(key, position), name=f"local-run-{key}")

    async def _run(self, key: str, position: int) -> None:
        holder = f"local:{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self._holders[key] = holder
        try:
            started = await first_start(key)
            if started is None or key in self._cancelled or self._closing:
                return  # ended (or cancelled) since it was picked
            deadline = started + timedelta(seconds=self._deadline_s)
            end = RunEnd(None, "", overdue=True)
            if deadline > await db_now():
                end = await self._spawn_and_wait(key, holder, deadline)
            if key in self._cancelled:
                return
            if end.overdue:
                await fail_overdue_task(key, self._deadline_s)
            elif not self._closing:
                await self._settle(key, end, position)
        finally:
            # The child is gone: its lease (if it still holds one) is free for the next run.
            with contextlib.suppress(Exception):
                await release_holders([holder])
            self._runs.pop(key, None)
            self._holders.pop(key, None)
            self._wake.set()

    async def _spawn_and_wait(self, key: str, holder: str, deadline: datetime) -> RunEnd:
        """Run the job until it ends or the task's deadline passes (then its process group is
        killed). The code is None when it could not start, with the error in place of the tail."""
        try:
            proc = await asyncio.create_subprocess_exec(
                *self._command,
                "--task-id",
                key,
                env={**self._env, "VA_LEASE_HOLDER": holder},
                stdin=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            return RunEnd(None, f"{self._command[0]}: {exc}")
        self._procs[key] = proc
        tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        try:
            async with asyncio.timeout((deadline - await db_now()).total_seconds()):
                if proc.stderr is not None:  # always, with stderr=PIPE
                    async for raw in proc.stderr:
                        line = raw.decode("utf-8", "replace").rstrip()
                        log.debug("task %s: %s", key, line)
                        tail.append(line)
                return RunEnd(await proc.wait(), "\n".join(tail))
        except TimeoutError:
            await _stop(proc)
            return RunEnd(proc.returncode, "\n".join(tail), overdue=True)
        finally:
            self._procs.pop(key, None)
            if proc.returncode is None:  # cancelled while waiting: do not leave an orphan
                await _stop(proc)

    async def _settle(self, key: str, end: RunEnd, position: int) -> None:
        """A run ended: nothing to do if its task ended or another run holds it; else retry
        with back-off, or fail the task once the retries are spent."""
        code, tail = end.code, end.tail
        if code == JobExit.SUPERSEDED:
            return
        task = await Task.get_or_none(id=key)
        if task is None or TaskStatus(task.status).is_final:
            return
        reason = exit_reason(code)
        retries = task.retries + (0 if task.next_frame > position else 1)
        # The operator's side of the reason: what the job printed last (or why it did not start).
        detail = f"not started: {tail}" if code is None else f"exit code {code}, its stderr ends:\n{tail or '(empty)'}"
        if retries > self._backoff_limit:
            log.error("task %s failed, %s", key, detail)
            await transition(key, TaskStatus.FAILED, error=reason)
            return
        delay = backoff_delay(retries, self._backoff_s)
        log.warning("task %s: retry %d in %.0f s, %s", key, retries, delay, detail)
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
