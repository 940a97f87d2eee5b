"""The interface every model implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Detection:
    """One object found in a frame; `box` is [x1, y1, x2, y2] in pixels of the original frame."""

    label: str
    score: float
    box: tuple[float, float, float, float]

    def as_json(self) -> dict:
        return {
            "label": self.label,
            "score": round(float(self.score), 4),
            "box": [round(float(v), 1) for v in self.box],
        }


class AbstractImageAnalysisMLModel(ABC):
    """A detector loaded once and then fed batches of frames.

    Frames are BGR `uint8` arrays of shape (H, W, 3), as OpenCV decodes them.
    """

    #: Factory name of the model (e.g. "opencv-face").
    name: str = ""
    #: True when `predict` also takes frames as torch tensors (H, W, 3) on the model's device,
    #: so a GPU decoder may hand them over without a copy to the host.
    device_frames: bool = False

    @property
    @abstractmethod
    def labels(self) -> Sequence[str]:
        """Every label this model can return."""

    @property
    def device(self) -> str:
        """Where the model runs ("cpu", "cuda", ...)."""
        return "cpu"

    @property
    def preferred_batch_size(self) -> int:
        """How many frames a call to `predict` should get for best throughput."""
        return 1

    @abstractmethod
    def predict(self, frames: Sequence[np.ndarray]) -> list[list[Detection]]:
        """Detect objects in a batch of BGR uint8 frames (each H×W×3); one list per frame."""


class PerFrameModel(AbstractImageAnalysisMLModel):
    """A model with no batched forward: `predict` runs `predict_one` on each frame and orders
    each frame's detections by score. Batches then only amortise the pipeline's hand-offs."""

    def __init__(self, *, batch_size: int = 1) -> None:
        self._batch_size = batch_size

    @property
    def preferred_batch_size(self) -> int:
        return self._batch_size

    @abstractmethod
    def predict_one(self, frame: np.ndarray) -> list[Detection]:
        """Detect objects in one BGR uint8 frame (H×W×3)."""

    def predict(self, frames: Sequence[np.ndarray]) -> list[list[Detection]]:
        return [sorted(self.predict_one(frame), key=lambda d: d.score, reverse=True) for frame in frames]
