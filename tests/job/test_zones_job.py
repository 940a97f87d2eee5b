"""Zones and lines through the real job: two faces crossing a vertical line in opposite
directions, one zone over the right half; the events are in the table once each, dated at the
frames their rows hold, and the zone still occupied at the end is left there."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from bench.tracking_scenes import scene_video
from tests.support.job_harness import JobHarness, frames_of
from tests.support.paths import ROOT
from videoanalysis.clock import local_now
from videoanalysis.exitcodes import JobExit
from videoanalysis.tables import FrameDetections, Task, Track, ZoneEvent
from videoanalysis.task_status import TaskStatus
from videoanalysis.zone_totals import LineCounts, zone_summary

RULES = {
    "lines": [{"name": "middle", "start": [0.5, 0.0], "end": [0.5, 1.0]}],
    "zones": [{"name": "right", "polygon": [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]}],
}


@pytest.fixture(scope="module")
def crossing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scene_video("crossing", tmp_path_factory.mktemp("zones") / "crossing.avi")


async def test_two_faces_crossing_give_one_in_one_out_and_the_zone_s_visits(
    harness: JobHarness, crossing: Path
) -> None:
    (harness.videos_dir / "crossing.avi").write_bytes(crossing.read_bytes())
    task = await harness.task("crossing.avi", **RULES)
    result = await harness.run(task, VA_WRITE_BATCH_FRAMES="16")
    assert result.returncode == JobExit.OK, result.stderr[-2000:]
    await task.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED, task.error
    events = await ZoneEvent.filter(task_id=task.id).order_by("frame_index", "rule", "kind")
    crossings = sorted((e.kind, e.track_id) for e in events if e.rule == "middle")
    visits = sorted((e.kind, e.track_id) for e in events if e.rule == "right")
    ids = sorted({e.track_id for e in events})
    assert len(ids) == 2, [(e.rule, e.kind, e.track_id, e.frame_index) for e in events]
    left_to_right, right_to_left = (ids[0], ids[1]) if ("in", ids[0]) in crossings else (ids[1], ids[0])
    assert crossings == sorted([("in", left_to_right), ("out", right_to_left)])
    assert visits == sorted(
        [("entered", left_to_right), ("left", left_to_right), ("entered", right_to_left), ("left", right_to_left)]
    )
    rows = {r.frame_index: r for r in await FrameDetections.filter(task_id=task.id)}
    for e in events:  # each event at a frame where its track is seen, at that frame's time
        assert e.frame_index in rows and e.timestamp == rows[e.frame_index].timestamp
        assert e.track_id in {o.get("track_id") for o in rows[e.frame_index].objects}
    last = max(rows)
    ends = [e for e in events if e.rule == "right" and e.kind == "left" and e.track_id == left_to_right]
    assert ends[0].frame_index >= last - 2 and ends[0].dwell_s > 0  # still inside at the end
    # The totals on the task row count the same events; its summary shows them.
    await task.refresh_from_db()
    dwell = [e.dwell_s for e in events if e.rule == "right" and e.kind == "left"]
    zones, lines = zone_summary(task.params, task.zone_totals)
    assert lines == {"middle": {"face": LineCounts(**{"in": 1, "out": 1})}}
    assert zones is not None and zones["right"]["face"].entered == zones["right"]["face"].left == 2
    assert zones["right"]["face"].mean_dwell_seconds == pytest.approx(sum(dwell) / 2, abs=1e-3)
    # A task whose rows are erased takes its events with it.
    await Task.filter(id=task.id).delete()
    assert not await ZoneEvent.filter(task_id=task.id).exists()


async def test_a_run_killed_mid_way_resumes_to_the_same_events_and_totals(harness: JobHarness, crossing: Path) -> None:
    (harness.videos_dir / "crossing.avi").write_bytes(crossing.read_bytes())
    whole = await harness.task("crossing.avi", **RULES)
    assert (await harness.run(whole, VA_WRITE_BATCH_FRAMES="8")).returncode == JobExit.OK
    task = await harness.task("crossing.avi", **RULES)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "inference_job", "--task-id", str(task.id),
        cwd=ROOT, env=harness.env(VA_WRITE_BATCH_FRAMES="8"), start_new_session=True,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    events_seen = 0
    while proc.returncode is None and events_seen == 0:  # killed once an event is committed
        await asyncio.sleep(0.02)
        events_seen = await ZoneEvent.filter(task_id=task.id).count()
    os.killpg(proc.pid, signal.SIGKILL)
    await proc.wait()
    await task.refresh_from_db()
    assert task.status == TaskStatus.RUNNING and task.next_frame > 0, "the run ended before it was killed"
    await Task.filter(id=task.id).update(lease_holder="dead:1", lease_expires_at=local_now())
    result = await harness.run(task, VA_WRITE_BATCH_FRAMES="8")
    assert result.returncode == JobExit.OK and "resumes at frame" in result.stderr, result.stderr[-2000:]
    await task.refresh_from_db()
    await whole.refresh_from_db()
    assert task.status == TaskStatus.SUCCEEDED and task.lease_attempt == 2
    assert await event_rows(task) == await event_rows(whole)
    assert task.zone_totals == whole.zone_totals and task.detections == whole.detections
    assert task.objects == whole.objects
    # the frame rows, first detections' ids included, and the tracks are the uninterrupted run's
    assert [(r.frame_index, r.objects) for r in await frames_of(task)] == [
        (r.frame_index, r.objects) for r in await frames_of(whole)
    ]
    assert await track_rows(task) == await track_rows(whole)


async def track_rows(task: Task) -> list[dict]:
    rows = await Track.filter(task_id=task.id).order_by("track_id").values()
    return [{k: v for k, v in r.items() if k not in ("id", "task_id")} for r in rows]


async def event_rows(task: Task) -> list[tuple]:
    rows = await ZoneEvent.filter(task_id=task.id).order_by("frame_index", "rule", "kind", "track_id")
    return [(e.rule, e.kind, e.track_id, e.label, e.frame_index, e.timestamp, e.dwell_s) for e in rows]


async def test_zones_over_the_job_s_pixel_limit_fail_the_task_with_the_reason(
    harness: JobHarness, crossing: Path
) -> None:
    """A resource applied by hand reaches the job without the API's check of the frame: the job
    refuses masks larger than VA_MAX_ZONE_PIXELS before analysing anything."""
    (harness.videos_dir / "crossing.avi").write_bytes(crossing.read_bytes())
    task = await harness.task("crossing.avi", **RULES)
    result = await harness.run(task, VA_MAX_ZONE_PIXELS="1000")
    assert result.returncode == JobExit.FAILED, result.stderr[-2000:]
    await task.refresh_from_db()
    assert task.status == TaskStatus.FAILED and "at most 1000 (VA_MAX_ZONE_PIXELS)" in (task.error or ""), task.error
    assert task.frames_done == 0
