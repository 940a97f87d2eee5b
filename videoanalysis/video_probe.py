"""What a video file announces about itself, read by OpenCV from the container.

The API checks an upload with it, the job sizes its run and picks its decoder with it, the
viewer lays out its timeline with it: one reading, so that all three count a file's frames alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2

from videoanalysis.params import frames_to_analyse


class VideoReadError(Exception):
    """The video cannot be read; the message says why, for a person (the job makes it the task's reason)."""


class UndecodableVideo(VideoReadError):
    """The container opens but its first frame does not decode."""


@dataclass(frozen=True, slots=True)
class VideoMeta:
    frames: int  # as announced by the container (0 when it announces none); nothing is decoded to count
    fps: float  # 0.0 when the container does not say
    width: int
    height: int
    fourcc: str = ""  # the container's codec tag, e.g. "avc1" (H.264), "mp4v", "MJPG"

    def frames_to_analyse(self, stride: int) -> int:
        return frames_to_analyse(self.frames, stride)


def open_video(path: Path) -> cv2.VideoCapture:
    """An opened capture of `path` (the caller releases it); VideoReadError if there is none."""
    if not path.is_file():
        raise VideoReadError(f"video file not found: {path.name}")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        cap.release()
        raise VideoReadError("the video cannot be opened: the file is corrupt, truncated or not a video")
    return cap


def _fourcc(cap: cv2.VideoCapture) -> str:
    code = int(cap.get(cv2.CAP_PROP_FOURCC) or 0) & 0xFFFFFFFF
    return code.to_bytes(4, "little").decode("latin-1").strip("\x00 ")


def probe_video(path: Path, *, decode_first_frame: bool = False) -> VideoMeta:
    """The container's frame count, rate, size and codec tag. With `decode_first_frame`, the
    first frame is decoded too (UndecodableVideo if it is not): a container can open and yet
    hold nothing a decoder reads. Raises VideoReadError when the file is missing or unopenable."""
    cap = open_video(path)
    try:
        if decode_first_frame:
            ok, frame = cap.read()
            if not ok or frame is None:
                raise UndecodableVideo("the video holds no decodable frame")
        return VideoMeta(
            frames=max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0), 0),
            fps=float(cap.get(cv2.CAP_PROP_FPS) or 0.0),
            width=int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            height=int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            fourcc=_fourcc(cap),
        )
    finally:
        cap.release()
