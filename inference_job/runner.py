"""The analysis pipeline: frames -> batches -> model -> filtered per-frame results -> sink.

Kept free of the database: the sink is any async callable (the job passes `ResultWriter.add`),
so the pipeline is tested and benchmarked on its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

from inference_job.metrics import RunStats
from inference_job.models.base import AbstractImageAnalysisMLModel, Detection
from inference_job.reader import Frame
from videoanalysis.params import AnalysisParams, ParamsError

__all__ = ["AnalysisParams", "FrameResult", "ParamsError", "analyse", "check_labels", "keep"]


def check_labels(params: AnalysisParams, model: AbstractImageAnalysisMLModel) -> None:
    """Refuse labels the model can never return (a typo would silently store nothing)."""
    if params.labels is None:
        return
    unknown = sorted(set(params.labels) - set(model.labels))
    if unknown:
        known = ", ".join(model.labels[:20]) + (", ..." if len(model.labels) > 20 else "")
        raise ParamsError(f"labels not known to model {model.name}: {', '.join(unknown)} (its labels: {known})")


def keep(params: AnalysisParams, detections: Sequence[Detection]) -> list[dict]:
    """The detections to store, as JSON objects."""
    labels = params.label_set
    return [
        d.as_json() for d in detections if d.score >= params.score_threshold and (labels is None or d.label in labels)
    ]


@dataclass(frozen=True, slots=True)
class FrameResult:
    frame_index: int
    timestamp_s: float
    objects: list[dict]


Sink = Callable[[list[FrameResult]], Awaitable[None]]


def batched(frames: Iterable[Frame], size: int) -> Iterator[list[Frame]]:
    it = iter(frames)
    while batch := list(islice(it, size)):
        yield batch


def _next_results(
    batches: Iterator[list[Frame]], model: AbstractImageAnalysisMLModel, params: AnalysisParams, stats: RunStats
) -> list[FrameResult] | None:
    """Take the next batch and run the model on it (called in a worker thread)."""
    batch = next(batches, None)
    if batch is None:
        return None
    started = time.perf_counter()
    detections = model.predict([f.image for f in batch])
    stats.model_seconds += time.perf_counter() - started
    stats.batches += 1
    if len(detections) != len(batch):
        raise RuntimeError(f"model {model.name} returned {len(detections)} results for {len(batch)} frames")
    return [FrameResult(f.index, f.timestamp_s, keep(params, d)) for f, d in zip(batch, detections, strict=False)]


async def analyse(
    frames: Iterable[Frame],
    model: AbstractImageAnalysisMLModel,
    params: AnalysisParams,
    sink: Sink,
    *,
    batch_size: int,
    stats: RunStats | None = None,
) -> int:
    """Run `model` over `frames` in batches of `batch_size`; returns the frames analysed.

    Inference runs in a worker thread, so the event loop keeps writing earlier results
    (the sink may start a write and return) while the next batch is computed.
    """
    stats = stats if stats is not None else RunStats()
    stats.batch_size = max(1, batch_size)
    batches = batched(frames, stats.batch_size)
    done = 0
    while (results := await asyncio.to_thread(_next_results, batches, model, params, stats)) is not None:
        await sink(results)
        done += len(results)
    stats.frames = done
    return done
