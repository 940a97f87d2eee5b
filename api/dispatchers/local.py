"""The embedded default: run `python -m inference_job --task-id ID` as a subprocess here.

Each run gets its own process group (so cancel stops the job and anything it started), at most
`VA_LOCAL_CONCURRENCY` run at once (the rest wait their turn), and a run that ends without the
job having recorded an outcome is marked FAILED with the tail of its stderr, never left PENDING.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING

from videoanalysis.models import Task
from videoanalysis.status import TaskStatus
from videoanalysis.tasks import transition

if TYPE_CHECKING:
    from api.config import ApiSettings

log = logging.getLogger(__name__)

STDERR_TAIL_LINES = 15
KILL_GRACE_SECONDS = 5.0


class LocalDispatcher:
    """Runs analyses as child processes of the API; see the module docstring."""

    name = "local"

    def __init__(self, settings: ApiSettings, *, command: Sequence[str] | None = None) -> None:
        # `command` replaces the job entry point (the task id is appended as --task-id ID).
        self._command = list(command or [sys.executable, "-m", "inference_job"])
        self._slots = asyncio.Semaphore(settings.local_concurrency)
        self._env = {
            **os.environ,
            **settings.video_url_env(),
            "VA_DATABASE_URL": settings.resolved_database_url,
            "VA_VIDEOS_DIR": str(settings.resolved_videos_dir),
            "VA_DATA_DIR": str(settings.data_dir.resolve()),
        }
        self._runs: dict[str, asyncio.Task[None]] = {}
        self._procs: dict[str, asyncio.subprocess.Process] = {}
        self._cancelled: set[str] = set()

    @property
    def running(self) -> set[str]:
        """Ids of the tasks whose process is alive now."""
        return set(self._procs)

    async def submit(self, task: Task) -> None:
        key = str(task.id)
        if key not in self._runs:
            self._runs[key] = asyncio.create_task(self._run(key), name=f"local-run-{key}")

    async def cancel(self, task: Task) -> None:
        key = str(task.id)
        self._cancelled.add(key)
        proc = self._procs.get(key)
        if proc is not None:
            await _stop(proc)

    async def close(self) -> None:
        """Stop every child; tasks still open are marked FAILED (nothing will finish them)."""
        keys = list(self._runs)
        self._cancelled.update(keys)
        await asyncio.gather(*(_stop(p) for p in list(self._procs.values())))
        for run in list(self._runs.values()):
            run.cancel()
        await asyncio.gather(*self._runs.values(), return_exceptions=True)
        for key in keys:
            await transition(key, TaskStatus.FAILED, error="the service stopped before the analysis finished")

    async def _run(self, key: str) -> None:
        try:
            async with self._slots:
                if key in self._cancelled:
                    return
                code, tail = await self._spawn_and_wait(key)
            if key not in self._cancelled:
                await self._settle(key, code, tail)
        finally:
            self._runs.pop(key, None)
            self._cancelled.discard(key)

    async def _spawn_and_wait(self, key: str) -> tuple[int | None, str]:
        """Run the job; returns (exit code, stderr tail); code None when it could not start."""
        try:
            proc = await asyncio.create_subprocess_exec(
                *self._command,
                "--task-id",
                key,
                env=self._env,
                stdin=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            return None, f"could not start the analysis process: {exc}"
        self._procs[key] = proc
        try:
            tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
            if proc.stderr is not None:  # always, with stderr=PIPE
                async for raw in proc.stderr:
                    line = raw.decode("utf-8", "replace").rstrip()
                    log.debug("task %s: %s", key, line)
                    tail.append(line)
            return await proc.wait(), "\n".join(tail)
        finally:
            self._procs.pop(key, None)
            if proc.returncode is None:  # cancelled while waiting: do not leave an orphan
                await _stop(proc)

    async def _settle(self, key: str, code: int | None, tail: str) -> None:
        """Record a failure the job itself could not record (crash, missing entry point...)."""
        if code is None:
            reason = tail
        elif code < 0:
            reason = f"the analysis process was killed by signal {-code}"
        elif code != 0:
            reason = f"the analysis process exited with code {code}"
        else:
            task = await Task.get_or_none(id=key)
            if task is None or TaskStatus(task.status).is_final:
                return
            reason = "the analysis process exited without recording a result"
        if code is not None and tail:
            reason += f": {tail}"
        # Ignored by the state machine when the job already recorded its own outcome.
        await transition(key, TaskStatus.FAILED, error=reason)


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
