"""Fixed crash cases (the long random run is `make chaos`): every crash ends with the task
SUCCEEDED, exactly one row per analysed frame, nothing left open, no run resuming before
the position committed when the crash hit, and the task's counters, tracks and frame rows
equal, field by field, to those of an uninterrupted run of the same video (`clean`)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from tests.chaos import harness as chaos
from tests.chaos import server
from tests.chaos.aggregate import Aggregate
from tests.chaos.harness import FRAMES
from tests.support.job_harness import JobHarness
from tests.support.videos import PanVideo
from videoanalysis.exitcodes import JobExit


@pytest.fixture
async def job_case(harness: JobHarness, chaos_video: PanVideo):
    shutil.copy(chaos_video.path, harness.videos_dir / "chaos.mp4")
    task = await harness.task("chaos.mp4")
    env = chaos.job_env(harness.pg_url, harness.videos_dir, VA_LEASE_WAIT_S="0.5")
    return chaos.PgTasks(harness.pg_url), str(task.id), env


def check(out: chaos.Outcome, clean: Aggregate) -> None:
    out.compare(clean)
    assert out.ok, out.report()
    assert not out.stuck


async def test_a_killed_job_resumes_at_its_committed_frame(job_case, clean: Aggregate) -> None:
    db, task_id, env = job_case
    out = await chaos.kill_job(db, task_id, env, FRAMES, at=40)
    check(out, clean)
    assert out.crashed_at >= 40 and out.resumed_at == [out.crashed_at]


async def test_two_runs_of_one_task_one_writes_the_other_is_superseded(job_case, clean: Aggregate) -> None:
    db, task_id, env = job_case
    out = await chaos.two_at_once(db, task_id, env, FRAMES)
    check(out, clean)
    assert out.exits == [JobExit.OK, JobExit.SUPERSEDED]


async def test_a_run_frozen_past_its_lease_cannot_write_when_it_wakes(job_case, clean: Aggregate) -> None:
    db, task_id, env = job_case
    out = await chaos.takeover(db, task_id, env, FRAMES, at=24)
    check(out, clean)
    assert out.exits == [JobExit.SUPERSEDED, JobExit.OK] and out.resumed_at == [out.crashed_at]


async def test_terminated_database_connections_do_not_fail_the_task(job_case, clean: Aggregate) -> None:
    db, task_id, env = job_case
    out = await chaos.terminate_connections(db, task_id, env, FRAMES, at=16)
    check(out, clean)
    assert out.exits[-1] == JobExit.OK


async def test_a_database_down_for_seconds_is_waited_out_by_the_same_run(job_case, clean: Aggregate) -> None:
    db, task_id, env = job_case
    out = await chaos.database_outage(db, task_id, env, FRAMES, at=16)
    check(out, clean)
    assert out.exits == [JobExit.OK]  # one process, no Pod restarted
    assert out.resumed_at and min(out.resumed_at) >= out.crashed_at  # it reran from its commit


@pytest.mark.parametrize("mode", ["server", "all", "graceful"])
async def test_server_crashes_resume_running_and_queued_tasks(
    mode: str, chaos_video: PanVideo, clean: Aggregate, tmp_path: Path
) -> None:
    video = tmp_path / "v.mp4"
    shutil.copy(chaos_video.path, video)
    outcomes = await server.server_crash(tmp_path / f"data-{uuid.uuid4().hex[:6]}", video, FRAMES, at=32, mode=mode)
    for out in outcomes:
        check(out, clean)
