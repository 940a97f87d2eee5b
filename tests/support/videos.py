"""Real video files for the tests, encoded with OpenCV.

`pan_video` moves a window across a larger canvas holding skimage's astronaut photo (one face,
about x=177, y=66, w=95, h=95 in the 512×512 photo), so a face detector must follow the pan.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ASTRONAUT_FACE = (177, 66, 95, 95)  # x, y, w, h in the photo


@dataclass(frozen=True)
class PanVideo:
    path: Path
    frames: int
    fps: float
    size: tuple[int, int]  # width, height
    # Expected face box (x1, y1, x2, y2) per frame, in frame pixels.
    face_boxes: list[tuple[int, int, int, int]]


def astronaut_bgr() -> np.ndarray:
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


def pan_video(
    path: Path,
    frames: int = 24,
    fps: float = 12.0,
    size: tuple[int, int] = (320, 240),
    step: int = 4,
    fourcc: str = "mp4v",
) -> PanVideo:
    """The photo is placed on a grey canvas; a window of `size` pans right by `step` px a frame."""
    photo = astronaut_bgr()
    w, h = size
    canvas = np.full((max(h, 512) + 64, 512 + w + frames * step, 3), 90, np.uint8)
    ox, oy = w // 2, 32
    canvas[oy : oy + 512, ox : ox + 512] = photo
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path}")
    fx, fy, fw, fh = ASTRONAUT_FACE
    boxes = []
    top = oy + fy + fh // 2 - h // 2  # keep the face vertically centred
    for i in range(frames):
        left = ox + fx - w // 4 - i * step  # the face drifts from left to right across the frame
        left = max(0, left)
        writer.write(np.ascontiguousarray(canvas[top : top + h, left : left + w]))
        x1, y1 = ox + fx - left, oy + fy - top
        boxes.append((x1, y1, x1 + fw, y1 + fh))
    writer.release()
    return PanVideo(path, frames, fps, size, boxes)


def noise_video(path: Path, frames: int = 10, fps: float = 10.0, size: tuple[int, int] = (64, 48)) -> Path:
    """A small video of random noise (no faces), cheap to encode."""
    rng = np.random.default_rng(0)
    w, h = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for _ in range(frames):
        writer.write(rng.integers(0, 255, (h, w, 3), dtype=np.uint8))
    writer.release()
    return path


def truncate(src: Path, dest: Path, fraction: float = 0.5) -> Path:
    """Copy the first `fraction` of a video's bytes: a file cut off mid-stream."""
    data = src.read_bytes()
    dest.write_bytes(data[: int(len(data) * fraction)])
    return dest


def png_image(path: Path) -> Path:
    cv2.imwrite(str(path), astronaut_bgr()[:64, :64])
    return path


def h264_video(path: Path, frames: int = 12, fps: float = 12.0, size: tuple[int, int] = (320, 240)) -> Path:
    """The astronaut pan re-encoded as H.264 with PyAV (OpenCV's pip build cannot write it)."""
    from fractions import Fraction

    import av

    cap = cv2.VideoCapture(str(pan_video(path.with_suffix(".mp4v.mp4"), frames=frames, fps=fps, size=size).path))
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        while (item := cap.read())[0]:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(item[1], format="bgr24")))
        container.mux(stream.encode(None))
    cap.release()
    return path


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes: how well a detection matches a
    face box of `pan_video`."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def coded_video(
    path: Path,
    *,
    codec: str = "libx264",
    frames: int = 120,
    fps: int = 25,
    gop: int = 25,
    bframes: int = 3,
    open_gop: bool = False,
    size: tuple[int, int] = (160, 120),
    frame_ms: list[int] | None = None,
) -> Path:
    """A moving noise pattern encoded with PyAV: H.264 or HEVC with B-frames, keyframes every
    `gop` frames (no scene cuts), closed GOPs or open ones; `frame_ms` gives each frame's
    duration in milliseconds instead of 1/fps (a variable frame rate)."""
    from fractions import Fraction

    import av

    rng = np.random.default_rng(7)
    w, h = size
    canvas = rng.integers(0, 255, (h * 2, w * 2, 3), dtype=np.uint8)
    if codec == "libx265":
        options = {"x265-params": f"keyint={gop}:min-keyint={gop}:bframes={bframes}:scenecut=0:log-level=error"}
        options["x265-params"] += ":open-gop=1" if open_gop else ":open-gop=0"
    else:
        params = f"keyint={gop}:min-keyint={gop}:bframes={bframes}:scenecut=0" + (":open-gop=1" if open_gop else "")
        options = {"x264-params": params}
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = options
        if frame_ms is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        at = 0
        for i in range(frames):
            y, x = (i * 3) % h, (i * 2) % w
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(canvas[y : y + h, x : x + w]), format="bgr24")
            if frame_ms is not None:
                frame.pts, frame.time_base = at, Fraction(1, 1000)
                at += frame_ms[i % len(frame_ms)]
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def reencoded(sources: list[Path], dest: Path, *, fps: int, gop: int, open_gop: bool = False) -> Path:
    """The frames of `sources`, one after the other, encoded as one H.264 file with B-frames and
    a keyframe every `gop` frames: IDR pictures (clean cut points for a shard plan), or with
    `open_gop` recovery-point I-frames after the first (none to cut at)."""
    from fractions import Fraction

    import av

    with av.open(str(dest), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        params = f"keyint={gop}:min-keyint={gop}:bframes=2:scenecut=0" + (":open-gop=1" if open_gop else "")
        stream.options = {"x264-params": params, "crf": "18"}
        for source in sources:
            cap = cv2.VideoCapture(str(source))
            while (item := cap.read())[0]:
                image = item[1]
                if not stream.codec_context.is_open:  # sized by the first frame
                    stream.width, stream.height, stream.pix_fmt = image.shape[1], image.shape[0], "yuv420p"
                for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                    container.mux(packet)
            cap.release()
        for packet in stream.encode(None):
            container.mux(packet)
    return dest
