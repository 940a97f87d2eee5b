"""`detectron2`: a Detectron2 model-zoo detector (default COCO Faster R-CNN R50-FPN 3x).

Frames go through a real batched forward, `model([{"image", "height", "width"}, ...])`, under
`torch.inference_mode()` with fp16 autocast on CUDA. torch and Detectron2 are imported here
only, when the model is created, so the registry and the API stay free of them.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from inference_job.models.base import AbstractImageAnalysisMLModel, Detection
from inference_job.models.weights import WeightsError, resolve_weights

DEFAULT_CONFIG = "COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml"


def config_file(config_name: str) -> Path:
    """The model zoo's config file inside the installed package (without `pkg_resources`)."""
    spec = importlib.util.find_spec("detectron2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("detectron2 is not installed (see scripts/install-detectron2.sh)")
    path = Path(next(iter(spec.submodule_search_locations))) / "model_zoo" / "configs" / config_name
    if not path.is_file():
        raise ValueError(f"model zoo config {config_name!r} not found in detectron2")
    return path


def pick_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device cuda was asked for but no CUDA GPU is visible")
    return device


class Detectron2Model(AbstractImageAnalysisMLModel):
    """A Detectron2 detector; labels are the COCO class names of its training set."""

    name = "detectron2"

    def __init__(
        self,
        *,
        config_name: str = DEFAULT_CONFIG,
        weights: str = "",
        weights_sha256: str = "",
        cache_dir: Path | str = Path("data/models"),
        device: str = "auto",
        input_size: int = 800,
        batch_size: int = 0,
        min_score: float = 0.05,
        random_weights: bool = False,
    ) -> None:
        # Weights first: a missing file fails before torch is even imported.
        weights_file = None if random_weights else resolve_weights(weights, Path(cache_dir), sha256=weights_sha256)
        import torch  # noqa: F401  (fails early with a clear ImportError)
        from detectron2.config import get_cfg
        from detectron2.data import MetadataCatalog
        from detectron2.data.transforms import ResizeShortestEdge
        from detectron2.modeling import build_model

        self._device = pick_device(device)
        cfg = get_cfg()  # config: file, then overrides, then frozen
        cfg.merge_from_file(str(config_file(config_name)))
        cfg.MODEL.DEVICE = self._device
        cfg.INPUT.MIN_SIZE_TEST = input_size
        cfg.INPUT.MAX_SIZE_TEST = max(input_size, round(input_size * 1333 / 800))
        cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST = min_score
        cfg.freeze()
        self.cfg = cfg
        self.model = build_model(cfg).eval()
        if weights_file is not None:
            self._load(weights_file)
        self._resize = ResizeShortestEdge([input_size, input_size], cfg.INPUT.MAX_SIZE_TEST)
        self._rgb = cfg.INPUT.FORMAT == "RGB"
        self._labels = tuple(MetadataCatalog.get(cfg.DATASETS.TRAIN[0]).thing_classes)
        self._batch_size = batch_size or (8 if self._device == "cuda" else 2)

    def _load(self, weights_file: Path) -> None:
        from detectron2.checkpoint import DetectionCheckpointer

        try:
            DetectionCheckpointer(self.model).load(str(weights_file))
        except Exception as exc:
            raise WeightsError(f"cannot load weights from {weights_file}: {exc}") from exc

    @property
    def labels(self) -> Sequence[str]:
        return self._labels

    @property
    def device(self) -> str:
        return self._device

    @property
    def preferred_batch_size(self) -> int:
        return self._batch_size

    def prepare(self, frame: np.ndarray) -> dict:
        """One model input: the frame resized to the shape ResizeShortestEdge picks, as a CHW
        tensor, with the original size so the model maps boxes back to it.

        On CUDA the uint8 frame is sent as is and resized there (bilinear), so only bytes cross
        the bus and the CPU does no pixel work; on the CPU OpenCV resizes it. The model itself
        subtracts the pixel mean on its device.
        """
        import torch

        height, width = frame.shape[:2]
        short = self._resize.short_edge_length[0]
        new_h, new_w = self._resize.get_output_shape(height, width, short, self._resize.max_size)
        image = frame[:, :, ::-1] if self._rgb else frame
        if self._device == "cuda":
            import torch.nn.functional as F

            t = torch.from_numpy(np.ascontiguousarray(image)).to(self._device, non_blocking=True)
            t = t.permute(2, 0, 1).unsqueeze(0).float()
            tensor = F.interpolate(t, size=(new_h, new_w), mode="bilinear", align_corners=False)[0]
        else:
            resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
            tensor = torch.as_tensor(np.ascontiguousarray(resized.transpose(2, 0, 1)))
        return {"image": tensor, "height": height, "width": width}

    def predict(self, frames: Sequence[np.ndarray]) -> list[list[Detection]]:
        """Detect in a batch of BGR uint8 frames (each H×W×3) with one forward pass."""
        import torch

        if not frames:
            return []
        inputs = [self.prepare(f) for f in frames]
        autocast = torch.autocast("cuda", dtype=torch.float16) if self._device == "cuda" else contextlib.nullcontext()
        with torch.inference_mode(), autocast:
            outputs = self.model(inputs)
        return [self._detections(out["instances"]) for out in outputs]

    def _detections(self, instances) -> list[Detection]:
        """Instances (boxes already scaled to the original frame) as Detections."""
        instances = instances.to("cpu")
        boxes = instances.pred_boxes.tensor.float().numpy()
        scores = instances.scores.float().numpy()
        classes = instances.pred_classes.numpy()
        return [
            Detection(self._labels[int(c)], float(s), (float(b[0]), float(b[1]), float(b[2]), float(b[3])))
            for b, s, c in zip(boxes, scores, classes, strict=False)
        ]
