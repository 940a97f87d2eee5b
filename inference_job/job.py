"""One analysis run: task row -> RUNNING -> frames through the model -> rows -> SUCCEEDED.

Every failure ends the task FAILED with a reason a person can read; a task that is cancelled
meanwhile is left as it is and the run stops early.
"""

from __future__ import annotations

import inspect
import logging
import time
import uuid
from pathlib import Path
from typing import Any

from inference_job.config import JobSettings
from inference_job.metrics import RunStats, export
from inference_job.models import AbstractImageAnalysisMLModel, UnknownModelError, create_model
from inference_job.models.factory import model_class
from inference_job.models.weights import WeightsError
from inference_job.reader import FrameReader, VideoReadError
from inference_job.runner import AnalysisParams, ParamsError, analyse, check_labels
from inference_job.source import local_video
from inference_job.writer import ResultWriter, TaskStopped
from videoanalysis.models import Task
from videoanalysis.params import task_params
from videoanalysis.remote import RemoteVideoError
from videoanalysis.status import TaskStatus
from videoanalysis.tasks import transition

log = logging.getLogger("inference_job")

EXIT_OK, EXIT_FAILED, EXIT_NO_TASK = 0, 1, 2
# Failures whose message is already the reason to show.
_CLEAR_ERRORS = (VideoReadError, WeightsError, UnknownModelError, ParamsError, RemoteVideoError)


def model_options(name: str, settings: JobSettings) -> dict[str, Any]:
    """The job settings a model's constructor accepts (by parameter name), so adding a model
    needs no change here: a model that takes `device` gets VA_DEVICE, and so on."""
    offered = {
        "device": settings.device,
        "weights": settings.model_weights,
        "weights_sha256": settings.model_weights_sha256,
        "cache_dir": settings.resolved_model_cache_dir,
        "input_size": settings.input_size,
    }
    accepted = inspect.signature(model_class(name)).parameters
    return {k: v for k, v in offered.items() if k in accepted}


def failure_reason(exc: BaseException) -> str:
    if isinstance(exc, _CLEAR_ERRORS):
        return str(exc)
    if isinstance(exc, ImportError):
        return f"the model cannot be loaded: {exc}"
    return f"analysis failed: {type(exc).__name__}: {exc}"


async def run_task(task_id: uuid.UUID, settings: JobSettings) -> int:
    """Analyse one task; returns the process exit code."""
    task = await Task.get_or_none(id=task_id)
    if task is None:
        log.error("task %s not found", task_id)
        return EXIT_NO_TASK
    status = TaskStatus(task.status)
    if status.is_final:
        log.info("task %s is already %s; nothing to do", task_id, status)
        return EXIT_FAILED if status is TaskStatus.FAILED else EXIT_OK
    try:
        return await _analyse_task(task, settings)
    except TaskStopped:
        log.info("task %s stopped while running (cancelled)", task_id)
        return EXIT_OK
    except Exception as exc:
        log.exception("task %s failed", task_id)
        await transition(task_id, TaskStatus.FAILED, error=failure_reason(exc))
        return EXIT_FAILED


async def _analyse_task(task: Task, settings: JobSettings) -> int:
    params = task_params(task.model, task.params)
    async with local_video(task.video_uri, settings) as path:  # a URL's video: fetched first
        return await _analyse_file(task, params, path, settings)


async def _analyse_file(task: Task, params: AnalysisParams, path: Path, settings: JobSettings) -> int:
    with FrameReader(path, stride=params.frame_stride, queue_frames=settings.queue_frames) as reader:
        total = reader.meta.frames_to_analyse(params.frame_stride)
        if await transition(task.id, TaskStatus.RUNNING, frames_total=total, frames_done=0, error=None) is None:
            raise TaskStopped()
        model = create_model(task.model, **model_options(task.model, settings))
        check_labels(params, model)
        done = await run_pipeline(reader, model, params, task.id, settings)
    if await transition(task.id, TaskStatus.SUCCEEDED, frames_done=done) is None:
        raise TaskStopped()
    log.info("task %s succeeded: %d frames analysed", task.id, done)
    return EXIT_OK


async def run_pipeline(
    reader: FrameReader,
    model: AbstractImageAnalysisMLModel,
    params: AnalysisParams,
    task_id: uuid.UUID,
    settings: JobSettings,
) -> int:
    """Frames -> model -> writer for a RUNNING task; returns the frames written."""
    batch = params.batch_size or settings.batch_size or model.preferred_batch_size
    writer = ResultWriter(
        task_id, batch_frames=settings.write_batch_frames, progress_interval_s=settings.progress_interval_s
    )
    stats, started = RunStats(), time.perf_counter()
    try:
        await analyse(reader, model, params, writer.add, batch_size=batch, stats=stats)
        done = await writer.finish()
    except BaseException:
        await writer.abort()
        raise
    stats.wall_seconds = time.perf_counter() - started
    stats.decode_seconds = reader.decode_seconds
    export(
        stats,
        task_id=str(task_id),
        model=model.name,
        metrics_file=settings.metrics_file,
        pushgateway_url=settings.pushgateway_url,
    )
    return done
