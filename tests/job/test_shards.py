"""A task cut into shards, each a real `python -m inference_job --shards K --shard i` process on
PostgreSQL, gives the answer of one run over the whole video: the same detections frame by frame,
the same counters, tracks joined across the seams; a shard killed mid-way resumes alone, a shard
failing fails the task and stops the others, a cancel stops them all, and a merge whose commits
lose their acknowledgements ends as a clean one does."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bench.tracking import score, sequence_data
from bench.tracking_scenes import render, scenes
from inference_job.merge import SHARD_TRACK_SPAN, merge_shards
from tests.support.job_harness import JobHarness, frames_of
from tests.support.lost_acks import lost_acks
from tests.support.paths import ROOT
from tests.support.videos import reencoded
from tests.support.waits import until
from videoanalysis.db import is_transient_db_error
from videoanalysis.exitcodes import JobExit
from videoanalysis.lease import Lease, TaskStopped, acquire, release
from videoanalysis.tables import FrameDetections, SeamFrame, Task, TaskShard, Track, ZoneEvent
from videoanalysis.task_status import TaskStatus
from videoanalysis.transitions import transition

FAST = {"VA_LEASE_TTL_S": "2", "VA_WRITE_BATCH_FRAMES": "8"}


@pytest.fixture(scope="module")
def scene_parts(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two faces crossing, then a face leaving and coming back: 295 frames at 25 fps."""
    d = tmp_path_factory.mktemp("scenes")
    by_name = {s.name: s for s in scenes()}
    return [render(by_name[name], d / f"{name}.avi") and d / f"{name}.avi" for name in ("crossing", "reentry")]


@pytest.fixture(scope="module")
def long_video(scene_parts: list[Path]) -> Path:
    """The scenes with an IDR picture every 10 frames: three shards cut at frames 100 and 200
    (pre-rolls of 60)."""
    return reencoded(scene_parts, scene_parts[0].with_name("long.mp4"), fps=25, gop=10)


class Runs:
    """Job processes of the test, each in a process group of its own, killed at the end."""

    def __init__(self, harness: JobHarness) -> None:
        self.harness = harness
        self.procs: list[asyncio.subprocess.Process] = []

    async def start(self, task: Task, *args: str, module: str = "inference_job", **env: str):
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            "--task-id",
            str(task.id),
            *args,
            cwd=ROOT,
            env=self.harness.env(**{**FAST, **env}),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    async def shards(self, task: Task, k: int, **env: str) -> list[tuple[int, str]]:
        procs = [await self.start(task, "--shards", str(k), "--shard", str(i), **env) for i in range(k)]
        return [await ended(p) for p in procs]


async def ended(proc: asyncio.subprocess.Process, within: float = 180) -> tuple[int, str]:
    _, err = await asyncio.wait_for(proc.communicate(), within)
    assert proc.returncode is not None
    return proc.returncode, err.decode(errors="replace")[-3000:]


@pytest.fixture
async def runs(harness: JobHarness, long_video: Path) -> AsyncIterator[Runs]:
    shutil.copy(long_video, harness.videos_dir / "long.mp4")
    out = Runs(harness)
    yield out
    for proc in out.procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(TimeoutError, ProcessLookupError):
            await asyncio.wait_for(proc.wait(), 10)


_ONE_RUN: dict[str, object] = {}  # the one-shard run's task id, made once for the module's tests


async def one_run(harness: JobHarness, runs: Runs) -> Task:
    """The long video analysed whole by one run (its rows stay in the session's database)."""
    if "long" not in _ONE_RUN:
        task = await harness.task("long.mp4")
        code, err = await ended(await runs.start(task))
        assert code == JobExit.OK, err
        _ONE_RUN["long"] = task.id
    return await Task.get(id=_ONE_RUN["long"])


def without_ids(rows: list) -> list:
    return [(r.frame_index, [{k: v for k, v in o.items() if k != "track_id"} for o in r.objects]) for r in rows]


def tracks_by_frame(rows: list) -> list[dict[int, list[float]]]:
    return [{o["track_id"]: o["box"] for o in r.objects if o.get("track_id") is not None} for r in rows]


async def assert_same_answer(one: Task, sharded: Task, seams: int) -> None:
    """The detections and counters of the one-shard run, and its tracks up to one extra id a seam."""
    assert sharded.status == TaskStatus.SUCCEEDED, sharded.error
    assert (sharded.frames_done, sharded.frames_total) == (one.frames_done, one.frames_total)
    assert sharded.detections == one.detections
    a, b = await frames_of(one), await frames_of(sharded)
    assert without_ids(b) == without_ids(a)
    truth, found = tracks_by_frame(a), tracks_by_frame(b)
    s = score(sequence_data(truth, found))
    assert s["IDF1"] >= 0.99, s
    ids = {i for f in found for i in f}
    assert len(ids) - len({i for f in truth for i in f}) <= seams
    assert sorted(await Track.filter(task_id=sharded.id).values_list("track_id", flat=True)) == sorted(ids)
    assert sum((sharded.objects or {}).values()) == len(ids)
    assert not await SeamFrame.filter(task_id=sharded.id).exists()
    shards = await TaskShard.filter(task_id=sharded.id).order_by("index")
    assert [s.status for s in shards] == [TaskStatus.SUCCEEDED] * len(shards)
    assert sum(s.frames_done for s in shards) == sharded.frames_done


async def test_three_shards_give_the_answer_of_one_run(harness: JobHarness, runs: Runs) -> None:
    one = await one_run(harness, runs)
    task = await harness.task("long.mp4")
    results = await runs.shards(task, 3)
    assert [code for code, _ in results] == [0, 0, 0], results
    sharded = await Task.get(id=task.id)
    assert sharded.shards == 3 and sharded.shard_plan is not None
    plan = sharded.shard_plan
    assert plan["reason"] is None and "PyAV" in plan["library"]
    assert [(s["prerollStart"], s["start"], s["end"]) for s in plan["shards"]] == [
        (0, 0, 100),
        (40, 100, 200),
        (140, 200, 295),
    ]
    await assert_same_answer(one, sharded, seams=2)


async def test_a_shard_index_past_the_plan_has_nothing_to_do(harness: JobHarness, runs: Runs) -> None:
    """Asked for 8 shards, the 295 frames hold fewer cuts at least a pre-roll apart: the indexes
    past them exit at once, and the task ends with the reason recorded (no tracker here: the merge
    leaves no tracks and no object counts)."""
    task = await harness.task("long.mp4", frame_stride=5, tracker="none")
    results = await runs.shards(task, 8)
    assert [code for code, _ in results] == [0] * 8, results
    sharded = await Task.get(id=task.id)
    assert sharded.status == TaskStatus.SUCCEEDED, sharded.error
    assert sharded.shards < 8 and sharded.shard_plan["reason"].startswith(f"only {sharded.shards} shards")
    assert sharded.objects is None and not await Track.filter(task_id=task.id).exists()
    rows = await frames_of(sharded)
    assert len(rows) == sharded.frames_done == 59 and all(o["track_id"] is None for r in rows for o in r.objects)


async def test_a_shard_killed_mid_way_resumes_alone(harness: JobHarness, runs: Runs) -> None:
    one = await one_run(harness, runs)
    task = await harness.task("long.mp4")
    procs = [await runs.start(task, "--shards", "3", "--shard", str(i)) for i in range(3)]

    async def shard_one_committed_owned_frames() -> bool:
        row = await TaskShard.get_or_none(task_id=task.id, index=1)
        return row is not None and row.frames_done >= 16

    await until(shard_one_committed_owned_frames, timeout=120, what="shard 1 past its pre-roll")
    os.killpg(procs[1].pid, signal.SIGKILL)
    others = [await ended(procs[0]), await ended(procs[2])]
    assert [code for code, _ in others] == [0, 0], others
    await asyncio.wait_for(procs[1].wait(), 10)
    killed = await TaskShard.get(task_id=task.id, index=1)
    assert killed.status == TaskStatus.RUNNING and (await Task.get(id=task.id)).status == TaskStatus.RUNNING
    resumed_from = killed.next_frame
    code, err = await ended(await runs.start(task, "--shards", "3", "--shard", "1"))
    assert code == JobExit.OK, err
    assert f"attempt 2 resumes at frame {resumed_from}" in err
    shards = await TaskShard.filter(task_id=task.id).order_by("index")
    assert [s.lease_attempt for s in shards] == [1, 2, 1]  # the others were never disturbed
    await assert_same_answer(one, await Task.get(id=task.id), seams=2)


async def test_a_shard_failing_fails_the_task_with_its_reason_and_stops_the_others(
    harness: JobHarness, runs: Runs
) -> None:
    task = await harness.task("long.mp4", model="scripted", tracker="none", batch_size=1)
    slow = {"SCRIPTED_BATCH_S": "0.3", "VA_STALL_MIN_S": "1", "VA_STALL_FACTOR": "3"}
    module = "tests.support.scripted_model"
    procs = [await runs.start(task, "--shards", "3", "--shard", str(i), module=module, **slow) for i in range(2)]
    procs.append(
        await runs.start(task, "--shards", "3", "--shard", "2", module=module, **slow, SCRIPTED_HANG_AFTER="3")
    )
    results = [await ended(p, within=60) for p in procs]
    assert [code for code, _ in results] == [JobExit.OK, JobExit.OK, JobExit.FAILED], results
    failed = await Task.get(id=task.id)
    assert failed.status == TaskStatus.FAILED
    assert (failed.error or "").startswith("shard 2: the analysis made no progress"), failed.error
    shards = await TaskShard.filter(task_id=task.id).order_by("index")
    assert [s.status for s in shards] == [TaskStatus.FAILED] * 3 and all(s.lease_holder is None for s in shards)


async def test_a_cancel_stops_every_shard(harness: JobHarness, runs: Runs) -> None:
    task = await harness.task("long.mp4", model="scripted", tracker="none", batch_size=1)
    module = "tests.support.scripted_model"
    procs = [
        await runs.start(task, "--shards", "3", "--shard", str(i), module=module, SCRIPTED_BATCH_S="0.2")
        for i in range(3)
    ]

    async def all_running() -> bool:
        return await TaskShard.filter(task_id=task.id, status=TaskStatus.RUNNING).count() == 3

    await until(all_running, timeout=60, what="three shards running")
    await transition(task.id, TaskStatus.CANCELLED)
    results = [await ended(p, within=30) for p in procs]
    assert [code for code, _ in results] == [JobExit.OK] * 3, results
    shards = await TaskShard.filter(task_id=task.id)
    assert {s.status for s in shards} == {TaskStatus.CANCELLED} and all(s.lease_holder is None for s in shards)


async def shards_leaving_the_merge(runs: Runs, task: Task, k: int) -> Lease:
    """Run the task's k shards while the test holds the task's own lease, taken for the merge
    once every shard runs: their runs end without merging, and the lease is the test's."""
    procs = [await runs.start(task, "--shards", str(k), "--shard", str(i), VA_LEASE_WAIT_S="0") for i in range(k)]

    async def all_running() -> bool:
        return await TaskShard.filter(task_id=task.id, status=TaskStatus.RUNNING).count() == k

    await until(all_running, timeout=120, what=f"{k} shards running")
    lease = await acquire(task.id, "test-merge", ttl_s=600, merge=True)
    results = [await ended(p) for p in procs]
    assert [code for code, _ in results] == [0] * k, results
    assert (await Task.get(id=task.id)).status == TaskStatus.RUNNING  # merged by nobody yet
    return lease


async def merged_state(task_id: object) -> dict:
    """What the merge leaves: the task's counters, every track row, every frame row."""
    task = await Task.get(id=task_id)
    tracks = await Track.filter(task_id=task_id).order_by("track_id").values()
    rows = await FrameDetections.filter(task_id=task_id).order_by("frame_index").values_list("frame_index", "objects")
    for t in tracks:
        t.pop("id"), t.pop("task_id")
    events = (
        await ZoneEvent.filter(task_id=task_id)
        .order_by("frame_index", "rule", "kind", "track_id")
        .values_list("frame_index", "rule", "kind", "track_id", "label", "timestamp", "dwell_s")
    )
    counters = (task.status, task.detections, task.objects, task.frames_done, task.zone_totals)
    return {"task": counters, "tracks": tracks, "rows": rows, "events": events}


async def test_a_merge_whose_commits_lose_their_acknowledgements_gives_the_same_answer(
    harness: JobHarness, runs: Runs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shards of two tasks run while the test holds each task's lease (`shards_leaving_the_merge`),
    so their runs leave the merge to it; one merges cleanly, the other with COMMIT acknowledgements lost (its step 1,
    a batch of relabelled frames, its last batch and its ending), each loss followed by the
    merge run again as a rerun would: both end with the same rows, tracks, zone events and
    counters, and the zone events replayed batch by batch are those of one run."""
    monkeypatch.setattr("inference_job.merge.MERGE_BATCH_FRAMES", 50)  # 295 frames: 6 batches
    params = {"frame_stride": 2, **ZONE_RULES}
    clean, lossy = await harness.task("long.mp4", **params), await harness.task("long.mp4", **params)
    held = {t.id: await shards_leaving_the_merge(runs, t, 2) for t in (clean, lossy)}
    await merge_shards(await Task.get(id=clean.id), held[clean.id])
    with lost_acks({1, 3, 7, 8}) as acks:
        for _ in range(6):
            try:
                await merge_shards(await Task.get(id=lossy.id), held[lossy.id])
                break
            except TaskStopped:  # the ending was committed, its acknowledgement lost
                break
            except Exception as exc:
                assert is_transient_db_error(exc), exc
    assert acks.lost == [1, 3, 7, 8]
    expected = await merged_state(clean.id)
    assert expected["task"][0] == TaskStatus.SUCCEEDED and len(expected["tracks"]) >= 3
    assert await merged_state(lossy.id) == expected
    one = await harness.task("long.mp4", **params)
    code, err = await ended(await runs.start(one))
    assert code == JobExit.OK, err
    assert await zone_event_rows(one) == await zone_event_rows(clean) != []


async def test_a_plan_of_one_shard_gives_the_very_answer_of_one_run(
    harness: JobHarness, runs: Runs, scene_parts: list[Path]
) -> None:
    """The same scenes in open GOPs: no frame after the first is an IDR picture, so two shards
    asked make one, with the reason; its answer is the whole run's, track ids included."""
    reencoded(scene_parts, harness.videos_dir / "open.mp4", fps=25, gop=10, open_gop=True)
    one = await harness.task("open.mp4", frame_stride=2)
    code, err = await ended(await runs.start(one))
    assert code == JobExit.OK, err
    task = await harness.task("open.mp4", frame_stride=2)
    assert [code for code, _ in await runs.shards(task, 2)] == [0, 0]
    sharded = await Task.get(id=task.id)
    assert sharded.status == TaskStatus.SUCCEEDED and sharded.shards == 1
    assert sharded.shard_plan is not None and sharded.shard_plan["reason"].startswith("only 1 shard")
    a, b = await frames_of(await Task.get(id=one.id)), await frames_of(sharded)
    assert [(r.frame_index, r.objects) for r in b] == [(r.frame_index, r.objects) for r in a]
    assert await merged_state(task.id) == {**await merged_state(one.id), "task": (await merged_state(task.id))["task"]}


async def test_a_merge_that_cannot_complete_fails_the_task_with_the_reason(harness: JobHarness, runs: Runs) -> None:
    """The shards done and the merge left to the test; a track row naming a shard the plan does
    not have makes the merge impossible: the next run's merge ends the task FAILED with that
    reason instead of leaving it RUNNING for ever."""
    task = await harness.task("long.mp4", frame_stride=2)
    lease = await shards_leaving_the_merge(runs, task, 2)
    row = await Track.filter(task_id=task.id).first().values()
    assert row is not None
    row.pop("id")
    await Track.create(**{**row, "track_id": 7 * SHARD_TRACK_SPAN + 1})
    assert await release(lease)
    code, err = await ended(await runs.start(task, "--shards", "2", "--shard", "0"))
    assert code == JobExit.FAILED, err
    failed = await Task.get(id=task.id)
    assert failed.status == TaskStatus.FAILED and (failed.error or "").startswith("merging the shards failed: "), (
        failed.error
    )


@pytest.mark.detectron2
async def test_detectron2_in_shards_gives_the_boxes_of_one_run(harness: JobHarness, runs: Runs, tmp_path: Path) -> None:
    """A batched model: its batches fall differently in shards, so the same labels, boxes of IoU
    >= 0.99 and scores within 1e-4 frame by frame, and equal counts per label."""
    import torch

    from inference_job.models import create_model

    torch.manual_seed(0)
    model = create_model("detectron2", random_weights=True, device="cpu", input_size=192, min_score=0.0)
    weights = tmp_path / "weights.pth"
    torch.save({"model": model.model.state_dict()}, weights)
    env = {"VA_MODEL_WEIGHTS": str(weights), "VA_INPUT_SIZE": "192"}
    params = {"frame_stride": 10, "score_threshold": 0.02, "batch_size": 4, "tracker": "none"}
    whole = await harness.task("long.mp4", model="detectron2", **params)
    code, err = await ended(await runs.start(whole, **env))
    assert code == JobExit.OK, err
    task = await harness.task("long.mp4", model="detectron2", **params)
    results = await runs.shards(task, 2, **env)
    assert [c for c, _ in results] == [0, 0], results
    one, sharded = await Task.get(id=whole.id), await Task.get(id=task.id)
    assert sharded.status == TaskStatus.SUCCEEDED and sharded.shards == 2, sharded.error
    assert sharded.detections == one.detections and sum(one.detections.values()) > 0
    a, b = await frames_of(one), await frames_of(sharded)
    assert [r.frame_index for r in a] == [r.frame_index for r in b]
    for x, y in zip(a, b, strict=True):
        assert [o["label"] for o in x.objects] == [o["label"] for o in y.objects], x.frame_index
        for p, q in zip(x.objects, y.objects, strict=True):
            assert box_iou(p["box"], q["box"]) >= 0.99 and abs(p["score"] - q["score"]) <= 1e-4, (p, q)


def box_iou(a: list[float], b: list[float]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union > 0 else 1.0


ZONE_RULES = {
    "lines": [{"name": "middle", "start": [0.5, 0.0], "end": [0.5, 1.0]}],
    "zones": [
        {"name": "everywhere", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]]},
        {"name": "right", "polygon": [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]},
    ],
}


async def zone_event_rows(task: Task) -> list[tuple]:
    """The task's events without their track ids (the same objects may be numbered apart)."""
    rows = await ZoneEvent.filter(task_id=task.id).order_by("frame_index", "rule", "kind", "track_id")
    return [(e.frame_index, e.rule, e.kind, e.label, e.timestamp, e.dwell_s) for e in rows]


async def test_zones_in_shards_give_the_events_of_one_run(harness: JobHarness, runs: Runs) -> None:
    """The merge replays the zones over the joined tracks: an object inside `everywhere` across
    both seams enters once and leaves once, and the totals equal one run's."""
    one = await harness.task("long.mp4", **ZONE_RULES)
    code, err = await ended(await runs.start(one))
    assert code == JobExit.OK, err
    task = await harness.task("long.mp4", **ZONE_RULES)
    assert [code for code, _ in await runs.shards(task, 3)] == [0, 0, 0]
    one, sharded = await Task.get(id=one.id), await Task.get(id=task.id)
    assert sharded.status == TaskStatus.SUCCEEDED and sharded.shards == 3, sharded.error
    expected = await zone_event_rows(one)
    assert await zone_event_rows(sharded) == expected
    spanning = [e for e in expected if e[1] == "everywhere" and e[2] == "left" and e[5] > 4.0]
    assert spanning, "no object stays across a seam (100 frames at 25 fps)"
    assert sharded.zone_totals == one.zone_totals and sharded.zone_totals["zones"]["everywhere"]
    assert not await ZoneEvent.filter(task_id=task.id, track_id__gte=SHARD_TRACK_SPAN).exists()  # global ids
