"""One analysis run: take the task's lease -> resume at its committed frame -> frames through
the model -> rows with the position, one transaction a batch -> SUCCEEDED.

Every failure of the video or the model ends the task FAILED with a reason a person can read;
a task found already ended (or cancelled meanwhile) is left as it is and the run exits `OK`
(the row is the truth, whatever ended it); a run that lost its lease exits `SUPERSEDED` having
written nothing more; a database that went away, or was never reachable, is waited for inside
the process (VA_DB_RETRIES reruns with capped exponential back-off, each resuming at the committed
frame); a SIGTERM (at any point, the back-off included), or a database still away after those,
releases the lease and exits `INTERRUPTED`, the task left RUNNING for the next run. The Job's pod
failure policy ignores `INTERRUPTED`, so that wait is what keeps a database outage from becoming
a hot loop of Pods. A run that stops making progress (a model that does not load, no batch for
many times its batch time) ends its task FAILED with that reason and exits without waiting for
the stuck model; so does a run that lost its lease meanwhile, `SUPERSEDED` (`watchdog.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from inference_job import model_thread
from inference_job.config import JobSettings
from inference_job.heartbeat import Heartbeat
from inference_job.merge import shard_tracks
from inference_job.metrics import RunStats, export
from inference_job.models import AbstractImageAnalysisMLModel, UnknownModelError, create_model
from inference_job.models.factory import model_class
from inference_job.models.weights import WeightsError
from inference_job.nvdec_reader import DecoderError, open_reader
from inference_job.pipeline import AnalysisParams, FrameResult, ParamsError, analyse, check_labels
from inference_job.reader import FrameMismatch, FrameReader
from inference_job.source import local_video
from inference_job.tracker import LOST_TRACK_S, TrackerStage
from inference_job.watchdog import Pace, Watchdog
from inference_job.writer import ResultWriter
from inference_job.zone_events import Geometry, ZoneEvents
from videoanalysis.db import is_transient_db_error
from videoanalysis.exitcodes import JobExit
from videoanalysis.lease import Lease, LeaseHeld, LeaseLost, TaskStopped, acquire, release, why_fenced
from videoanalysis.params import frames_to_analyse, task_params
from videoanalysis.shard_plan import ShardRange
from videoanalysis.tables import Task
from videoanalysis.task_status import TaskStatus
from videoanalysis.transitions import transition
from videoanalysis.video_fetch import RemoteVideoError
from videoanalysis.video_probe import VideoReadError
from videoanalysis.zones import ZoneLimits

log = logging.getLogger("inference_job")

# Failures whose message is already the reason to show.
_CLEAR_ERRORS = (VideoReadError, WeightsError, UnknownModelError, ParamsError, DecoderError, RemoteVideoError)


def model_options(name: str, settings: JobSettings) -> dict[str, Any]:
    """The job settings a model's constructor accepts (by parameter name), so adding a model
    needs no change here: a model that takes `device` gets VA_DEVICE, and so on."""
    offered = {
        "device": settings.device,
        "weights": settings.model_weights,
        "weights_sha256": settings.model_weights_sha256,
        "cache_dir": settings.resolved_model_cache_dir,
        "input_size": settings.input_size,
        "compile_mode": settings.compile_mode,
    }
    accepted = inspect.signature(model_class(name)).parameters
    return {k: v for k, v in offered.items() if k in accepted}


def failure_reason(exc: BaseException) -> str:
    if isinstance(exc, _CLEAR_ERRORS):
        return str(exc)
    if isinstance(exc, ImportError):
        return f"the model cannot be loaded: {exc}"
    return f"analysis failed: {type(exc).__name__}: {exc}"


async def take_lease(task_id: uuid.UUID, settings: JobSettings, *, merge: bool = False) -> Lease:
    """Acquire the lease, waiting up to VA_LEASE_WAIT_S (one TTL) for another run's to expire
    (a retried Pod whose predecessor died without releasing it)."""
    wait = settings.lease_wait_s if settings.lease_wait_s is not None else settings.lease_ttl_s
    deadline = time.monotonic() + wait
    while True:
        try:
            return await acquire(task_id, settings.resolved_lease_holder, settings.lease_ttl_s, merge=merge)
        except LeaseHeld:
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(min(1.0, max(0.05, deadline - time.monotonic())))


class DatabaseUnavailable(Exception):
    """The database went away under a run (its lease, if any, was released)."""


RunOnce = Callable[[uuid.UUID, JobSettings], Awaitable[int]]


async def run_task(task_id: uuid.UUID, settings: JobSettings, run: RunOnce | None = None) -> int:
    """Analyse one task; returns the process exit code (a `JobExit`). A database that is
    unreachable is retried here with capped back-off (`JobSettings.db_retry_delay`), so one blip
    never costs a Pod and a database that stays down is waited for before exiting `INTERRUPTED`.
    A SIGTERM (the main task cancelled) ends the wait at once, also `INTERRUPTED`. `run` is one
    run of the whole task (the default) or of one of its shards (`inference_job.shard_run`)."""
    try:
        for attempt in range(settings.db_retries + 1):
            try:
                return await _run_once(task_id, settings, run or _run_task)
            except DatabaseUnavailable as exc:
                if attempt == settings.db_retries:
                    log.warning("task %s: database unavailable (%s); the next run resumes", task_id, exc)
                    break
                delay = settings.db_retry_delay(attempt)
                log.warning("task %s: database unavailable (%s); rerun %d in %.1f s", task_id, exc, attempt + 1, delay)
                await asyncio.sleep(delay)
    except asyncio.CancelledError:  # before the lease or between reruns: nothing to release
        log.warning("task %s: stopped by a signal; the next run resumes", task_id)
    return JobExit.INTERRUPTED


async def _run_once(task_id: uuid.UUID, settings: JobSettings, run: RunOnce) -> int:
    try:
        return await run(task_id, settings)
    except Exception as exc:
        if is_transient_db_error(exc):
            raise DatabaseUnavailable(str(exc) or type(exc).__name__) from exc
        raise


async def _run_task(task_id: uuid.UUID, settings: JobSettings) -> int:
    try:
        task = await Task.get_or_none(id=task_id)
    except OSError as exc:  # the first query: no connection at all (a name not resolved, a timeout)
        raise DatabaseUnavailable(str(exc) or type(exc).__name__) from exc
    if task is None:
        log.error("task %s not found", task_id)
        return JobExit.NO_TASK
    if TaskStatus(task.status).is_final:  # ended by an earlier run or by a person: not this run's to judge
        log.info("task %s is already %s; nothing to do", task_id, task.status)
        return JobExit.OK
    try:
        lease = await take_lease(task_id, settings)
    except LeaseHeld as exc:
        log.warning("task %s: %s; this run is superseded", task_id, exc)
        return JobExit.SUPERSEDED
    except TaskStopped:
        return JobExit.OK
    log.info("task %s: attempt %d resumes at frame %d", task_id, lease.attempt, lease.next_frame)
    return await leased_run(lease, settings, functools.partial(_analyse_task, task, lease, settings))


async def leased_run(lease: Lease, settings: JobSettings, body: Callable[[Heartbeat, Watchdog], Awaitable[int]]) -> int:
    """`body` under the lease's heartbeat and the run's watchdog, its failures turned into the
    task's (or shard's) ending and the process's exit code."""
    name = f"task {lease.task_id}" + (f" shard {lease.shard}" if lease.shard is not None else "")
    try:
        fail = functools.partial(_fail, lease)
        async with (
            Heartbeat(lease) as heartbeat,
            Watchdog(Pace.of(settings), heartbeat, fail, name=name) as watchdog,
        ):
            return await body(heartbeat, watchdog)
    except TaskStopped:
        log.info("%s stopped while running (cancelled)", name)
        return JobExit.OK
    except LeaseLost as exc:
        log.warning("%s: %s; this run stops", name, exc)
        return JobExit.SUPERSEDED
    except asyncio.CancelledError:
        log.warning("%s: stopped by a signal; the next run resumes", name)
        return await _interrupted(lease)
    except FrameMismatch as exc:
        log.error("%s: %s", name, exc)
        code = await _fail(lease, str(exc))
        return JobExit.FRAME_MISMATCH if code == JobExit.FAILED else code
    except Exception as exc:
        if not isinstance(exc, (*_CLEAR_ERRORS, ImportError)) and is_transient_db_error(exc):
            await _interrupted(lease)
            raise DatabaseUnavailable(str(exc) or type(exc).__name__) from exc
        log.exception("%s failed", name)
        return await _fail(lease, failure_reason(exc))


async def _interrupted(lease: Lease) -> int:
    with contextlib.suppress(Exception):  # the database may be the reason: the lease then expires
        await release(lease)
    return JobExit.INTERRUPTED


async def _fail(lease: Lease, reason: str) -> int:
    if lease.shard is not None:  # the whole task fails with it: its other shards stop
        reason = f"shard {lease.shard}: {reason}"
    if await transition(lease.task_id, TaskStatus.FAILED, error=reason, fence=lease) is not None:
        return JobExit.FAILED
    return JobExit.SUPERSEDED if isinstance(await why_fenced(lease), LeaseLost) else JobExit.OK


async def _analyse_task(
    task: Task, lease: Lease, settings: JobSettings, heartbeat: Heartbeat, watchdog: Watchdog
) -> int:
    params = task_params(task.model, task.params)
    async with local_video(task.video_uri, settings) as path:  # a URL's video: fetched first
        done = await analyse_file(task, params, path, lease, settings, heartbeat, watchdog)
    if await transition(task.id, TaskStatus.SUCCEEDED, fence=lease, frames_done=done) is None:
        raise await why_fenced(lease)
    log.info("task %s succeeded: %d frames analysed (from frame %d in this run)", task.id, done, lease.next_frame)
    return JobExit.OK


async def analyse_file(
    task: Task,
    params: AnalysisParams,
    path: Path,
    lease: Lease,
    settings: JobSettings,
    heartbeat: Heartbeat,
    watchdog: Watchdog,
    shard: ShardRange | None = None,
) -> int:
    """The leased frames of `path` (the whole video, or `shard`'s range after its pre-roll)
    through the model into the results; returns the frames analysed (the shard's own)."""
    start = lease.next_frame
    end, owned_from = (shard.end, shard.start) if shard is not None else (None, 0)
    expect = (shard.start, shard.start_seconds) if shard is not None and start <= shard.start else None
    with open_reader(path, params.frame_stride, settings, task.model, start=start, end=end, expect=expect) as reader:
        # Written on every run, over the API's count of an upload: a task from a URL or a manifest
        # has none until now, and this is the count the reader holds the video to (its truncation
        # check) by this image's OpenCV, which need not be the API's.
        total = frames_to_analyse(reader.end, params.frame_stride) - frames_to_analyse(owned_from, params.frame_stride)
        if not await lease.fenced().update(frames_total=total, error=None):
            raise await why_fenced(lease)
        watchdog.loading()  # from here on the run must make progress (see watchdog.py)
        model = await model_thread.submit(create_model, task.model, **model_options(task.model, settings))
        watchdog.loaded()
        check_labels(params, model)
        done = await run_pipeline(
            reader, model, params, lease, settings, heartbeat, progress=watchdog.batch, owned_from=owned_from
        )
        watchdog.idle()
    return done


def zone_stage(
    params: AnalysisParams, lease: Lease, width: int, height: int, limits: ZoneLimits | None = None
) -> ZoneEvents | None:
    """The task's zone and line events, resumed from the state committed with the last batch.
    None for a shard: the merge makes a sharded task's events once the tracks are joined."""
    rules = params.rules
    if not rules or params.tracker == "none" or lease.shard is not None:
        return None
    saved = (lease.stage_state or {}).get("zones") if isinstance(lease.stage_state, dict) else None
    try:
        geometry = Geometry(rules, width, height, limits)
    except ValueError as exc:  # pixels past this video's frame, or over the limits: it can never run
        raise ParamsError(str(exc)) from None
    return ZoneEvents(rules, geometry, lost_after_s=LOST_TRACK_S, state=saved)


def tracker_stage(params: AnalysisParams, lease: Lease, fps: float) -> TrackerStage | None:
    """The task's tracker, resumed from the state committed with the last batch (if any)."""
    if params.tracker == "none":
        return None
    saved = (lease.stage_state or {}).get("tracker") if isinstance(lease.stage_state, dict) else None
    return TrackerStage(params.tracker, fps, state=saved)


async def run_pipeline(
    reader: FrameReader,
    model: AbstractImageAnalysisMLModel,
    params: AnalysisParams,
    lease: Lease,
    settings: JobSettings,
    heartbeat: Heartbeat | None = None,
    progress: Callable[[], None] | None = None,
    owned_from: int = 0,
) -> int:
    """The pipeline (`inference_job.pipeline.analyse`: frames -> model -> tracker) into the
    writer, for a leased task; returns the task's frames analysed so far (those committed
    before this run included). `progress` is told of each batch that comes out of the model
    (the run's watchdog)."""
    fps = reader.meta.fps
    batch = params.batch_size or settings.batch_size or model.preferred_batch_size
    writer = ResultWriter(
        lease,
        stride=params.frame_stride,
        batch_frames=settings.write_batch_frames,
        progress_interval_s=settings.progress_interval_s,
        tracking=params.tracker != "none",
        owned_from=owned_from,
    )

    async def sink(results: list[FrameResult]) -> None:
        if progress is not None:
            progress()
        if heartbeat is not None:
            heartbeat.check()
        state = getattr(results, "stage_state", None)
        if lease.shard is not None:  # a shard's track ids, made unique across the task's shards
            results = [shard_tracks(r, lease.shard) for r in results]
        await writer.add(results, state)

    stats, started = RunStats(), time.perf_counter()
    try:
        zones = zone_stage(params, lease, reader.meta.width, reader.meta.height, settings.zone_limits)
        tracker = tracker_stage(params, lease, fps)
        await analyse(reader, model, params, sink, batch_size=batch, stats=stats, tracker=tracker, zones=zones)
        await writer.finish()
        if zones is not None:  # the end of the video: who is still in a zone leaves it
            await writer.final_events(zones.finish())
    except BaseException:
        await writer.abort()
        raise
    stats.wall_seconds = time.perf_counter() - started
    stats.decode_seconds = reader.decode_seconds
    export(
        stats,
        task_id=str(lease.task_id),
        model=model.name,
        metrics_file=settings.metrics_file,
        pushgateway_url=settings.pushgateway_url,
    )
    return writer.committed_frames_done + writer.written
