"""Reading frames in a thread (stride, truncated and empty files) and the pure pipeline."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest

from inference_job import model_thread
from inference_job.models.base import AbstractImageAnalysisMLModel, Detection
from inference_job.pipeline import AnalysisParams, FrameResult, ParamsError, analyse, check_labels, keep
from inference_job.reader import FrameReader
from tests.support.videos import pan_video, truncate
from videoanalysis.params import task_params
from videoanalysis.video_probe import VideoReadError, probe_video


@pytest.fixture(scope="module")
def avi(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MJPG AVI: its header announces the frame count, so a cut file is detectable."""
    return pan_video(tmp_path_factory.mktemp("avi") / "pan.avi", fourcc="MJPG").path


def test_stride_yields_every_nth_frame_with_timestamps(avi: Path) -> None:
    with FrameReader(avi, stride=5, queue_frames=2) as reader:
        frames = list(reader)
    assert [f.index for f in frames] == [0, 5, 10, 15, 20]
    assert [f.timestamp_s for f in frames] == pytest.approx([i / 12.0 for i in (0, 5, 10, 15, 20)])
    assert frames[0].image.shape == (240, 320, 3) and frames[0].image.dtype == np.uint8
    assert reader.meta.frames_to_analyse(5) == 5


def test_frames_held_by_the_consumer_are_never_overwritten_by_reuse(avi: Path) -> None:
    cap, want = cv2.VideoCapture(str(avi)), []
    while (item := cap.read())[0]:
        want.append(item[1])
    cap.release()
    with FrameReader(avi, queue_frames=2) as reader:
        held = list(reader)  # every frame kept: no buffer may be handed out twice
    assert len(held) == len(want) == 24
    assert all(np.array_equal(f.image, w) for f, w in zip(held, want, strict=True))
    assert len({id(f.image) for f in held}) == 24


def test_released_frame_buffers_are_reused(avi: Path) -> None:
    with FrameReader(avi, queue_frames=2) as reader:
        seen = {id(frame.image) for frame in reader}  # each frame dropped once read
        pooled = len(reader.buffers)
    # the queue's two, the one being filled, the one the consumer holds: far fewer than 24
    assert pooled <= 5 and len(seen) <= pooled


def test_truncated_file_fails_with_the_frame_it_stops_at(avi: Path, tmp_path: Path) -> None:
    cut = truncate(avi, tmp_path / "cut.avi", 0.5)
    with FrameReader(cut) as reader, pytest.raises(VideoReadError) as err:
        for _ in reader:
            pass
    assert "video is truncated at frame" in str(err.value)
    assert "announces 24 frames" in str(err.value)


def test_truncated_mp4_without_index_cannot_be_opened(tmp_path: Path) -> None:
    video = pan_video(tmp_path / "pan.mp4", frames=6)
    cut = truncate(video.path, tmp_path / "cut.mp4", 0.6)
    with pytest.raises(VideoReadError, match="cannot be opened"):
        probe_video(cut)


@pytest.mark.parametrize("fourcc,ext,reason", [("MJPG", "avi", "has no frames"), ("mp4v", "mp4", "cannot be opened")])
def test_zero_frame_file_fails_clearly(tmp_path: Path, fourcc: str, ext: str, reason: str) -> None:
    path = tmp_path / f"empty.{ext}"
    cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 10, (64, 48)).release()
    assert path.stat().st_size > 0
    with pytest.raises(VideoReadError, match=reason):
        FrameReader(path)


def test_leaving_early_stops_the_reader_thread(avi: Path) -> None:
    with FrameReader(avi, queue_frames=1) as reader:
        first = next(iter(reader))
        assert first.index == 0
    deadline = time.monotonic() + 5
    while any(t.name == "frame-reader" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "reader thread still alive"
        time.sleep(0.01)


class Fixed(AbstractImageAnalysisMLModel):
    """Returns two detections per frame and counts the batch sizes it was called with."""

    name = "fixed"
    labels = ("cat", "dog")

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.threads: set[int] = set()

    def predict(self, frames):
        self.calls.append(len(frames))
        self.threads.add(threading.get_ident())
        return [[Detection("cat", 0.9, (0, 0, 1, 1)), Detection("dog", 0.3, (1, 1, 2, 2))] for _ in frames]


async def test_pipeline_batches_and_filters(avi: Path) -> None:
    model, got = Fixed(), []

    async def sink(results: list[FrameResult]) -> None:
        got.extend(results)

    params = task_params("opencv-face", {"score_threshold": 0.5, "frame_stride": 2})
    with FrameReader(avi, stride=2) as reader:
        done = await analyse(reader, model, params, sink, batch_size=5)
    assert done == 12 and model.calls == [5, 5, 2]
    assert [r.frame_index for r in got] == list(range(0, 24, 2))
    assert all([o["label"] for o in r.objects] == ["cat"] for r in got)
    only_dogs = AnalysisParams(labels=["dog"], score_threshold=0.0)
    assert [o["label"] for o in keep(only_dogs, model.predict([None])[0])] == ["dog"]
    with pytest.raises(ParamsError, match="horse"):
        check_labels(AnalysisParams(labels=["horse"]), model)


class Failing(Fixed):
    def predict(self, frames):
        if len(self.calls) == 2:
            raise ValueError("out of memory on batch 3")
        return super().predict(frames)


def model_thread_free() -> bool:
    """Nothing is left running in the model thread: a no-op there is served at once."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(model_thread.call, lambda: True).result(timeout=2)


async def test_models_load_and_run_in_the_one_model_thread_of_every_run(avi: Path) -> None:
    async def sink(results: list[FrameResult]) -> None:
        return None

    model = await model_thread.submit(Fixed)  # as the job loads it
    for _ in range(2):  # a second video: the same thread, not a fresh one
        with FrameReader(avi) as reader:
            await analyse(reader, model, AnalysisParams(tracker="none"), sink, batch_size=8)
    assert model.threads == {model_thread.call(threading.get_ident)} != {threading.get_ident()}
    assert model_thread.call(lambda: threading.current_thread().daemon)  # a stuck model never blocks exit


async def test_a_model_error_ends_the_pipeline_with_it(avi: Path) -> None:
    got: list[FrameResult] = []

    async def sink(results: list[FrameResult]) -> None:
        got.extend(results)

    with FrameReader(avi) as reader, pytest.raises(ValueError, match="batch 3"):
        await analyse(reader, Failing(), AnalysisParams(), sink, batch_size=4)
    assert [r.frame_index for r in got] == list(range(8))
    assert model_thread_free()


async def test_a_failing_sink_stops_the_model_within_the_batches_allowed_ahead(avi: Path) -> None:
    model = Fixed()

    async def sink(results: list[FrameResult]) -> None:
        await asyncio.sleep(0.05)  # a slow write: the model must not run through the video
        raise RuntimeError("the task is no longer running")

    with FrameReader(avi) as reader, pytest.raises(RuntimeError, match="no longer running"):
        await analyse(reader, model, AnalysisParams(), sink, batch_size=2, ahead=2)
    assert model_thread_free()
    # the batch handed to the sink and two waiting, of the 12 the video has
    assert 1 <= len(model.calls) <= 3
