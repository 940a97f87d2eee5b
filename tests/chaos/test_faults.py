"""Fixed fault cases (`faults.py`; `make chaos` runs them at random frames): lost COMMIT
acknowledgements and a writer on a skewed clock leave exactly the uninterrupted run's
counters, tracks and frame rows; a trickling URL and a hanging model end the task FAILED with
the reason, within the test-sized limits, having written nothing half-way."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos import faults
from tests.chaos import harness as chaos
from tests.chaos.aggregate import Aggregate
from tests.chaos.harness import FRAMES, uninterrupted
from tests.support.https_videos import VideoServer, https_video_server
from tests.support.job_harness import JobHarness
from tests.support.videos import PanVideo
from videoanalysis.exitcodes import JobExit
from videoanalysis.tables import Task

HANG_READY = all(importlib.util.find_spec(m) for m in ("inference_job.watchdog", faults.SCRIPTED))


@pytest.fixture
async def job_case(harness: JobHarness, chaos_video: PanVideo):
    shutil.copy(chaos_video.path, harness.videos_dir / "chaos.mp4")
    task = await harness.task("chaos.mp4")
    env = chaos.job_env(harness.pg_url, harness.videos_dir, VA_LEASE_WAIT_S="0.5")
    return chaos.PgTasks(harness.pg_url), str(task.id), env


def check(out: chaos.Outcome, expected: Aggregate | None = None) -> None:
    if expected is not None:
        out.compare(expected)
    assert out.ok, out.report()


async def test_lost_commit_acknowledgements_count_each_batch_once(job_case, clean: Aggregate) -> None:
    """The first batch's acknowledgement lost once, the second's three times in a row."""
    db, task_id, env = job_case
    out = await faults.lost_acknowledgements(db, task_id, env, FRAMES, {2, 4, 5, 6})
    check(out, clean)
    assert out.case.endswith("(2,4,5,6)") and out.exits == [JobExit.OK]


@pytest.mark.parametrize("seconds", [20.0, -20.0])
async def test_a_writer_on_a_skewed_clock_keeps_its_lease(job_case, clean: Aggregate, seconds: float) -> None:
    db, task_id, env = job_case
    out = await faults.skewed_clock(db, task_id, env, FRAMES, at=8, seconds=seconds)
    check(out, clean)
    assert out.exits == [JobExit.OK, JobExit.SUPERSEDED]


@pytest.fixture
def urls(tmp_path: Path, chaos_video: PanVideo) -> Iterator[VideoServer]:
    shutil.copy(chaos_video.path, tmp_path / "chaos.mp4")
    with https_video_server(tmp_path, tmp_path) as server:
        yield server


@pytest.mark.parametrize("mode", list(faults.TRICKLES))
async def test_a_trickling_url_fails_the_task_within_its_limits(
    harness: JobHarness, urls: VideoServer, mode: str
) -> None:
    task = await Task.create(owner=harness.owner, model="opencv-face", video_uri=urls.url("chaos.mp4"), params={})
    env = chaos.job_env(harness.pg_url, harness.videos_dir)
    check(await faults.trickling_url(chaos.PgTasks(harness.pg_url), str(task.id), env, urls, "chaos.mp4", mode))


@pytest.fixture(scope="session")
async def clean_scripted(db: str, chaos_video: PanVideo, tmp_path_factory: pytest.TempPathFactory) -> Aggregate:
    if not HANG_READY:
        pytest.skip("waits for the job's stall detection")
    folder = tmp_path_factory.mktemp("clean-scripted")
    return await uninterrupted(db, chaos_video, folder, "scripted", faults.SCRIPTED, **faults.SCRIPTED_PARAMS)


@pytest.mark.parametrize("mode", list(faults.HANGS))
async def test_a_hanging_model_fails_the_task_with_whole_batches_committed(
    harness: JobHarness, chaos_video: PanVideo, clean_scripted: Aggregate, mode: str
) -> None:
    shutil.copy(chaos_video.path, harness.videos_dir / "chaos.mp4")
    task = await harness.task("chaos.mp4", model="scripted", **faults.SCRIPTED_PARAMS)
    env = chaos.job_env(harness.pg_url, harness.videos_dir)
    out = await faults.hanging_model(chaos.PgTasks(harness.pg_url), str(task.id), env, clean_scripted, 20, mode)
    check(out)
    assert out.aggregate is not None
    committed = out.aggregate.task["next_frame"]
    assert committed == 0 if mode == "load" else 0 < committed <= 20
