"""The run's progress watchdog: a run that stops making progress ends itself.

Progress is judged phase by phase (`Pace`, pure, its clock passed in):
- loading the model (weights, warm-up) must end within VA_MODEL_LOAD_DEADLINE_S, and its first
  batch (compilation on first use, the first seek) must come within as long again;
- analysing: the next batch must come within VA_STALL_FACTOR times the batch time seen so far
  (the median of the recent intervals; the first batch's time until there is one), never sooner
  than VA_STALL_MIN_S. The expectation follows the model's own pace, so a slow but steady model
  on a CPU is not taken for a hung one, and a fast one that stops is noticed in minutes;
- anything else (the download, which has its minimum rate; the last writes, which have the
  database's timeouts) is not judged here.

A model stuck in a call cannot be interrupted in Python: it holds the model thread for good.
So on a stall the watchdog ends the run itself: the heartbeat stops renewing, the task is
recorded FAILED with the reason (fenced: a run that lost its lease records nothing), and the
process exits (`os._exit`) without waiting for the model thread. FAILED rather than a retriable
code: a model that hung on this video is likely to hang again at the same place, and each
retry would hold its slot (the local dispatcher's, a Job's Pod) for the whole stall limit
again; both dispatchers end the task at once on `FAILED`, with the reason the run wrote.

The same exit ends a run whose lease was lost (or whose task was cancelled) while it waits on
the model or the decoder: the pipeline notices the heartbeat's finding only at its next batch,
so after one heartbeat interval without that the process exits `SUPERSEDED` (or `OK`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import statistics
import sys
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import NoReturn

from inference_job.config import JobSettings
from inference_job.heartbeat import Heartbeat, LoopTask
from videoanalysis.exitcodes import JobExit
from videoanalysis.lease import LeaseLost, TaskStopped

log = logging.getLogger(__name__)

#: How long the stalled run may take to record its reason before it exits without it.
RECORD_TIMEOUT_S = 30.0
#: Batch intervals the expected batch time is the median of.
WINDOW = 16


def _secs(value: float) -> str:
    """Seconds as a person reads them: 130, 4.5, 0.25."""
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}" if value >= 1 else f"{value:.2g}"


class Pace:
    """Where the run is (`phase`), since when, and how long it may go without progress."""

    def __init__(self, load_deadline_s: float, stall_factor: float, stall_min_s: float) -> None:
        self.load_deadline_s, self.stall_factor, self.stall_min_s = load_deadline_s, stall_factor, stall_min_s
        self.phase: str | None = None  # None: not judged
        self.since = 0.0
        self.first_batch_s: float | None = None
        self.intervals: deque[float] = deque(maxlen=WINDOW)

    @classmethod
    def of(cls, settings: JobSettings) -> Pace:
        return cls(settings.model_load_deadline_s, settings.stall_factor, settings.stall_min_s)

    def loading(self, now: float) -> None:
        self.phase, self.since = "loading", now

    def loaded(self, now: float) -> None:
        self.phase, self.since = "first batch", now

    def batch(self, now: float) -> None:
        """A batch came out of the model (its results reached the writer)."""
        if self.phase == "first batch":
            self.first_batch_s = now - self.since
        elif self.phase == "analysing":
            self.intervals.append(now - self.since)
        self.phase, self.since = "analysing", now

    def idle(self) -> None:
        self.phase = None

    @property
    def expected_s(self) -> float | None:
        """The batch time expected now: the median of the recent intervals between batches
        (the first batch's time, compilation included, until there is one)."""
        return statistics.median(self.intervals) if self.intervals else self.first_batch_s

    def limit_s(self) -> float | None:
        """How long the current phase may go without progress (None: not judged)."""
        if self.phase is None:
            return None
        if self.phase in ("loading", "first batch"):
            return self.load_deadline_s
        return max(self.stall_min_s, self.stall_factor * (self.expected_s or 0.0))

    def overdue(self, now: float) -> str | None:
        """The reason the run stalled, or None while it is within its limit."""
        limit = self.limit_s()
        if limit is None or now - self.since < limit:
            return None
        if self.phase == "loading":
            return f"the model did not load within {_secs(limit)} s (VA_MODEL_LOAD_DEADLINE_S)"
        if self.phase == "first batch":
            return f"no first batch came out of the model within {_secs(limit)} s of its loading (VA_MODEL_LOAD_DEADLINE_S)"
        return (
            f"the analysis made no progress for {_secs(now - self.since)} s "
            f"(expected a batch every ~{_secs(self.expected_s or 0.0)} s): the model or the decoder hung"
        )


def hard_exit(code: int) -> NoReturn:
    """Leave the process now: a stuck model thread is never waited for."""
    logging.shutdown()
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    os._exit(int(code))


class Watchdog(LoopTask):
    """Judges the run's `Pace` while the run holds its lease (an async context around it).

    `fail(reason)` records the stall (the job's fenced FAILED) and returns the exit code."""

    task_name = "progress-watchdog"

    def __init__(
        self,
        pace: Pace,
        heartbeat: Heartbeat,
        fail: Callable[[str], Awaitable[int]],
        *,
        name: str = "run",
        clock: Callable[[], float] = time.monotonic,
        exit: Callable[[int], NoReturn] = hard_exit,
    ) -> None:
        self.pace, self._heartbeat, self._fail, self._name = pace, heartbeat, fail, name
        self._clock, self._exit = clock, exit

    def loading(self) -> None:
        self.pace.loading(self._clock())

    def loaded(self) -> None:
        self.pace.loaded(self._clock())

    def batch(self) -> None:
        self.pace.batch(self._clock())

    def idle(self) -> None:
        self.pace.idle()

    def _tick(self) -> float:
        shortest = min(self.pace.limit_s() or 10.0, self._heartbeat.interval_s)
        return min(1.0, max(0.05, shortest / 10))

    async def _loop(self) -> None:
        lost_at: float | None = None
        while True:
            await asyncio.sleep(self._tick())
            now = self._clock()
            reason = self.pace.overdue(now)
            if reason is not None:
                return await self._stalled(reason)
            if isinstance(self._heartbeat.error, (LeaseLost, TaskStopped)):
                lost_at = now if lost_at is None else lost_at
                if now - lost_at >= self._heartbeat.interval_s:
                    return self._lost(self._heartbeat.error)

    async def _stalled(self, reason: str) -> None:
        log.error("%s: %s; the run stops", self._name, reason)
        self._heartbeat.stop()
        # The recording runs on the event loop; should that loop itself be stuck, exit anyway.
        backstop = threading.Timer(RECORD_TIMEOUT_S + 5, hard_exit, (JobExit.FAILED,))
        backstop.daemon = True
        backstop.start()
        code: int = JobExit.FAILED
        try:
            async with asyncio.timeout(RECORD_TIMEOUT_S):
                code = await self._fail(reason)
        except Exception as exc:  # the database away: the lease expires, the reason is in the log
            log.error("%s: the stall could not be recorded (%s: %s)", self._name, type(exc).__name__, exc)
        log.error("%s: exiting %d without waiting for the model thread", self._name, code)
        try:
            self._exit(code)
        finally:  # reached only when `exit` returns (tests)
            backstop.cancel()

    def _lost(self, error: LeaseLost | TaskStopped) -> None:
        code = JobExit.SUPERSEDED if isinstance(error, LeaseLost) else JobExit.OK
        log.warning("%s: %s while the model or decoder was busy; exiting %d without waiting", self._name, error, code)
        self._exit(code)
