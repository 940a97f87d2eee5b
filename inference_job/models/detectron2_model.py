"""`detectron2`: a Detectron2 model-zoo detector (default COCO Faster R-CNN R50-FPN 3x).

Frames go through a real batched forward, `model([{"image", "height", "width"}, ...])`, under
`torch.inference_mode()` with fp16 autocast on CUDA; `compile_mode` compiles the backbone and
the RPN head (see `compiled.py`). Frames are BGR uint8 (H, W, 3), as NumPy arrays (OpenCV) or
as torch tensors already on the device (the GPU decoder). torch and Detectron2 are imported
here only, when the model is created, so the registry and the API stay free of them.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from inference_job.models.base import AbstractImageAnalysisMLModel, Detection
from inference_job.models.compiled import WarmUps, compile_options
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


def compile_parts(model: Any, options: dict[str, Any]) -> list[str]:
    """Wrap the backbone and the RPN head of a GeneralizedRCNN in `torch.compile` (lazy: the
    first forward compiles); returns the names of the parts wrapped. Load weights before: the
    wrapped modules' state-dict keys change."""
    import torch

    wrapped = ["backbone"]
    model.backbone = torch.compile(model.backbone, **options)
    rpn = getattr(model, "proposal_generator", None)
    if rpn is not None and hasattr(rpn, "rpn_head"):
        rpn.rpn_head = torch.compile(rpn.rpn_head, **options)
        wrapped.append("proposal_generator.rpn_head")
    return wrapped


class Detectron2Model(AbstractImageAnalysisMLModel):
    """A Detectron2 detector; labels are the COCO class names of its training set."""

    name = "detectron2"
    device_frames = True

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
        compile_mode: str = "off",
    ) -> None:
        # Weights first: a missing file fails before torch is even imported.
        weights_file = None if random_weights else resolve_weights(weights, Path(cache_dir), sha256=weights_sha256)
        import torch  # noqa: F401  (fails early with a clear ImportError)
        from detectron2.config import get_cfg
        from detectron2.data import MetadataCatalog
        from detectron2.data.transforms import ResizeShortestEdge
        from detectron2.modeling import build_model

        self._device = pick_device(device)
        self._compile = compile_options(compile_mode, self._device)  # a bad mode fails before the build
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
        self.compiled_parts = compile_parts(self.model, self._compile) if self._compile is not None else []
        self.warm_ups = WarmUps()
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

    def _input_shape(self, height: int, width: int) -> tuple[int, int]:
        short = self._resize.short_edge_length[0]
        return self._resize.get_output_shape(height, width, short, self._resize.max_size)

    def prepare(self, frame: np.ndarray) -> dict:
        """One model input: the frame resized to the shape ResizeShortestEdge picks, as a CHW
        tensor, with the original size so the model maps boxes back to it.

        On CUDA (or for a frame already on a device) the uint8 frame is resized there
        (bilinear), so only bytes cross the bus and the CPU does no pixel work; on the CPU
        OpenCV resizes it. The model itself subtracts the pixel mean on its device.
        """
        import torch

        height, width = frame.shape[:2]
        new_h, new_w = self._input_shape(height, width)
        if self._device == "cuda" or isinstance(frame, torch.Tensor):
            tensor = to_model_images([frame], (new_h, new_w), self._device, self._rgb)[0]
        else:
            image = frame[:, :, ::-1] if self._rgb else frame
            resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
            tensor = torch.as_tensor(np.ascontiguousarray(resized.transpose(2, 0, 1)))
        return {"image": tensor, "height": height, "width": width}

    def _prepare_batch(self, frames: Sequence[np.ndarray]) -> list[dict]:
        """Frames of one size are resized on the device in one call; else one by one."""
        import torch

        height, width = frames[0].shape[:2]
        same = all(f.shape[:2] == (height, width) for f in frames)
        if not same or (self._device != "cuda" and not isinstance(frames[0], torch.Tensor)):
            return [self.prepare(f) for f in frames]
        images = to_model_images(frames, self._input_shape(height, width), self._device, self._rgb)
        return [{"image": image, "height": height, "width": width} for image in images]

    def predict(self, frames: Sequence[np.ndarray]) -> list[list[Detection]]:
        """Detect in a batch of BGR uint8 frames (each H×W×3) with one forward pass."""
        if not frames:
            return []
        inputs = self._prepare_batch(frames)
        if self._compile is None:
            return self._postprocess(self._forward(inputs))
        count = len(inputs)
        _, h, w = inputs[0]["image"].shape
        padded = self.warm_ups.padded_batch(count, h, w)
        inputs = inputs + [inputs[-1]] * (padded - count)  # a warmed graph, not a new compile
        if self.warm_ups.needs(padded, h, w):
            for _ in range(3 if self._compile["mode"] == "reduce-overhead" else 1):
                self._forward(inputs)  # compiles; CUDA graphs record on the later runs
            self.warm_ups.done(padded, h, w)
        return self._postprocess(self._forward(inputs)[:count])

    def warm_up(self, batch: int, height: int, width: int) -> None:
        """Compile and warm the graph for `batch` frames of height×width (no-op when eager)."""
        if self._compile is not None:
            self.predict([np.zeros((height, width, 3), np.uint8)] * batch)

    def _forward(self, inputs: list[dict]) -> list[dict]:
        import torch

        autocast = torch.autocast("cuda", dtype=torch.float16) if self._device == "cuda" else contextlib.nullcontext()
        with torch.inference_mode(), autocast:
            return self.model(inputs)

    def _postprocess(self, outputs: list[dict]) -> list[list[Detection]]:
        """Instances (boxes already scaled to the original frame) as Detections: the batch's
        boxes, scores and classes cross to the host in one copy and leave NumPy as lists."""
        import torch

        instances = [out["instances"] for out in outputs]
        counts = [len(i) for i in instances]
        if not sum(counts):
            return [[] for _ in instances]
        packed = torch.cat(
            [
                torch.cat([i.pred_boxes.tensor.float(), i.scores.float()[:, None], i.pred_classes.float()[:, None]], 1)
                for i in instances
            ]
        ).cpu()
        rows = packed.numpy().tolist()
        labels, out, start = self._labels, [], 0
        for n in counts:
            out.append([Detection(labels[int(r[5])], r[4], (r[0], r[1], r[2], r[3])) for r in rows[start : start + n]])
            start += n
        return out


def to_model_images(frames: Sequence, size: tuple[int, int], device: str, rgb: bool):
    """BGR uint8 frames (H, W, 3), NumPy or torch, as float (N, 3, h, w) images on `device`,
    resized bilinearly there (one kernel for the batch; colour flipped there if `rgb`)."""
    import torch
    import torch.nn.functional as F

    batch = torch.stack(
        [
            f.to(device) if isinstance(f, torch.Tensor) else torch.from_numpy(f).to(device, non_blocking=True)
            for f in frames
        ]
    ).permute(0, 3, 1, 2)
    if rgb:
        batch = batch.flip(1)
    return F.interpolate(batch.float(), size=size, mode="bilinear", align_corners=False)
