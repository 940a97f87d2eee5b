"""Label colours and boxes: one colour per label, the same on the viewer page (its script
computes the same hash over the same palette) and in the frame JPEGs drawn here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

# Box colours (RGB), one per label by a hash of its name: the page and the JPEGs agree.
PALETTE: list[tuple[int, int, int]] = [
    (0, 230, 118),
    (255, 23, 68),
    (41, 121, 255),
    (255, 234, 0),
    (213, 0, 249),
    (0, 229, 255),
    (255, 145, 0),
    (118, 255, 3),
    (245, 0, 87),
    (29, 233, 182),
]


def label_colour(label: str) -> tuple[int, int, int]:
    """The label's RGB colour: FNV-1a (32 bit) of its UTF-8 bytes picks a palette entry
    (viewer.js computes the same)."""
    h = 2166136261
    for byte in label.encode():
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return PALETTE[h % len(PALETTE)]


def decode_frame(path: Path, index: int) -> np.ndarray | None:
    """Frame `index` (BGR, HxWx3) by seeking with CAP_PROP_POS_FRAMES; None past the end."""
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            return None
        cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = cap.read()
        return frame if ok else None
    finally:
        cap.release()


def draw_boxes(frame: np.ndarray, objects: list[dict[str, Any]]) -> np.ndarray:
    """Draw each object's box and `label score` (in its label colour) on a BGR frame, in place."""
    height, width = frame.shape[:2]
    thickness = max(3, round(min(width, height) / 160))
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, max(0.4, min(width, height) / 600)
    for obj in objects:
        r, g, b = label_colour(obj["label"])
        x1, y1, x2, y2 = (round(v) for v in obj["box"])
        cv2.rectangle(frame, (x1, y1), (x2, y2), (b, g, r), thickness)
        text = f"{obj['label']} {obj['score']:.2f}"
        (tw, th), base = cv2.getTextSize(text, font, scale, 1)
        top = y1 - th - base - 2 if y1 - th - base - 2 >= 0 else y1  # above the box, else inside
        cv2.rectangle(frame, (x1, top), (x1 + tw + 4, top + th + base + 2), (b, g, r), cv2.FILLED)
        cv2.putText(frame, text, (x1 + 2, top + th + 1), font, scale, (0, 0, 0), 1, cv2.LINE_AA)
    return frame
