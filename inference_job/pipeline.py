"""The analysis pipeline: frames -> batches -> model -> filtered per-frame results -> sink.

Kept free of the database: the sink is any async callable (`inference_job.job.run_pipeline`
runs it for a leased task with `ResultWriter.add` as the sink), so the pipeline is tested and
benchmarked on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from inference_job import model_thread
from inference_job.metrics import RunStats
from inference_job.models.base import AbstractImageAnalysisMLModel, Detection
from inference_job.reader import Frame
from inference_job.tracker import TrackerStage
from inference_job.zone_events import ZoneEvents, ordered
from videoanalysis.params import AnalysisParams, ParamsError

__all__ = ["AnalysisParams", "Batch", "FrameResult", "ParamsError", "analyse", "check_labels", "keep"]


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
    if not detections:
        return []
    labels = params.label_set
    return [
        d.as_json() for d in detections if d.score >= params.score_threshold and (labels is None or d.label in labels)
    ]


@dataclass(frozen=True, slots=True)
class FrameResult:
    frame_index: int
    timestamp_s: float
    objects: list[dict]
    # track_id -> JPEG thumbnail, for tracks whose best detection so far is in this frame
    crops: dict[int, bytes] = field(default_factory=dict)
    # zone and line events this frame confirmed (`inference_job.zone_events`)
    events: list[dict] = field(default_factory=list)
    # first detections of tracks this frame confirmed, in earlier batches (`tracker.Confirmed`):
    # the writer gives them the track's id, in its buffer or in the rows already committed
    confirmed: list[dict] = field(default_factory=list)


class Batch(list[FrameResult]):
    """One batch's results, and the stages' JSON state right after its last frame (the model
    thread runs ahead of the sink, so the state is snapshotted with the batch it belongs to)."""

    stage_state: Any = None


Sink = Callable[[list[FrameResult]], Awaitable[None]]


def batched(frames: Iterable[Frame], size: int) -> Iterator[list[Frame]]:
    it = iter(frames)
    while batch := list(islice(it, size)):
        yield batch


def _run_batch(
    batch: list[Frame],
    model: AbstractImageAnalysisMLModel,
    params: AnalysisParams,
    stats: RunStats,
    tracker: TrackerStage | None = None,
    zones: ZoneEvents | None = None,
) -> Batch:
    started = time.perf_counter()
    detections = model.predict([f.image for f in batch])
    stats.model_seconds += time.perf_counter() - started
    stats.batches += 1
    if len(detections) != len(batch):
        raise RuntimeError(f"model {model.name} returned {len(detections)} results for {len(batch)} frames")
    out = Batch(FrameResult(f.index, f.timestamp_s, keep(params, d)) for f, d in zip(batch, detections, strict=True))
    if tracker is not None:
        started = time.perf_counter()
        out = _track(batch, out, tracker, zones, stats)
        out.stage_state = {"tracker": tracker.state()}
        if zones is not None:
            out.stage_state["zones"] = zones.state()
        stats.tracker_seconds += time.perf_counter() - started
    return out


def _track(batch: list[Frame], out: Batch, tracker: TrackerStage, zones: ZoneEvents | None, stats: RunStats) -> Batch:
    """The batch's results with track ids (a track's first detection too, once confirmed: in
    place when it is in this batch, else handed to the writer) and zone and line events."""
    tracked = Batch()
    at: dict[int, int] = {}  # frame index -> position in `tracked`, for this batch's frames
    for f, r in zip(batch, out, strict=True):
        objects = tracker.update(r.timestamp_s, r.objects, frame_index=r.frame_index)
        later: list[dict] = []
        for c in tracker.confirmed:
            if c["frame"] in at:
                earlier = tracked[at[c["frame"]]]
                earlier.objects[c["index"]]["track_id"] = c["track_id"]
                earlier.crops.update(tracker.crops(batch[at[c["frame"]]].image, [earlier.objects[c["index"]]]))
            else:
                later.append(c)
        events = _zone_events(zones, r, objects, tracker.confirmed, stats) if zones is not None else []
        at[r.frame_index] = len(tracked)
        crops = tracker.crops(f.image, objects)
        tracked.append(FrameResult(r.frame_index, r.timestamp_s, objects, crops, events, later))
    return tracked


def _zone_events(
    zones: ZoneEvents, r: FrameResult, objects: list[dict], confirmed: list[dict], stats: RunStats
) -> list[dict]:
    """The frame's zone and line events; the first sightings of the tracks it confirmed are
    stepped first, at their own frames."""
    started = time.perf_counter()
    events = [
        e for c in confirmed for e in zones.seed(c["frame"], c["timestamp"], {**c["object"], "track_id": c["track_id"]})
    ]
    events = ordered(events + zones.update(r.frame_index, r.timestamp_s, objects))
    stats.zones_seconds += time.perf_counter() - started
    return events


_DONE = object()


class _BatchLoop:
    """Runs the model over `batches` back to back in the model thread (`model_thread`) and
    posts each batch's results to the event loop. At most `ahead` batches wait there unsunk,
    so a slow sink holds the model back (and, through the reader's bounded queue, the
    decoder) instead of filling memory."""

    def __init__(self, batches: Iterator[list[Frame]], run: Callable[[list[Frame]], list[FrameResult]], ahead: int):
        self._batches, self._run = batches, run
        self._loop = asyncio.get_running_loop()
        self.results: asyncio.Queue[Any] = asyncio.Queue()
        self.room = threading.Semaphore(max(1, ahead))
        self.stop = threading.Event()

    def _post(self, item: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting any more
            self._loop.call_soon_threadsafe(self.results.put_nowait, item)

    def __call__(self) -> None:
        try:
            for batch in self._batches:
                while not self.room.acquire(timeout=0.1):
                    if self.stop.is_set():
                        return
                if self.stop.is_set():
                    return
                self._post(self._run(batch))
            self._post(_DONE)
        except BaseException as exc:  # handed to the consumer, re-raised there
            self._post(exc)


async def analyse(
    frames: Iterable[Frame],
    model: AbstractImageAnalysisMLModel,
    params: AnalysisParams,
    sink: Sink,
    *,
    batch_size: int,
    stats: RunStats | None = None,
    ahead: int = 2,
    tracker: TrackerStage | None = None,
    zones: ZoneEvents | None = None,
) -> int:
    """Run `model` over `frames` in batches of `batch_size`; returns the frames analysed.

    Inference runs in the process's model thread (`model_thread`) for the whole video, so
    the model never waits for the event loop: while it computes the next batch the loop hands earlier results to the sink
    (which may start a write and return). The tracker, when given, runs in the model thread
    too, on each batch's kept detections in frame order. One thread, not a thread hop per batch: a hop costs
    a wake-up of each side per batch, most of the pipeline's cost at a fast model.
    """
    stats = stats if stats is not None else RunStats()
    stats.batch_size = max(1, batch_size)
    worker = _BatchLoop(
        batched(frames, stats.batch_size), lambda batch: _run_batch(batch, model, params, stats, tracker, zones), ahead
    )
    running = model_thread.submit(worker)
    done = 0
    try:
        while (results := await worker.results.get()) is not _DONE:
            if isinstance(results, BaseException):
                raise results
            worker.room.release()
            await sink(results)
            done += len(results)
    finally:
        worker.stop.set()
        # The model and the frames are the caller's again. A model that never returns keeps
        # this wait for good: the job's watchdog then ends the process (`watchdog.py`).
        await asyncio.shield(running)
    stats.frames = done
    return done
