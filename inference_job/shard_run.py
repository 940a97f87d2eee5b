"""One shard of a task cut into K: plan -> take the shard's lease -> its pre-roll and frames ->
the shard SUCCEEDED -> the merge, by whichever shard's run finds all of them done.

The plan is made once per task, by the first run that needs it (`ensure_plan`: the frame table
of `videoanalysis.shard_plan`, recorded with the shards' rows in one transaction that only the
first writer wins), so every shard follows the same ranges. Each shard is then a run like a
whole task's (`inference_job.job`): its own lease, committed position and tracker state on its
row, resumed from its last commit after a crash, with the task's lease left to the merge
(`inference_job.merge`). A shard index past the plan's count (the plan found fewer clean cuts
than asked) has nothing to do.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tortoise.transactions import in_transaction

from inference_job.config import JobSettings
from inference_job.heartbeat import Heartbeat
from inference_job.job import analyse_file, leased_run, take_lease
from inference_job.merge import MergeFenced, merge_shards
from inference_job.source import local_video
from inference_job.tracker import LOST_TRACK_S
from inference_job.watchdog import Watchdog
from videoanalysis.clock import db_now
from videoanalysis.db import is_transient_db_error
from videoanalysis.exitcodes import JobExit
from videoanalysis.lease import Lease, LeaseHeld, LeaseLost, ShardDone, TaskStopped, acquire_shard, why_fenced
from videoanalysis.params import frames_to_analyse, task_params
from videoanalysis.shard_plan import ShardRange, TableError, library, plan, preroll_frames, scan
from videoanalysis.tables import Task, TaskShard
from videoanalysis.task_status import TaskStatus
from videoanalysis.transitions import transition
from videoanalysis.video_probe import probe_video

log = logging.getLogger("inference_job")
OPEN = (TaskStatus.PENDING, TaskStatus.RUNNING)


@dataclass(frozen=True)
class ShardArgs:
    index: int
    count: int


async def run_shard(task_id: uuid.UUID, settings: JobSettings, shard: ShardArgs) -> int:
    """Analyse shard `shard.index` of the task (cut into `shard.count` as asked), then merge if
    it was the last; returns the process exit code (a `JobExit`)."""
    task = await Task.get_or_none(id=task_id)
    if task is None:
        log.error("task %s not found", task_id)
        return JobExit.NO_TASK
    if TaskStatus(task.status).is_final:
        log.info("task %s is already %s; nothing to do", task_id, task.status)
        return JobExit.OK
    params = task_params(task.model, task.params)
    async with local_video(task.video_uri, settings) as path:  # a URL's video: each shard fetches it
        try:
            ranges = await ensure_plan(task, shard.count, path, params.frame_stride)
        except TaskStopped:  # cancelled while its video was scanned
            return JobExit.OK
        if shard.index >= len(ranges):
            log.info("task %s: the plan has %d shards, none numbered %d", task_id, len(ranges), shard.index)
            return JobExit.OK
        own = ranges[shard.index]
        try:
            lease = await _take_shard_lease(task_id, shard.index, settings)
        except ShardDone:
            log.info("task %s: shard %d was analysed by an earlier run", task_id, shard.index)
            return await merge_when_done(task_id, settings)
        except LeaseHeld as exc:
            log.warning("task %s: %s; this run is superseded", task_id, exc)
            return JobExit.SUPERSEDED
        except TaskStopped:
            return JobExit.OK
        log.info(
            "task %s shard %d: attempt %d resumes at frame %d", task_id, own.index, lease.attempt, lease.next_frame
        )

        async def body(heartbeat: Heartbeat, watchdog: Watchdog) -> int:
            await analyse_file(task, params, path, lease, settings, heartbeat, watchdog, shard=own)
            await _shard_done(lease)
            return JobExit.OK

        code = await leased_run(lease, settings, body)
    if code != JobExit.OK:
        return code
    return await merge_when_done(task_id, settings)


async def ensure_plan(task: Task, asked: int, path: Path, stride: int) -> list[ShardRange]:
    """The task's shard ranges: recorded by an earlier run, or planned now from `path` and
    recorded with the shards' rows unless another run recorded its plan first."""
    if task.shard_plan is None:
        made = await asyncio.to_thread(_make_plan, path, asked, stride)
        async with in_transaction() as conn:
            if (
                await Task.filter(id=task.id, shard_plan__isnull=True, status__in=OPEN)  # not once ended
                .using_db(conn)
                .update(shard_plan=made, shards=len(made["shards"]), frames_total=made["analysed"])
            ):
                await TaskShard.bulk_create(
                    [
                        TaskShard(
                            task_id=task.id,
                            index=s["index"],
                            start_frame=s["start"],
                            end_frame=s["end"],
                            preroll_start=s["prerollStart"],
                            start_seconds=s["startSeconds"],
                            next_frame=s["prerollStart"],
                            frames_total=frames_to_analyse(s["end"], stride) - frames_to_analyse(s["start"], stride),
                        )
                        for s in made["shards"]
                    ],
                    using_db=conn,
                )
        await task.refresh_from_db(fields=["shard_plan", "shards", "frames_total", "status"])
    if task.shard_plan is None:
        raise TaskStopped(f"the task is already {task.status}")
    return [
        ShardRange(s["index"], s["start"], s["end"], s["prerollStart"], s["startSeconds"])
        for s in task.shard_plan["shards"]
    ]


def _make_plan(path: Path, asked: int, stride: int) -> dict[str, Any]:
    meta = probe_video(path)
    preroll = preroll_frames(meta.fps, stride, LOST_TRACK_S)
    made: dict[str, Any]
    try:
        made = plan(scan(path), asked, preroll=preroll, expected_frames=meta.frames).as_json()
    except TableError as exc:  # the reader may still read it: one shard, and why
        whole = {"index": 0, "start": 0, "end": meta.frames, "prerollStart": 0, "startSeconds": 0.0}
        made = {"frames": meta.frames, "asked": asked, "library": library(), "reason": str(exc), "shards": [whole]}
    made["analysed"] = frames_to_analyse(made["frames"], stride)
    made["width"], made["height"] = meta.width, meta.height  # the zones' pixels, for the merge
    return made


async def _take_shard_lease(task_id: uuid.UUID, index: int, settings: JobSettings) -> Lease:
    """As `job.take_lease`, for one shard's row."""
    wait = settings.lease_wait_s if settings.lease_wait_s is not None else settings.lease_ttl_s
    deadline = time.monotonic() + wait
    while True:
        try:
            return await acquire_shard(task_id, index, settings.resolved_lease_holder, settings.lease_ttl_s)
        except LeaseHeld:
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(min(1.0, max(0.05, deadline - time.monotonic())))


async def _shard_done(lease: Lease) -> None:
    if not await lease.fenced().update(
        status=TaskStatus.SUCCEEDED, finished_at=await db_now(), lease_holder=None, lease_expires_at=None
    ):
        raise await why_fenced(lease)


async def merge_when_done(task_id: uuid.UUID, settings: JobSettings) -> int:
    """Merge the shards if all of them are done (else the last to finish will). The task's own
    lease keeps two merges apart; a run that finds it held leaves the merge to its holder,
    whose Pod is retried if it dies."""
    if await TaskShard.filter(task_id=task_id).exclude(status=TaskStatus.SUCCEEDED).exists():
        return JobExit.OK
    try:
        lease = await take_lease(task_id, settings, merge=True)
    except LeaseHeld:
        return JobExit.OK
    except TaskStopped:  # merged already, or the task ended meanwhile
        return JobExit.OK
    task = await Task.get(id=task_id)
    try:
        async with Heartbeat(lease):
            await merge_shards(task, lease, settings.zone_limits)
    except TaskStopped:
        return JobExit.OK
    except (LeaseLost, MergeFenced) as exc:
        log.warning("task %s: merge stopped: %s", task_id, exc)
        return JobExit.SUPERSEDED
    except Exception as exc:
        if is_transient_db_error(exc):
            raise  # the run's database retries rerun it, resuming where it stopped
        log.exception("task %s: merge failed", task_id)
        if await transition(task_id, TaskStatus.FAILED, error=f"merging the shards failed: {exc}", fence=lease):
            return JobExit.FAILED
        return JobExit.SUPERSEDED
    return JobExit.OK


__all__ = ["ShardArgs", "ensure_plan", "merge_when_done", "run_shard"]
