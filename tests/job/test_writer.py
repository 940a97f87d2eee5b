"""The batch writer on PostgreSQL: one transaction a batch, throttled progress, cancellation."""

from __future__ import annotations

import pytest

from inference_job.runner import FrameResult
from inference_job.writer import ResultWriter, TaskStopped
from tests.job.conftest import JobHarness, frames_of
from videoanalysis.models import Task
from videoanalysis.status import TaskStatus


def results(start: int, n: int) -> list[FrameResult]:
    return [
        FrameResult(i, i / 10, [{"label": "face", "score": 0.5, "box": [0, 0, 1, 1]}]) for i in range(start, start + n)
    ]


async def running_task(harness: JobHarness) -> Task:
    task = await harness.task("none.mp4")
    await Task.filter(id=task.id).update(status=TaskStatus.RUNNING, frames_total=10)
    return task


async def test_progress_is_throttled_and_final_count_exact(harness: JobHarness) -> None:
    task = await running_task(harness)
    now = [0.0]
    writer = ResultWriter(task.id, batch_frames=2, progress_interval_s=1.0, clock=lambda: now[0])
    for start in range(0, 8, 2):  # four batches within the same second: no progress update
        await writer.add(results(start, 2))
    await writer._wait_inflight()
    assert writer.written == 8 and writer.progress_updates == 0
    assert (await Task.get(id=task.id)).frames_done == 0
    now[0] = 1.5
    await writer.add(results(8, 1))
    assert await writer.finish() == 9
    assert writer.progress_updates == 1
    assert (await Task.get(id=task.id)).frames_done == 9
    assert [r.frame_index for r in await frames_of(task)] == list(range(9))


async def test_cancellation_is_noticed_at_the_next_progress_write(harness: JobHarness) -> None:
    task = await running_task(harness)
    writer = ResultWriter(task.id, batch_frames=2, progress_interval_s=0)
    await writer.add(results(0, 2))
    await writer._wait_inflight()
    await Task.filter(id=task.id).update(status=TaskStatus.CANCELLED)
    await writer.add(results(2, 2))
    with pytest.raises(TaskStopped):
        await writer._wait_inflight()
    # the refused batch was rolled back with its transaction
    assert [r.frame_index for r in await frames_of(task)] == [0, 1]


async def test_overlapping_rows_are_upserted_not_duplicated(harness: JobHarness) -> None:
    task = await running_task(harness)
    first = ResultWriter(task.id, batch_frames=4, progress_interval_s=0)
    await first.add(results(0, 4))
    await first.finish()
    # a second writer that keeps earlier rows (as two overlapping attempts would)
    second = ResultWriter(task.id, batch_frames=4, progress_interval_s=0, fresh=False)
    await second.add([FrameResult(2, 0.2, []), FrameResult(5, 0.5, [])])
    await second.finish()
    rows = await frames_of(task)
    assert [r.frame_index for r in rows] == [0, 1, 2, 3, 5]
    assert rows[2].objects == [] and rows[1].objects != []


async def test_slow_model_reports_progress_before_a_batch_fills(harness: JobHarness) -> None:
    task = await running_task(harness)
    now = [0.0]
    writer = ResultWriter(task.id, batch_frames=64, progress_interval_s=1.0, clock=lambda: now[0])
    await writer.add(results(0, 1))  # within the first second: buffered only
    assert (await Task.get(id=task.id)).frames_done == 0
    now[0] = 1.2  # a second has passed with 2 of 64 frames: write them and the progress
    await writer.add(results(1, 1))
    await writer._wait_inflight()
    assert (await Task.get(id=task.id)).frames_done == 2
    assert [r.frame_index for r in await frames_of(task)] == [0, 1]
    assert await writer.finish() == 2 and writer.progress_updates == 1  # nothing left to report


async def test_label_counters_follow_the_committed_frames(harness: JobHarness) -> None:
    """Counted in each batch's transaction: a rerun starts them again with its rows."""
    task = await running_task(harness)
    cat = {"label": "cat", "score": 0.9, "box": [0, 0, 1, 1]}
    writer = ResultWriter(task.id, batch_frames=2, progress_interval_s=0)
    await writer.add(results(0, 3))
    await writer.add([FrameResult(3, 0.3, [cat, cat]), FrameResult(4, 0.4, [])])
    assert await writer.finish() == 5
    assert (await Task.get(id=task.id)).detections == {"cat": 2, "face": 3}
    rerun = ResultWriter(task.id, batch_frames=10, progress_interval_s=0)
    await rerun.add(results(0, 1))
    await rerun.finish()
    assert (await Task.get(id=task.id)).detections == {"face": 1}
