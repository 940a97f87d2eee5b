"""Frames of a video, decoded by OpenCV in a reader thread so decoding overlaps inference.

The thread hands frames through a bounded queue (the video is never held in memory) and always
ends with a sentinel, carrying its error if it failed, so the consumer can never hang.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from videoanalysis.video_probe import VideoReadError, open_video, probe_video


@dataclass(frozen=True, slots=True)
class Frame:
    """A decoded frame: `image` is BGR uint8 of shape (H, W, 3), a NumPy array from the CPU
    reader or a torch tensor on the GPU from the NVDEC reader (`nvdec_reader.py`)."""

    index: int
    timestamp_s: float
    image: np.ndarray


_END = object()


class FrameMismatch(VideoReadError):
    """A shard's first owned frame was not decoded at the time its plan gives: the decoder's
    frame numbers and the plan's disagree, so nothing this run wrote would be where it belongs."""


class BufferPool:
    """Decoded-frame buffers handed out again once nothing outside the pool refers to them.

    A fresh buffer per frame costs its page faults every time (a 1080p frame is 6 MB; glibc
    returns such blocks to the system when several are alive at once): about 10 % of CPU
    decoding at 1080p. A buffer still referenced anywhere (a queued `Frame`, a batch in the
    model, a view a model kept) has a reference count above the pool's own and is skipped, so
    reuse can never overwrite a frame someone still reads.
    """

    _OWN_REFS = 3  # the deque, the local name in `take`, getrefcount's argument

    def __init__(self, limit: int) -> None:
        self._buffers: deque[np.ndarray] = deque()
        self._limit = limit

    def take(self) -> np.ndarray | None:
        """A free buffer (oldest first: the likeliest to be released), else None."""
        for _ in range(len(self._buffers)):
            buffer = self._buffers[0]
            self._buffers.rotate(-1)
            if sys.getrefcount(buffer) == self._OWN_REFS:
                return buffer
        return None

    def keep(self, image: np.ndarray) -> None:
        """Pool a newly allocated buffer, up to the limit (beyond it, frames are freed as usual)."""
        if len(self._buffers) < self._limit:
            self._buffers.append(image)

    def __len__(self) -> int:
        return len(self._buffers)


class FrameReader:
    """Iterate over every `stride`-th frame of a video as `Frame`s, decoded in a thread.

    Skipped frames are only grabbed (demuxed), never converted. If fewer frames can be read
    than the container announced, iteration fails with "video is truncated at frame N".
    `start` resumes a run, or starts a shard's pre-roll: the reader seeks there where the
    container allows it and else grabs its way there, so frame indices are exact either way; the
    frames kept are still those whose index is a multiple of `stride` (the stride is the whole
    video's). `end` (exclusive) stops a shard at the next one's first frame. `expect` (a frame
    index and its presentation time in seconds, from the shard plan) is checked when that frame is
    decoded: a decoder that landed elsewhere raises `FrameMismatch` instead of mislabelling frames.
    Use as a context manager so the thread is stopped when the consumer leaves early.
    """

    def __init__(
        self,
        path: Path,
        *,
        stride: int = 1,
        queue_frames: int = 64,
        start: int = 0,
        end: int | None = None,
        expect: tuple[int, float] | None = None,
    ) -> None:
        if stride < 1:
            raise ValueError("frame_stride must be at least 1")
        if start < 0 or (end is not None and end < start):
            raise ValueError(f"frames [{start}, {end}) are not a range of the video")
        self.path = path
        self.stride = stride
        self.start = start
        self.expect = expect
        self.seeked = False  # whether the start was reached by a seek (else by grabbing)
        self.meta = probe_video(path)
        if self.meta.frames <= 0:  # nothing to size the run by, nor to check its end against
            raise VideoReadError("the video has no frames")
        self.end = self.meta.frames if end is None else min(end, self.meta.frames)
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, queue_frames))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="frame-reader", daemon=True)
        self._started = False
        self.decode_seconds = 0.0  # time spent in grab/retrieve (not waiting for room)
        # room for the queue and the batches being analysed behind it
        self.buffers = BufferPool(limit=max(1, queue_frames) + 32)

    def __enter__(self) -> FrameReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _put(self, item: object) -> bool:
        """Block until there is room, unless the consumer has gone away."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        error: BaseException | None = None
        try:
            self._decode()
        except BaseException as exc:  # handed to the consumer, re-raised there
            error = exc
        self._put((_END, error))

    def _seek(self, cap: cv2.VideoCapture) -> cv2.VideoCapture:
        """Position `cap` on frame `start`: a seek where the container reports landing exactly
        there, else a fresh capture that grabs (decodes, never converts) the frames before it."""
        if cap.set(cv2.CAP_PROP_POS_FRAMES, self.start) and int(cap.get(cv2.CAP_PROP_POS_FRAMES)) == self.start:
            self.seeked = True
            return cap
        cap.release()
        cap = open_video(self.path)
        for _ in range(self.start):
            if self._stop.is_set() or not cap.grab():
                break
        return cap

    def _decode(self) -> None:
        if self.start >= self.end:
            return
        cap = open_video(self.path)
        fps = self.meta.fps
        try:
            if self.start:
                cap = self._seek(cap)
            index = self.start
            while index < self.end and not self._stop.is_set():
                keep = index % self.stride == 0
                started = time.perf_counter()
                ok = cap.grab()
                if ok and self.expect is not None and index == self.expect[0]:
                    self._check_time(index, cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0)
                image = self._retrieve(cap) if ok and keep else None
                self.decode_seconds += time.perf_counter() - started
                if not ok or (keep and image is None):
                    break
                if image is not None:
                    ts = index / fps if fps > 0 else cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
                    if not self._put(Frame(index, round(ts, 6), image)):
                        return
                index += 1
        finally:
            cap.release()
        self._check_complete(index)

    def _retrieve(self, cap: cv2.VideoCapture) -> np.ndarray | None:
        """The grabbed frame, converted into a pooled buffer where one is free; None on failure."""
        buffer = self.buffers.take()
        ok, image = cap.retrieve(buffer) if buffer is not None else cap.retrieve()
        if not ok or image is None:
            return None
        if image is not buffer:  # new memory (first frames, all buffers busy, a size change)
            self.buffers.keep(image)
        return image

    def _check_time(self, index: int, seconds: float) -> None:
        expected = self.expect[1] if self.expect is not None else seconds
        if abs(seconds - expected) > 0.5 / max(self.meta.fps, 1.0):
            raise FrameMismatch(
                f"frame {index} was decoded at {seconds:.3f} s, but the shard plan puts it at {expected:.3f} s"
            )

    def _check_complete(self, index: int) -> None:
        """After the decoder stopped at frame `index`: fail unless it read the frames asked for
        (the whole video, unless `end` stops earlier)."""
        if self._stop.is_set():
            return
        if index == 0:
            raise VideoReadError("the video has no decodable frames")
        if index < self.end:
            raise VideoReadError(f"video is truncated at frame {index} (the file announces {self.meta.frames} frames)")

    def __iter__(self) -> Iterator[Frame]:
        if self._started:
            raise RuntimeError("a FrameReader can be iterated once")
        self._started = True
        self._thread.start()
        while True:
            item = self._queue.get()
            if isinstance(item, tuple) and item and item[0] is _END:
                if item[1] is not None:
                    raise item[1]
                return
            yield item

    def close(self) -> None:
        """Stop the thread (it may be blocked on a full queue) and wait for it."""
        self._stop.set()
        if self._started:
            self._thread.join(timeout=5)
