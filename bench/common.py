"""Measurements shared by `bench/run.py` (CPU) and `bench/gpu.py`.

bare  : `model.predict` over frames already decoded in memory, in batches of B;
e2e   : the job's own pipeline for a RUNNING task (reader thread decoding the file, batching,
        the model, filters, batched DB writes, progress, the final SUCCEEDED transition),
        timed from opening the video to the task row saying SUCCEEDED.
Model loading and process start are fixed costs left out of both.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from inference_job.models.base import AbstractImageAnalysisMLModel


def make_video(path: Path, frames: int, size: tuple[int, int], fps: float = 25.0) -> Path:
    """A real encoded video: the astronaut pan (up to 280 px high, with scikit-image), else a
    moving synthetic pattern (a random-weight model does not care what it sees)."""
    try:
        if size[1] > 280:
            raise ImportError("the pan keeps the face centred only up to 280 px high")
        from tests.videos import pan_video

        return pan_video(path, frames=frames, fps=fps, size=size, step=2).path
    except ImportError:
        w, h = size
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
        yy, xx = np.mgrid[0:h, 0:w]
        for i in range(frames):
            img = ((xx + 3 * i) % 256 ^ (yy % 256)).astype(np.uint8)
            writer.write(cv2.merge([img, np.roll(img, i, axis=1), 255 - img]))
        writer.release()
        return path


def decode_all(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while (item := cap.read())[0]:
        frames.append(item[1])
    cap.release()
    return frames


def bare_fps(
    model: AbstractImageAnalysisMLModel,
    frames: Sequence[np.ndarray],
    batch: int,
    sync: Callable[[], None] = lambda: None,
) -> float:
    """Frames per second of `model.predict` alone, `batch` frames a call."""
    sync()
    start = time.perf_counter()
    for i in range(0, len(frames), batch):
        model.predict(frames[i : i + batch])
    sync()
    return len(frames) / (time.perf_counter() - start)


async def connect(database_url: str) -> None:
    """Tortoise on `database_url` with the project's models and their tables (no Aerich, which
    the GPU machine lacks; the job's writes are the same)."""
    from tortoise import Tortoise

    await Tortoise.init(db_url=database_url, modules={"models": ["videoanalysis.models"]}, use_tz=True, timezone="UTC")
    await Tortoise.generate_schemas(safe=True)


async def e2e_fps(model: AbstractImageAnalysisMLModel, video: Path, batch: int, database_url: str) -> float:
    """Frames per second of the job pipeline on `video` for a fresh RUNNING task."""
    from inference_job.config import JobSettings
    from inference_job.job import run_pipeline
    from inference_job.reader import FrameReader
    from inference_job.runner import AnalysisParams
    from videoanalysis.lease import acquire
    from videoanalysis.models import Task, User
    from videoanalysis.status import TaskStatus
    from videoanalysis.tasks import transition

    settings = JobSettings(database_url=database_url, batch_size=batch)
    user, _ = await User.get_or_create(email="bench@example.com", defaults={"password_hash": "-"})
    task = await Task.create(owner=user, model=model.name, video_uri=f"file://{video}")
    start = time.perf_counter()
    with FrameReader(video, queue_frames=settings.queue_frames) as reader:
        lease = await acquire(task.id, "bench", settings.lease_ttl_s)
        done = await run_pipeline(reader, model, AnalysisParams(), lease, settings)
    await transition(task.id, TaskStatus.SUCCEEDED, frames_done=done, fence=lease)
    elapsed = time.perf_counter() - start
    await Task.filter(id=task.id).delete()
    return done / elapsed


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def row(*cells: object, widths: Sequence[int] = (28, 12, 12, 12)) -> str:
    return "".join(
        f"{c!s:<{w}}" if i == 0 else f"{c!s:>{w}}" for i, (c, w) in enumerate(zip(cells, widths, strict=False))
    )
