"""Synthetic tracking sequences with exact ground truth, from scikit-image's astronaut photo.

Faces (crops of the photo around its face) move over a grey canvas along known paths; an
object's ground-truth box is listed in a frame when at least half of its face is visible (a
per-pixel owner map records what is drawn on top), as MOTChallenge scores visible objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

FACE = (177, 66, 95, 95)  # x, y, w, h of the face in skimage.data.astronaut()
MARGIN = 30  # sprite = face plus this much photo around it
SIZE = (640, 360)
FPS = 25.0
OCCLUDER = -1  # owner id of the occluding bar
BACKGROUND = 160  # light grey, like the photo's own backdrop (the face cascade scores it ~0.8)


@dataclass
class Scene:
    name: str
    frames: int
    # object id -> frame -> sprite top-left (x, y), or None when the object is off stage
    paths: dict[int, Callable[[int], tuple[float, float] | None]]
    occluder: tuple[int, int, int, int] | None = None  # x, y, w, h drawn over every face
    gt: list[dict[int, list[float]]] = field(default_factory=list)  # frame -> {id: [x1, y1, x2, y2]}


def sprite() -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The face crop (BGR) and the face's box inside it (x, y, w, h)."""
    from skimage import data

    photo = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    x, y, w, h = FACE
    crop = photo[y - MARGIN : y + h + MARGIN, x - MARGIN : x + w + MARGIN]
    return np.ascontiguousarray(crop), (MARGIN, MARGIN, w, h)


def _line(x0: float, y0: float, x1: float, y1: float, start: int, end: int) -> Callable[[int], tuple[float, float]]:
    def at(f: int) -> tuple[float, float]:
        t = min(1.0, max(0.0, (f - start) / max(1, end - start)))
        return x0 + (x1 - x0) * t, y0 + (y1 - y0) * t

    return at


def scenes() -> list[Scene]:
    w = SIZE[0]
    reentry_out = _line(260, 80, w + 10, 80, 0, 45)
    reentry_back = _line(w + 10, 110, 200, 110, 115, 175)
    return [
        # Two faces on one row cross in the middle; the right one passes in front.
        Scene("crossing", 120, {1: _line(10, 90, 470, 100, 0, 119), 2: _line(470, 110, 10, 100, 0, 119)}),
        # A face passes behind a bar (wholly hidden for 11 frames) while another crosses below it.
        Scene(
            "occlusion",
            110,
            {1: _line(-20, 30, 540, 30, 0, 99), 2: _line(480, 190, 0, 190, 0, 109)},
            occluder=(240, 0, 155, 185),
        ),
        # A face leaves on the right, stays out 70 frames (past the lost-track buffer), comes back.
        Scene(
            "reentry",
            175,
            {1: lambda f: reentry_out(f) if f <= 45 else (reentry_back(f) if f >= 115 else None)},
        ),
    ]


def render(scene: Scene, path: Path) -> Scene:
    """Write the scene as an MJPEG AVI at `path` (exact frame count) and fill in `scene.gt`."""
    face, (fx, fy, fw, fh) = sprite()
    sh, sw = face.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, SIZE)
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path}")
    scene.gt = []
    for f in range(scene.frames):
        canvas = np.full((SIZE[1], SIZE[0], 3), BACKGROUND, np.uint8)
        owner = np.zeros((SIZE[1], SIZE[0]), np.int32)
        boxes: dict[int, tuple[int, int, int, int]] = {}
        for oid, path_of in sorted(scene.paths.items()):  # higher ids are drawn on top
            pos = path_of(f)
            if pos is None:
                continue
            x, y = round(pos[0]), round(pos[1])
            x0, y0, x1, y1 = max(0, x), max(0, y), min(SIZE[0], x + sw), min(SIZE[1], y + sh)
            if x1 <= x0 or y1 <= y0:
                continue
            canvas[y0:y1, x0:x1] = face[y0 - y : y1 - y, x0 - x : x1 - x]
            owner[y0:y1, x0:x1] = oid
            boxes[oid] = (x + fx, y + fy, x + fx + fw, y + fy + fh)
        if scene.occluder:
            ox, oy, ow, oh = scene.occluder
            canvas[oy : oy + oh, ox : ox + ow] = 40
            owner[oy : oy + oh, ox : ox + ow] = OCCLUDER
        visible: dict[int, list[float]] = {}
        for oid, (x1, y1, x2, y2) in boxes.items():
            cx1, cy1, cx2, cy2 = max(0, x1), max(0, y1), min(SIZE[0], x2), min(SIZE[1], y2)
            shown = int((owner[cy1:cy2, cx1:cx2] == oid).sum()) if cx2 > cx1 and cy2 > cy1 else 0
            if shown >= 0.5 * fw * fh:
                visible[oid] = [float(cx1), float(cy1), float(cx2), float(cy2)]
        scene.gt.append(visible)
        writer.write(canvas)
    writer.release()
    return scene


def scene_video(name: str, path: Path) -> Path:
    """The scene called `name` rendered at `path` (for what needs its video, not its truth)."""
    render(next(s for s in scenes() if s.name == name), path)
    return path
