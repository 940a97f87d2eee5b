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
from typing import Any

from inference_job.metrics import RunStats
from inference_job.models.base import AbstractImageAnalysisMLModel, Detection
from inference_job.reader import Frame


class ParamsError(ValueError):
    """A task parameter is invalid; the message names it."""


@dataclass(frozen=True, slots=True)
class AnalysisParams:
    """Task.params, checked: `score_threshold` 0..1, `frame_stride` >= 1, `labels` or None."""

    score_threshold: float = 0.0
    frame_stride: int = 1
    labels: frozenset[str] | None = None
    batch_size: int = 0  # 0: the job's setting or the model's preference

    @classmethod
    def from_task(cls, params: dict[str, Any] | None) -> AnalysisParams:
        params = params or {}
        score = params.get("score_threshold", 0.0)
        stride = params.get("frame_stride", 1)
        labels = params.get("labels")
        batch = params.get("batch_size", 0) or 0
        if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
            raise ParamsError(f"score_threshold must be a number from 0 to 1, got {score!r}")
        if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
            raise ParamsError(f"frame_stride must be an integer >= 1, got {stride!r}")
        if labels is not None and (not isinstance(labels, list) or not all(isinstance(x, str) for x in labels)):
            raise ParamsError(f"labels must be a list of strings or null, got {labels!r}")
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 0:
            raise ParamsError(f"batch_size must be an integer >= 0, got {batch!r}")
        return cls(float(score), stride, frozenset(labels) if labels is not None else None, batch)

    def check_labels(self, model: AbstractImageAnalysisMLModel) -> None:
        """Refuse labels the model can never return (a typo would silently store nothing)."""
        if self.labels is None:
            return
        unknown = sorted(self.labels - set(model.labels))
        if unknown:
            known = ", ".join(model.labels[:20]) + (", ..." if len(model.labels) > 20 else "")
            raise ParamsError(f"labels not known to model {model.name}: {', '.join(unknown)} (its labels: {known})")

    def keep(self, detections: Sequence[Detection]) -> list[dict]:
        """The detections to store, as JSON objects."""
        return [
            d.as_json()
            for d in detections
            if d.score >= self.score_threshold and (self.labels is None or d.label in self.labels)
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
    return [FrameResult(f.index, f.timestamp_s, params.keep(d)) for f, d in zip(batch, detections, strict=False)]


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
