"""`opencv-face`: OpenCV's Haar frontal-face cascade, whose weights ship inside opencv-python.

It needs no download and no GPU, so it is the embedded default and gives the tests real
detections offline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from inference_job.models.base import Detection, PerFrameModel

CASCADE_FILE = "haarcascade_frontalface_default.xml"


def cascade_score(level_weight: float) -> float:
    """Map the cascade's confidence to 0..1.

    `detectMultiScale3` gives, per face, the summed weight of the last stage (a margin: more is
    surer; a clear face scores about 6–10). It is squashed monotonically with 1 - exp(-w / 4),
    so a clear face scores about 0.8–0.9 and a barely accepted window close to 0.
    """
    return 1.0 - math.exp(-max(float(level_weight), 0.0) / 4.0)


class OpenCVFaceModel(PerFrameModel):
    """Frontal faces (label "face") with a Haar cascade, one frame at a time on the CPU."""

    name = "opencv-face"

    def __init__(
        self, *, scale_factor: float = 1.1, min_neighbors: int = 5, min_size: int = 30, batch_size: int = 8
    ) -> None:
        path = Path(cv2.data.haarcascades) / CASCADE_FILE  # type: ignore[attr-defined]  # not in OpenCV's stubs
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise RuntimeError(f"cannot load the face cascade from {path}")
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size = min_size
        super().__init__(batch_size=batch_size)

    @property
    def labels(self) -> Sequence[str]:
        return ("face",)

    def predict_one(self, frame: np.ndarray) -> list[Detection]:
        """Faces in one BGR uint8 frame (H×W×3); boxes in the frame's pixels."""
        gray = cv2.equalizeHist(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
        rects, _levels, weights = self._cascade.detectMultiScale3(
            gray,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(self.min_size, self.min_size),
            outputRejectLevels=True,
        )
        out = []
        for (x, y, w, h), weight in zip(rects, np.ravel(weights), strict=False):
            out.append(Detection("face", cascade_score(weight), (float(x), float(y), float(x + w), float(y + h))))
        return out
