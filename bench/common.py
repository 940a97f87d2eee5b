"""Measurements shared by `bench/run.py` (CPU) and `bench/gpu.py`.

decode : the job's reader alone (its thread decoding the file, frames handed to a consumer
         that does nothing), frames/s;
bare   : `model.predict` over frames already decoded in memory, in batches of B, in the job's
         model thread (models are created and warmed there too);
e2e    : the job's own pipeline for a RUNNING task (reader thread decoding the file, batching,
         the model, filters, batched DB writes, progress, the final SUCCEEDED transition),
         timed from opening the video to the task row saying SUCCEEDED.
The pipeline's ceiling is e2e with `NullModel` (no work, no detections) over decode: what the
pipeline itself costs. Model loading and process start are fixed costs left out of all three.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from inference_job.models.base import AbstractImageAnalysisMLModel, Detection


class NullModel(AbstractImageAnalysisMLModel):
    """Returns no detections at once: a benchmark fixture, never registered in the factory."""

    name = "null"

    def __init__(self, batch_size: int = 8) -> None:
        self._batch_size = batch_size

    @property
    def labels(self) -> Sequence[str]:
        return ()

    @property
    def preferred_batch_size(self) -> int:
        return self._batch_size

    def predict(self, frames: Sequence[np.ndarray]) -> list[list[Detection]]:
        return [[] for _ in frames]


def pattern_frames(frames: int, size: tuple[int, int]) -> Iterator[np.ndarray]:
    """A moving synthetic pattern, BGR (H, W, 3) (a random-weight model does not care)."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    for i in range(frames):
        img = ((xx + 3 * i) % 256 ^ (yy % 256)).astype(np.uint8)
        yield cv2.merge([img, np.roll(img, i, axis=1), 255 - img])


def write_h264(path: Path, images: Iterator[np.ndarray], size: tuple[int, int], fps: float) -> Path | None:
    """Encode BGR frames as H.264 in MP4 with PyAV's libx264 (OpenCV's pip build cannot write
    H.264, the codec real uploads and NVDEC use); None when PyAV is missing."""
    try:
        import av
    except ImportError:
        return None
    from fractions import Fraction

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23"}
        for image in images:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        container.mux(stream.encode(None))
    return path


def make_video(path: Path, frames: int, size: tuple[int, int], fps: float = 25.0, h264: bool = True) -> Path:
    """A real encoded video: the astronaut pan (up to 280 px high, with scikit-image), else a
    moving synthetic pattern; H.264 when PyAV is installed (and `h264`), else MPEG-4 part 2."""
    images: Iterator[np.ndarray]
    try:
        if size[1] > 280:
            raise ImportError("the pan keeps the face centred only up to 280 px high")
        from tests.support.videos import pan_video

        pan = pan_video(path.with_suffix(".pan.mp4"), frames=frames, fps=fps, size=size, step=2).path
        images = iter(decode_all(pan))
    except ImportError:
        images = pattern_frames(frames, size)
    if h264 and (done := write_h264(path, images, size, fps)) is not None:
        return done
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for image in images:
        writer.write(image)
    writer.release()
    return path


def decode_all(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while (item := cap.read())[0]:
        frames.append(item[1])
    cap.release()
    return frames


def decode_fps(video: Path, reader_class: Any = None) -> float:
    """Frames per second of the job's reader alone (thread, queue, hand-off), frames dropped."""
    from inference_job.reader import FrameReader

    start = time.perf_counter()
    with (reader_class or FrameReader)(video) as reader:
        n = sum(1 for _ in reader)
    return n / (time.perf_counter() - start)


def bare_fps(
    model: AbstractImageAnalysisMLModel,
    frames: Sequence[np.ndarray],
    batch: int,
    sync: Callable[[], None] = lambda: None,
) -> float:
    """Frames per second of `model.predict` alone, `batch` frames a call, in the model thread
    (where the job runs it: see `inference_job.model_thread`)."""
    from inference_job import model_thread

    return model_thread.call(_bare_fps, model, frames, batch, sync)


def _bare_fps(
    model: AbstractImageAnalysisMLModel, frames: Sequence[np.ndarray], batch: int, sync: Callable[[], None]
) -> float:
    sync()
    start = time.perf_counter()
    for i in range(0, len(frames), batch):
        model.predict(frames[i : i + batch])
    sync()
    return len(frames) / (time.perf_counter() - start)


async def connect(database_url: str) -> None:
    """Tortoise on `database_url` as the job connects (`tortoise_config`: on SQLite the
    immediate-transaction client with WAL), tables made from the models (no Aerich, which the
    GPU machine lacks; the job's writes are the same)."""
    from tortoise import Tortoise

    from videoanalysis.db import tortoise_config

    await Tortoise.init(config=tortoise_config(database_url))
    await Tortoise.generate_schemas(safe=True)


async def e2e_fps(
    model: AbstractImageAnalysisMLModel,
    video: Path,
    batch: int,
    database_url: str,
    reader_class: Any = None,
    tracker: str = "none",
) -> float:
    """Frames per second of the job pipeline on `video` for a fresh RUNNING task; no tracker
    unless asked (its cost is `make bench-tracking`'s figure)."""
    from inference_job.config import JobSettings
    from inference_job.job import run_pipeline
    from inference_job.pipeline import AnalysisParams
    from inference_job.reader import FrameReader
    from videoanalysis.lease import acquire
    from videoanalysis.tables import Task, User
    from videoanalysis.task_status import TaskStatus
    from videoanalysis.transitions import transition

    settings = JobSettings(database_url=database_url, batch_size=batch)
    user, _ = await User.get_or_create(email="bench@example.com", defaults={"password_hash": "-"})
    task = await Task.create(owner=user, model=model.name, video_uri=f"file://{video}")
    start = time.perf_counter()
    with (reader_class or FrameReader)(video, queue_frames=settings.queue_frames) as reader:
        lease = await acquire(task.id, "bench", settings.lease_ttl_s)
        done = await run_pipeline(reader, model, AnalysisParams(tracker=tracker), lease, settings)
    await transition(task.id, TaskStatus.SUCCEEDED, frames_done=done, fence=lease)
    elapsed = time.perf_counter() - start
    await Task.filter(id=task.id).delete()
    await _settle_wal()
    return done / elapsed


async def _settle_wal() -> None:
    """On SQLite, fold the WAL back now: the delete above leaves thousands of pages in it, and
    the checkpoint they call for would otherwise land in the next measured run."""
    from tortoise import Tortoise

    conn = Tortoise.get_connection("default")
    if conn.capabilities.dialect == "sqlite":
        await conn.execute_query("PRAGMA wal_checkpoint(TRUNCATE)")


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread(values: Sequence[float]) -> float:
    """Half the range of `values` over their median: 0.04 reads as ±4 %."""
    mid = statistics.median(values)
    return (max(values) - min(values)) / 2 / mid if mid else 0.0


def verdict(ratio: float, spread_: float, goal: float, tolerance: float = 0.05) -> str:
    """'met' / 'NOT met' where the repeats agree within ±`tolerance`, else the figure stands
    without a claim ('noisy')."""
    if spread_ > tolerance:
        return f"noisy (±{spread_:.0%})"
    return "met" if ratio >= goal else "NOT met"


def row(*cells: object, widths: Sequence[int] = (28, 12, 12, 12)) -> str:
    return "".join(
        f"{c!s:<{w}}" if i == 0 else f"{c!s:>{w}}" for i, (c, w) in enumerate(zip(cells, widths, strict=False))
    )


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union > 0 else 1.0


def match_detections(want: Sequence[Sequence[Detection]], got: Sequence[Sequence[Detection]]) -> dict[str, float]:
    """Compare two models' detections on the same frames: each reference box is paired with the
    best-overlapping box of the same label. Returns `labels_equal` (1.0 when every frame has
    the same multiset of labels), `mean_iou` of the pairs and `max_score_diff` between them."""
    same, ious, diffs = True, [], [0.0]
    for ref, new in zip(want, got, strict=True):
        same &= sorted(d.label for d in ref) == sorted(d.label for d in new)
        for d in ref:
            pairs = [(_iou(d.box, n.box), n) for n in new if n.label == d.label]
            best = max(pairs, key=lambda p: p[0], default=(0.0, None))
            ious.append(best[0])
            if best[1] is not None:
                diffs.append(abs(best[1].score - d.score))
    return {
        "labels_equal": float(same),
        "mean_iou": statistics.fmean(ious) if ious else 1.0,
        "max_score_diff": max(diffs),
        "boxes": float(len(ious)),
    }


def accuracy_met(check: dict[str, float]) -> str:
    """The compiled-vs-eager verdict: same labels, mean IoU >= 0.95, scores within 0.02, and at
    least one box compared (an empty comparison proves nothing)."""
    if not check["boxes"]:
        return "no boxes to compare: not claimed"
    ok = check["labels_equal"] == 1.0 and check["mean_iou"] >= 0.95 and check["max_score_diff"] <= 0.02
    return "met" if ok else "NOT met"


def condition_random_weights(
    model: Any, frames: Sequence[np.ndarray], logit_gain: float = 3.0, rpn_gain: float = 30.0
) -> None:
    """Make a random-weight Detectron2 model behave numerically like a trained one (its labels
    still mean nothing): every frozen batch norm takes its statistics from its own input on
    `frames` (a data-dependent initialisation: activations of unit scale at every layer, as in a
    trained network, where random ones grow by orders of magnitude and fp16 would see
    unrealistic values), and the RPN's objectness and the classifier's logits are scaled so
    that proposals and detections are decided by margins rather than near-ties."""
    import torch
    from detectron2.layers import FrozenBatchNorm2d

    def from_input(module: Any, args: tuple) -> None:
        x = args[0].float()
        module.running_mean.copy_(x.mean((0, 2, 3)))
        module.running_var.copy_(x.var((0, 2, 3)) + module.eps)

    net = model.model
    hooks = [m.register_forward_pre_hook(from_input) for m in net.modules() if isinstance(m, FrozenBatchNorm2d)]
    try:
        with torch.inference_mode():
            net(model._prepare_batch(frames))  # fp32: the statistics of the real activations
    finally:
        for hook in hooks:
            hook.remove()
    with torch.no_grad():
        net.proposal_generator.rpn_head.objectness_logits.weight.mul_(rpn_gain)
        net.roi_heads.box_predictor.cls_score.weight.mul_(logit_gain)
