"""A run that stops making progress ends itself (`inference_job/watchdog.py`): the real job as a
subprocess with a scripted model (`scripted_model.py`) that hangs while loading, hangs after
some batches, or is slow but steady; and a run whose lease is taken while its model hangs.

Each wait has its own deadline: a job that never exits fails the test, it does not hang it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from pydantic import ValidationError
from tortoise.expressions import F

from inference_job.config import JobSettings
from inference_job.watchdog import Pace
from tests.support.job_harness import JobHarness
from tests.support.paths import ROOT
from tests.support.videos import PanVideo
from tests.support.waits import until
from videoanalysis.clock import local_now
from videoanalysis.exitcodes import JobExit
from videoanalysis.tables import Task
from videoanalysis.task_status import TaskStatus

# Test-sized limits: a stall after one second (the floor), three times the batch time seen.
FAST_LIMITS = {"VA_STALL_MIN_S": "1", "VA_STALL_FACTOR": "3", "VA_MODEL_LOAD_DEADLINE_S": "5"}
STALLED = re.compile(r"the analysis made no progress for ([\d.]+) s \(expected a batch every ~([\d.]+) s\)")


@dataclass
class Run:
    proc: asyncio.subprocess.Process

    async def ended(self, within: float) -> tuple[int, str]:
        """The exit code and stderr of a job that must exit by itself within `within` seconds."""
        try:
            _, err = await asyncio.wait_for(self.proc.communicate(), within)
        except TimeoutError:
            raise AssertionError(f"the job did not exit within {within:g} s") from None
        assert self.proc.returncode is not None
        return self.proc.returncode, err.decode(errors="replace")

    def left_nothing(self) -> bool:
        """No process is left in the job's process group (it starts none; a stuck one would stay)."""
        try:
            os.killpg(self.proc.pid, 0)
        except ProcessLookupError:
            return True
        return False


StartJob = Callable[..., Awaitable[Run]]


@pytest.fixture
async def start_job(harness: JobHarness, pan: PanVideo) -> AsyncIterator[StartJob]:
    """Starts `python -m tests.support.scripted_model` (the job with the scripted model) for a
    task on the pan video, in a process group of its own; whatever is still running at the end
    is killed (today's job would hang for ever)."""
    shutil.copy(pan.path, harness.videos_dir / "pan.mp4")
    runs: list[Run] = []

    async def start(task: Task, **env: str) -> Run:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.support.scripted_model",
            "--task-id",
            str(task.id),
            cwd=ROOT,
            env=harness.env(**env),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        runs.append(Run(proc))
        return runs[-1]

    yield start
    for run in runs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(run.proc.pid, signal.SIGKILL)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run.proc.wait(), 10)


async def scripted_task(harness: JobHarness, **params: object) -> Task:
    return await harness.task("pan.mp4", model="scripted", tracker="none", batch_size=1, **params)


async def test_a_model_that_hangs_after_some_batches_ends_its_task_failed(
    harness: JobHarness, start_job: StartJob
) -> None:
    task = await scripted_task(harness)
    run = await start_job(task, **FAST_LIMITS, SCRIPTED_BATCH_S="0.2", SCRIPTED_HANG_AFTER="3")
    code, stderr = await run.ended(within=30)
    assert code == JobExit.FAILED, stderr
    await task.refresh_from_db()
    assert task.status == TaskStatus.FAILED and task.lease_holder is None
    stalled = STALLED.search(task.error or "")
    assert stalled, task.error
    # Stopped at the 1 s floor (3 × 0.2 s is under it), not later.
    assert 1.0 <= float(stalled[1]) < 3.0 and 0.15 <= float(stalled[2]) < 0.6, task.error
    assert task.frames_done <= 3
    assert run.left_nothing()


async def test_the_stall_limit_follows_the_models_own_pace(harness: JobHarness, start_job: StartJob) -> None:
    """A model taking 1.5 s a batch, over the 1 s floor: steady, it completes; the same model
    hanging after two batches is stopped at about three times its 1.5 s, not at the floor."""
    steady, hanging = await scripted_task(harness, frame_stride=6), await scripted_task(harness)
    slow = {**FAST_LIMITS, "SCRIPTED_BATCH_S": "1.5"}
    runs = await start_job(steady, **slow), await start_job(hanging, **slow, SCRIPTED_HANG_AFTER="2")
    (steady_code, steady_err), (hanging_code, hanging_err) = await asyncio.gather(
        runs[0].ended(within=60), runs[1].ended(within=60)
    )
    assert steady_code == JobExit.OK, steady_err
    await steady.refresh_from_db()
    assert steady.status == TaskStatus.SUCCEEDED and steady.frames_done == 4
    assert hanging_code == JobExit.FAILED, hanging_err
    await hanging.refresh_from_db()
    stalled = STALLED.search(hanging.error or "")
    assert stalled, hanging.error
    waited, expected = float(stalled[1]), float(stalled[2])
    # Both printed to 0.1 s: a tolerance of that rounding, three times.
    assert 1.5 <= expected < 2.5 and 3 * expected - 0.2 <= waited < 3 * expected + 3, hanging.error


async def test_a_run_whose_lease_is_taken_while_its_model_hangs_exits_superseded(
    harness: JobHarness, start_job: StartJob
) -> None:
    task = await scripted_task(harness)
    # Stall limits far away: only the lost lease can end this run in time.
    run = await start_job(
        task,
        VA_LEASE_TTL_S="1.5",
        VA_STALL_MIN_S="120",
        VA_MODEL_LOAD_DEADLINE_S="120",
        SCRIPTED_HANG_AFTER="1",
    )

    async def first_batch_committed() -> bool:
        await task.refresh_from_db()
        return task.next_frame >= 1

    await until(first_batch_committed, timeout=30, what="the first batch's commit")
    await Task.filter(id=task.id).update(
        lease_attempt=F("lease_attempt") + 1, lease_holder="thief", lease_expires_at=local_now() + timedelta(minutes=5)
    )
    code, stderr = await run.ended(within=15)
    assert code == JobExit.SUPERSEDED, stderr
    assert "taken over by run thief" in stderr
    await task.refresh_from_db()
    assert task.status == TaskStatus.RUNNING and task.lease_holder == "thief" and task.error is None
    assert run.left_nothing()


async def test_a_model_load_that_hangs_ends_its_task_failed_after_the_deadline(
    harness: JobHarness, start_job: StartJob
) -> None:
    task = await scripted_task(harness)
    run = await start_job(task, **{**FAST_LIMITS, "VA_MODEL_LOAD_DEADLINE_S": "1.5"}, SCRIPTED_HANG_LOAD="1")
    code, stderr = await run.ended(within=30)
    assert code == JobExit.FAILED, stderr
    await task.refresh_from_db()
    assert task.status == TaskStatus.FAILED and task.lease_holder is None
    assert task.error == "the model did not load within 1.5 s (VA_MODEL_LOAD_DEADLINE_S)"
    assert run.left_nothing()


def test_the_expected_batch_time_is_the_median_of_the_recent_batches() -> None:
    pace = Pace(load_deadline_s=600, stall_factor=3, stall_min_s=1)
    pace.loading(0)
    assert pace.overdue(599) is None and "did not load within 600 s" in (pace.overdue(600) or "")
    pace.loaded(100)
    pace.batch(400)  # a first batch that compiled for 300 s: the allowance for the second
    assert pace.limit_s() == 900
    clock = 400.0
    for _ in range(5):
        clock += 1.5
        pace.batch(clock)
    assert pace.expected_s == 1.5 and pace.limit_s() == 4.5  # over the floor: the model's pace
    assert pace.overdue(clock + 4.4) is None and pace.overdue(clock + 4.5)
    for _ in range(6):
        clock += 0.1
        pace.batch(clock)
    assert pace.expected_s == pytest.approx(0.1) and pace.limit_s() == 1  # faster now: the floor
    pace.idle()
    assert pace.overdue(clock + 10_000) is None  # the download, the last writes: not judged here


@pytest.mark.parametrize(
    "field,value",
    [("stall_factor", 1), ("stall_min_s", 0), ("model_load_deadline_s", 0), ("model_load_deadline_s", 10**6)],
)
def test_absurd_stall_settings_are_refused(field: str, value: float, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"VA_{field.upper()}", str(value))
    with pytest.raises(ValidationError, match=field):
        JobSettings()
