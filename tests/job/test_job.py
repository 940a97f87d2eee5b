"""`python -m inference_job` end to end: a real subprocess on the session's PostgreSQL."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import cv2
import pytest

from tests.support.job_harness import JobHarness, frames_of
from tests.support.videos import PanVideo, pan_video, truncate
from videoanalysis.clock import local_now
from videoanalysis.exitcodes import JobExit
from videoanalysis.lease import acquire
from videoanalysis.tables import FrameDetections, Task, Track
from videoanalysis.task_status import TaskStatus


async def test_job_writes_one_row_per_frame_and_succeeds(harness: JobHarness, pan: PanVideo) -> None:
    shutil.copy(pan.path, harness.videos_dir / "pan.mp4")
    task = await harness.task("pan.mp4")
    result = await harness.run(task)
    assert result.returncode == 0, result.stderr
    await task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED and task.error is None
    assert task.frames_total == pan.frames and task.frames_done == pan.frames
    assert task.started_at is not None and task.finished_at >= task.started_at
    rows = await frames_of(task)
    assert [r.frame_index for r in rows] == list(range(pan.frames))
    assert rows[12].timestamp == pytest.approx(12 / pan.fps)
    with_face = [r for r in rows if any(o["label"] == "face" for o in r.objects)]
    assert len(with_face) >= 0.9 * pan.frames
    box = with_face[0].objects[0]["box"]
    assert len(box) == 4 and box[0] < box[2] and box[1] < box[3]


async def test_rerun_resumes_at_the_committed_frame(harness: JobHarness, pan: PanVideo, tmp_path: Path) -> None:
    """A run that committed frames 0..9 and died resumes at frame 12 with the tracker state it
    committed: the rows (kept, not redone) and the track ids equal an uninterrupted run's."""
    shutil.copy(pan.path, harness.videos_dir / "pan.mp4")
    whole = await harness.task("pan.mp4", frame_stride=3)
    assert (await harness.run(whole, VA_WRITE_BATCH_FRAMES="2")).returncode == 0
    first = [(r.frame_index, r.timestamp, r.objects) for r in await frames_of(whole)]
    # every detection is the one track's, the first too (given its id when the second confirmed it)
    assert len(first) == 8 and {o["track_id"] for _, _, objs in first for o in objs} == {1}
    # The first run sees the video's first 12 frames only, so it commits position 12 with the
    # tracker's state after frame 9; then it is left as a killed run leaves it.
    shutil.copy(pan_video(tmp_path / "prefix.mp4", frames=12).path, harness.videos_dir / "cut.mp4")
    task = await harness.task("cut.mp4", frame_stride=3)
    assert (await harness.run(task, VA_WRITE_BATCH_FRAMES="2")).returncode == 0
    await Task.filter(id=task.id).update(
        status=TaskStatus.RUNNING, video_uri=whole.video_uri, lease_holder="dead:1", lease_expires_at=local_now()
    )
    await task.refresh_from_db()
    assert task.next_frame == 12 and task.stage_state["tracker"]["name"] == "ocsort"
    await FrameDetections.filter(task_id=task.id, frame_index=0).update(objects=[])
    result = await harness.run(task, VA_WRITE_BATCH_FRAMES="2")
    assert result.returncode == 0 and "resumes at frame 12" in result.stderr
    second = [(r.frame_index, r.timestamp, r.objects) for r in await frames_of(task)]
    assert second[0] == (0, 0.0, []) and second[1:] == first[1:]
    await task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED and task.frames_total == task.frames_done == 8
    assert task.objects == {"face": 1}
    assert task.lease_attempt == 2 and task.lease_holder is None and task.next_frame == 24
    # The tracks table holds the same one track, each frame counted once, the same thumbnail.
    assert await track_rows(task) == await track_rows(whole)
    (track,) = await track_rows(task)
    assert track["track_id"] == 1 and track["label"] == "face" and track["frames_seen"] == 8
    assert (track["first_frame"], track["last_frame"]) == (0, 21) and track["thumbnail"][:2] == b"\xff\xd8"


async def track_rows(task: Task) -> list[dict]:
    rows = await Track.filter(task_id=task.id).order_by("track_id").values()
    return [{k: v for k, v in r.items() if k not in ("id", "task_id")} for r in rows]


async def test_a_second_run_while_the_lease_is_held_is_superseded(harness: JobHarness, pan: PanVideo) -> None:
    shutil.copy(pan.path, harness.videos_dir / "pan.mp4")
    task = await harness.task("pan.mp4")
    await acquire(task.id, "other-run", ttl_s=60)
    result = await harness.run(task, VA_LEASE_WAIT_S="0.5")
    assert result.returncode == JobExit.SUPERSEDED and "other-run holds the lease" in result.stderr
    await task.refresh_from_db()
    assert task.status == TaskStatus.RUNNING and task.lease_holder == "other-run" and await frames_of(task) == []


async def test_stride_threshold_and_labels_filter_what_is_stored(harness: JobHarness, pan: PanVideo) -> None:
    shutil.copy(pan.path, harness.videos_dir / "pan.mp4")
    strict = await harness.task("pan.mp4", frame_stride=4, score_threshold=0.99)
    assert (await harness.run(strict)).returncode == 0
    rows = await frames_of(strict)
    assert [r.frame_index for r in rows] == [0, 4, 8, 12, 16, 20]
    assert all(r.objects == [] for r in rows)  # no face is that sure
    loose = await harness.task("pan.mp4", frame_stride=12, score_threshold=0.2, labels=["face"])
    assert (await harness.run(loose)).returncode == 0
    rows = await frames_of(loose)
    assert [r.frame_index for r in rows] == [0, 12]
    assert all(o["score"] >= 0.2 and o["label"] == "face" for r in rows for o in r.objects)
    assert all(r.objects for r in rows)


@pytest.mark.parametrize(
    "case,reason",
    [
        ("truncated", r"video is truncated at frame 1\d "),
        ("zero-frame", "the video has no frames"),
        ("missing", "video file not found"),
    ],
)
async def test_broken_videos_fail_the_task_with_a_reason(harness: JobHarness, tmp_path, case: str, reason: str) -> None:
    dest = harness.videos_dir / "v.avi"
    if case == "truncated":
        src = pan_video(tmp_path / "full.avi", frames=24, fourcc="MJPG").path
        truncate(src, dest, 0.6)
    elif case == "zero-frame":
        cv2.VideoWriter(str(dest), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48)).release()
    task = await harness.task("v.avi")
    result = await harness.run(task)
    assert result.returncode != 0
    await task.refresh_from_db()
    assert task.status == TaskStatus.FAILED and re.search(reason, task.error), task.error
    assert task.finished_at is not None
    if case == "truncated":  # it was started with the frame count the file announced
        assert task.frames_total == 24


async def test_bad_parameters_and_unknown_models_fail_with_a_reason(harness: JobHarness, pan: PanVideo) -> None:
    shutil.copy(pan.path, harness.videos_dir / "pan.mp4")
    bad_label = await harness.task("pan.mp4", labels=["horse"])
    unknown = await harness.task("pan.mp4", model="no-such-model")
    for task, reason in (
        (bad_label, "labels not known to model opencv-face: horse"),
        (unknown, "unknown model 'no-such-model'; known models:"),
    ):
        assert (await harness.run(task)).returncode == JobExit.FAILED
        await task.refresh_from_db()
        assert task.status == TaskStatus.FAILED and reason in task.error


@pytest.mark.parametrize("status", [TaskStatus.SUCCEEDED, TaskStatus.FAILED, TaskStatus.CANCELLED])
async def test_a_run_on_an_ended_task_exits_ok_and_writes_nothing(
    harness: JobHarness, pan: PanVideo, status: TaskStatus
) -> None:
    """The row is the truth: a run (a retried Pod, a late start) that finds its task ended
    leaves it as it is and exits 0, never a permanent-failure code of its own."""
    shutil.copy(pan.path, harness.videos_dir / "pan.mp4")
    task = await harness.task("pan.mp4")
    ended = local_now()
    await Task.filter(id=task.id).update(status=status, error="ended before this run", finished_at=ended)
    before = await Task.filter(id=task.id).first().values()
    result = await harness.run(task)
    assert result.returncode == JobExit.OK, result.stderr
    assert f"is already {status.value}; nothing to do" in result.stderr
    assert await Task.filter(id=task.id).first().values() == before
    assert await frames_of(task) == [] and await Track.filter(task_id=task.id).count() == 0


async def test_bad_job_setting_fails_the_task_naming_the_variable(harness: JobHarness) -> None:
    task = await harness.task("pan.mp4")
    result = await harness.run(task, VA_DEVICE="gpu")
    assert result.returncode == JobExit.FAILED and "VA_DEVICE" in result.stderr
    await task.refresh_from_db()
    assert task.status == TaskStatus.FAILED and "invalid job settings (VA_DEVICE" in task.error
