"""The local dispatcher runs a task asked for K shards as K real job processes
(`python -m inference_job --task-id ID --shards K --shard i`) on PostgreSQL: side by side within
VA_LOCAL_CONCURRENCY or one after another, each shard retried alone, all of them stopped by a
cancel, resumed after a graceful stop, and the merge run again when the merging process is gone.

The answer is the one run of the whole video gives; the scripted model (which finds nothing, at
the pace it is told) stands in where only the processes matter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api.dispatchers.local import LocalDispatcher
from api.dispatchers.local_runs import ShardRow, asked_shards, shards_to_start
from bench.tracking_scenes import render, scenes
from tests.support.job_harness import JobHarness
from tests.support.videos import reencoded
from tests.support.waits import until
from videoanalysis.clock import db_now
from videoanalysis.exitcodes import JobExit
from videoanalysis.lease import acquire
from videoanalysis.storage import video_uri
from videoanalysis.tables import Task, TaskShard
from videoanalysis.task_status import TaskStatus
from videoanalysis.transitions import transition

# The job's knobs for a quick test: short leases, small batches, the CPU, no progress pacing.
JOB_ENV = {"VA_LEASE_TTL_S": "2", "VA_WRITE_BATCH_FRAMES": "8", "VA_DEVICE": "cpu", "VA_PROGRESS_INTERVAL_S": "0"}
SCRIPTED = [sys.executable, "-m", "tests.support.scripted_model"]
STRIDE = 4  # fewer frames to analyse; still two shards (pre-rolls of 72 frames)
# Shard 1's run crashes at once (exit 1); shard 0's never notices its task ended (a sleeper).
SHARD_ONE_CRASHES = [
    sys.executable,
    "-c",
    "import sys, time\nif sys.argv[-2:] == ['--shard', '1']: sys.exit(1)\ntime.sleep(60)",
]
WHOLE: dict[str, tuple] = {}  # the answer of one run over the whole video, made once


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two scenes (295 frames at 25 fps) with an IDR picture every 10 frames."""
    d = tmp_path_factory.mktemp("local-shards")
    by_name = {s.name: s for s in scenes()}
    parts = [d / f"{name}.avi" for name in ("crossing", "reentry")]
    for name, part in zip(("crossing", "reentry"), parts, strict=True):
        render(by_name[name], part)
    return reencoded(parts, d / "long.mp4", fps=25, gop=10)


@pytest.fixture
def job_env(monkeypatch: pytest.MonkeyPatch, harness: JobHarness, video: Path) -> JobHarness:
    """The job's environment (read by the dispatcher when it is made) and the video in place."""
    for name, value in JOB_ENV.items():
        monkeypatch.setenv(name, value)
    (harness.videos_dir / "long.mp4").write_bytes(video.read_bytes())
    return harness


async def sharded(harness: JobHarness, queue: str, shards: int, model: str = "opencv-face", **params) -> Task:
    return await Task.create(
        owner=harness.owner,
        model=model,
        video_uri=video_uri("long.mp4"),
        video_name="long.mp4",
        params={"frame_stride": STRIDE, **params, "shards": shards},
        queue=queue,
    )


async def whole_answer(harness: JobHarness) -> tuple:
    """Detections and frame counts of one run of the whole video (no shards)."""
    if "long" not in WHOLE:
        task = await harness.task("long.mp4", frame_stride=STRIDE)
        result = await harness.run(task, **JOB_ENV)
        assert result.returncode == JobExit.OK, result.stderr[-3000:]
        WHOLE["long"] = answer(await Task.get(id=task.id))
    return WHOLE["long"]


def answer(task: Task) -> tuple:
    return task.detections, task.frames_done, task.frames_total, task.objects is not None


class Peak:
    """Samples, while it is open, the most shard processes of a task alive at once and the most
    of its shard rows RUNNING at once."""

    def __init__(self, dispatcher: LocalDispatcher, task: Task) -> None:
        self.dispatcher, self.task = dispatcher, task
        self.procs = self.rows = 0
        self._sampler: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Peak:
        self._sampler = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._sampler is not None
        self._sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._sampler

    async def _sample(self) -> None:
        while True:
            self.procs = max(self.procs, len(shard_procs(self.dispatcher, self.task)))
            running = await TaskShard.filter(task_id=self.task.id, status=TaskStatus.RUNNING).count()
            self.rows = max(self.rows, running)
            await asyncio.sleep(0.02)


def shard_procs(dispatcher: LocalDispatcher, task: Task) -> dict[int, asyncio.subprocess.Process]:
    prefix = f"{task.id}/"
    return {int(k.removeprefix(prefix)): p for k, p in dispatcher._procs.items() if k.startswith(prefix)}


async def final(task: Task) -> bool:
    return TaskStatus((await Task.get(id=task.id)).status).is_final


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (ProcessLookupError, FileNotFoundError):
        return False


async def all_running(dispatcher: LocalDispatcher, task: Task, k: int) -> bool:
    rows = await TaskShard.filter(task_id=task.id, status=TaskStatus.RUNNING).count()
    return rows == k and len(shard_procs(dispatcher, task)) == k


async def _async(value: bool) -> bool:
    return value


@pytest.fixture
async def dispatchers() -> AsyncIterator[list[LocalDispatcher]]:
    """Dispatchers the test makes, closed at its end whatever happens."""
    made: list[LocalDispatcher] = []
    yield made
    for dispatcher in made:
        await dispatcher.close()


@pytest.mark.parametrize("slots", [2, 1])
async def test_shards_take_the_free_slots_and_give_the_answer_of_one_run(slots, api_settings, job_env, dispatchers):
    """Two slots: both shards at once; one slot: the second waits for the first to end."""
    whole = await whole_answer(job_env)
    dispatcher = LocalDispatcher(api_settings(local_concurrency=slots))
    dispatchers.append(dispatcher)
    task = await sharded(job_env, dispatcher.queue, 2)
    async with Peak(dispatcher, task) as peak:
        await dispatcher.submit(task)
        await until(lambda: final(task), timeout=120, what="the sharded task's end")
    done = await Task.get(id=task.id)
    assert done.status == TaskStatus.SUCCEEDED, done.error
    assert done.shards == 2 and done.merge_state is not None and answer(done) == whole
    assert done.retries == 0 and done.error is None
    first, second = await TaskShard.filter(task_id=task.id).order_by("index")
    assert [(r.status, r.lease_attempt) for r in (first, second)] == [(TaskStatus.SUCCEEDED, 1)] * 2
    if slots == 2:
        assert (peak.procs, peak.rows) == (2, 2)
    else:
        assert peak.procs == 1 and first.finished_at is not None and second.started_at is not None
        assert second.started_at >= first.finished_at


async def test_a_killed_shard_is_retried_alone_and_resumes(api_settings, job_env, dispatchers, caplog):
    caplog.set_level(logging.DEBUG, logger="api.dispatchers.local")
    whole = await whole_answer(job_env)
    dispatcher = LocalDispatcher(api_settings(local_concurrency=2))
    dispatchers.append(dispatcher)
    task = await sharded(job_env, dispatcher.queue, 2)
    await dispatcher.submit(task)

    async def shard_one_committed() -> bool:
        row = await TaskShard.get_or_none(task_id=task.id, index=1)
        return row is not None and row.frames_done >= 8 and 1 in shard_procs(dispatcher, task)

    await until(shard_one_committed, timeout=60, what="shard 1 past its first batch")
    killed = shard_procs(dispatcher, task)[1]
    os.killpg(killed.pid, signal.SIGKILL)
    at_kill = (await TaskShard.get(task_id=task.id, index=1)).next_frame
    await until(lambda: final(task), timeout=120, what="the sharded task's end")
    done = await Task.get(id=task.id)
    assert done.status == TaskStatus.SUCCEEDED, done.error
    assert answer(done) == whole
    rows = await TaskShard.filter(task_id=task.id).order_by("index")
    assert [r.lease_attempt for r in rows] == [1, 2]  # shard 0 was never disturbed
    assert done.retries == 0  # its position had advanced: not counted
    resumed = [
        r.getMessage() for r in caplog.records if f"{task.id}/1" in r.getMessage() and "attempt 2" in r.getMessage()
    ]
    assert len(resumed) == 1 and int(resumed[0].rsplit(" ", 1)[1]) >= at_kill, resumed


async def test_a_cancel_stops_every_shard_process(api_settings, job_env, dispatchers, monkeypatch):
    monkeypatch.setenv("SCRIPTED_BATCH_S", "0.2")
    dispatcher = LocalDispatcher(api_settings(local_concurrency=3), command=SCRIPTED)
    dispatchers.append(dispatcher)
    task = await sharded(job_env, dispatcher.queue, 2, model="scripted", batch_size=1, tracker="none")
    await dispatcher.submit(task)

    await until(lambda: all_running(dispatcher, task, 2), timeout=60, what="both shards running")
    procs = list(shard_procs(dispatcher, task).values())
    await dispatcher.cancel(task)
    assert all(p.returncode is not None and not alive(p.pid) for p in procs)
    await transition(task.id, TaskStatus.CANCELLED, error="cancelled by the owner")
    await asyncio.sleep(1.0)  # a few polls: nothing of it starts again
    assert dispatcher.running == set() and not dispatcher._runs
    rows = await TaskShard.filter(task_id=task.id)
    assert {r.status for r in rows} == {TaskStatus.CANCELLED} and all(r.lease_attempt == 1 for r in rows)


async def test_a_shard_out_of_retries_fails_the_task_and_the_dispatcher_stops_the_others(
    api_settings, job_env, dispatchers
):
    settings = api_settings(local_concurrency=2, local_backoff_limit=1)
    dispatcher = LocalDispatcher(settings, command=SHARD_ONE_CRASHES)
    dispatchers.append(dispatcher)
    task = await sharded(job_env, dispatcher.queue, 2)
    await dispatcher.submit(task)
    await until(lambda: _async(0 in shard_procs(dispatcher, task)), timeout=30, what="shard 0's process")
    survivor = shard_procs(dispatcher, task)[0]
    await until(lambda: final(task), timeout=30, what="the task's end")
    failed = await Task.get(id=task.id)
    assert failed.status == TaskStatus.FAILED and failed.retries == 1  # shard 1 ran twice
    assert failed.error == "shard 1: the analysis stopped unexpectedly (exit code 1); the server log has the details"
    await until(lambda: _async(survivor.returncode is not None), timeout=10, what="shard 0 stopped")
    assert survivor.returncode == -signal.SIGTERM and not alive(survivor.pid)
    await asyncio.sleep(0.6)  # a few polls: nothing of it starts again
    assert dispatcher.running == set() and not dispatcher._runs


async def test_past_the_deadline_every_shard_is_stopped_and_the_task_failed_once(api_settings, job_env, dispatchers):
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    dispatcher = LocalDispatcher(api_settings(local_concurrency=3, local_active_deadline_seconds=2), command=sleeper)
    dispatchers.append(dispatcher)
    task = await sharded(job_env, dispatcher.queue, 3)
    await dispatcher.submit(task)
    await until(lambda: _async(len(shard_procs(dispatcher, task)) == 3), what="three shard processes")
    procs = list(shard_procs(dispatcher, task).values())
    await until(lambda: final(task), timeout=10, what="the deadline")
    await until(lambda: _async(not dispatcher._runs), timeout=10, what="every run's end")
    failed = await Task.get(id=task.id)
    assert failed.status == TaskStatus.FAILED and failed.error == "the analysis ran past its deadline of 2 s"
    assert failed.retries == 0 and not [p for p in procs if alive(p.pid)]


async def test_a_graceful_stop_leaves_the_shards_to_resume_at_the_next_start(
    api_settings, job_env, dispatchers, monkeypatch
):
    monkeypatch.setenv("SCRIPTED_BATCH_S", "0.1")
    settings = api_settings(local_concurrency=2)
    first = LocalDispatcher(settings, command=SCRIPTED)
    dispatchers.append(first)
    task = await sharded(job_env, first.queue, 2, model="scripted", batch_size=1, tracker="none")
    await first.submit(task)

    async def both_committed() -> bool:
        rows = await TaskShard.filter(task_id=task.id, frames_done__gte=2).count()
        return rows == 2 and len(shard_procs(first, task)) == 2

    await until(both_committed, timeout=60, what="both shards past a batch")
    await first.close()
    stopped = await TaskShard.filter(task_id=task.id).order_by("index")
    assert [(r.status, r.lease_holder) for r in stopped] == [(TaskStatus.RUNNING, None)] * 2
    assert (await Task.get(id=task.id)).status == TaskStatus.RUNNING
    monkeypatch.setenv("SCRIPTED_BATCH_S", "0")
    second = LocalDispatcher(settings, command=SCRIPTED)
    dispatchers.append(second)
    await second.start()
    await until(lambda: final(task), timeout=60, what="the resumed task's end")
    done = await Task.get(id=task.id)
    assert done.status == TaskStatus.SUCCEEDED and done.retries == 0, done.error
    rows = await TaskShard.filter(task_id=task.id).order_by("index")
    assert [r.lease_attempt for r in rows] == [2, 2]
    assert all(r.next_frame > s.next_frame for r, s in zip(rows, stopped, strict=True))


async def test_shards_done_but_not_merged_get_one_run_that_merges(
    api_settings, job_env, dispatchers, monkeypatch, caplog
):
    """The process merging the shards died: its lease expires and one shard's run merges."""
    caplog.set_level(logging.DEBUG, logger="api.dispatchers.local")
    monkeypatch.setenv("SCRIPTED_BATCH_S", "0.05")
    dispatcher = LocalDispatcher(api_settings(local_concurrency=2), command=SCRIPTED)
    dispatchers.append(dispatcher)
    task = await sharded(job_env, dispatcher.queue, 2, model="scripted", batch_size=1, tracker="none")
    await dispatcher.submit(task)
    await until(lambda: all_running(dispatcher, task, 2), timeout=60, what="both shards running")
    await acquire(task.id, "merger-that-dies", ttl_s=600, merge=True)

    async def analysed_not_merged() -> bool:
        rows = await TaskShard.filter(task_id=task.id, status=TaskStatus.SUCCEEDED).count()
        return rows == 2 and not dispatcher._runs

    await until(analysed_not_merged, timeout=60, what="both shards analysed, their runs ended")
    await asyncio.sleep(0.6)  # a few polls: the merger's lease is live, nothing starts
    assert not dispatcher._runs and (await Task.get(id=task.id)).status == TaskStatus.RUNNING
    await Task.filter(id=task.id).update(lease_expires_at=await db_now())  # the merger died
    await until(lambda: final(task), timeout=60, what="the merge")
    merged = await Task.get(id=task.id)
    assert merged.status == TaskStatus.SUCCEEDED and merged.retries == 0, merged.error
    assert merged.lease_holder is None and merged.lease_attempt == 2  # the test's, then the merge's
    assert [r.lease_attempt for r in await TaskShard.filter(task_id=task.id)] == [1, 1]
    merges = [r.getMessage() for r in caplog.records if "was analysed by an earlier run" in r.getMessage()]
    assert len(merges) == 1 and f"{task.id}/0" in merges[0]


def test_shards_to_start_follows_the_rows():
    now = datetime(2026, 1, 1, tzinfo=UTC)

    def row(index: int, status: TaskStatus, holder: str | None = None, live: bool = False) -> ShardRow:
        expires = now + timedelta(seconds=5 if live else -5) if holder else None
        return ShardRow(index, status, holder, expires, 0, 0)

    pending, done = TaskStatus.PENDING, TaskStatus.SUCCEEDED
    assert shards_to_start(3, [], set(), {}, now) == [0, 1, 2]  # no plan yet: all asked
    assert shards_to_start(3, [], {1}, {}, now) == [0, 2]
    # The plan made two: the rows decide; a live lease of another process is waited out.
    rows = [row(0, pending, "orphan", live=True), row(1, pending, "gone", live=False)]
    assert shards_to_start(3, rows, set(), {}, now) == [1]
    # A failed shard waits out its back-off, even if its row says done (its merge stopped).
    assert shards_to_start(2, [row(0, done), row(1, done)], set(), {1: True}, now) == []
    assert shards_to_start(2, [row(0, done), row(1, done)], set(), {1: False}, now) == [1]
    # All done, the task open, nothing here: the merging process died; shard 0 merges.
    assert shards_to_start(2, [row(0, done), row(1, done)], set(), {}, now) == [0]
    assert shards_to_start(2, [row(0, done), row(1, done)], {1}, {}, now) == []
    assert [asked_shards(p) for p in ({}, None, {"shards": 1}, {"shards": 4}, {"shards": "auto"})] == [1, 1, 1, 4, 1]
