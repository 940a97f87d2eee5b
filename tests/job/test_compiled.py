"""The compiled Detectron2 path's selection and warm-up bookkeeping, and device-side
preprocessing, on the CPU and without compiling (a CPU compile takes minutes on two cores:
the compiled forward and its accuracy check run in `bench/gpu.py`)."""

from __future__ import annotations

import numpy as np
import pytest

from inference_job.config import JobSettings
from inference_job.job import model_options
from inference_job.models.compiled import WarmUps, compile_options


def test_modes_map_to_compile_options() -> None:
    assert compile_options("off", "cuda") is None
    assert compile_options("inductor", "cpu") == {"dynamic": False, "fullgraph": False, "mode": "default"}
    assert compile_options("cudagraphs", "cuda")["mode"] == "reduce-overhead"
    with pytest.raises(ValueError, match="cudagraphs needs device cuda"):
        compile_options("cudagraphs", "cpu")
    with pytest.raises(ValueError, match="one of off, inductor, cudagraphs"):
        compile_options("tensorrt", "cuda")


def test_each_shape_is_warmed_once_and_short_batches_pad_to_a_warmed_one() -> None:
    warm = WarmUps()
    assert warm.needs(8, 480, 640) and warm.padded_batch(8, 480, 640) == 8
    warm.done(8, 480, 640)
    assert not warm.needs(8, 480, 640)
    assert warm.padded_batch(3, 480, 640) == 8  # the video's last, short batch
    assert warm.padded_batch(3, 240, 320) == 3 and warm.needs(3, 240, 320)  # another frame size
    assert warm.padded_batch(16, 480, 640) == 16 and warm.needs(16, 480, 640)


def test_the_setting_reaches_the_model_and_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VA_COMPILE_MODE", "inductor")
    settings = JobSettings()
    assert model_options("detectron2", settings)["compile_mode"] == "inductor"
    assert "compile_mode" not in model_options("opencv-face", settings)
    monkeypatch.setenv("VA_COMPILE_MODE", "tensorrt")
    with pytest.raises(ValueError, match="compile_mode"):
        JobSettings()


@pytest.mark.detectron2
def test_compiled_model_wraps_backbone_and_rpn_head_only() -> None:
    import torch

    from inference_job.models import create_model

    eager = create_model("detectron2", random_weights=True, device="cpu", input_size=128)
    assert eager.compiled_parts == [] and not isinstance(eager.model.backbone, torch._dynamo.eval_frame.OptimizedModule)
    model = create_model("detectron2", random_weights=True, device="cpu", input_size=128, compile_mode="inductor")
    assert model.compiled_parts == ["backbone", "proposal_generator.rpn_head"]
    optimized = torch._dynamo.eval_frame.OptimizedModule
    assert isinstance(model.model.backbone, optimized)
    assert isinstance(model.model.proposal_generator.rpn_head, optimized)
    assert not isinstance(model.model.roi_heads, optimized)
    # what GeneralizedRCNN reads from its backbone still resolves through the wrapper
    assert model.model.backbone.size_divisibility == eager.model.backbone.size_divisibility
    assert model.warm_ups.shapes == set()  # nothing compiled until a shape is first used
    with pytest.raises(ValueError, match="cudagraphs needs device cuda"):
        create_model("detectron2", random_weights=True, device="cpu", compile_mode="cudagraphs")


@pytest.mark.detectron2
def test_device_resize_matches_opencv_and_takes_tensors() -> None:
    import cv2
    import torch

    from inference_job.models.detectron2_model import to_model_images
    from tests.support.videos import astronaut_bgr

    frames = [np.ascontiguousarray(astronaut_bgr()[:240, :320]), np.ascontiguousarray(astronaut_bgr()[100:340, :320])]
    images = to_model_images(frames, (120, 160), "cpu", rgb=False)
    assert images.shape == (2, 3, 120, 160) and images.dtype == torch.float32
    want = cv2.resize(frames[1], (160, 120), interpolation=cv2.INTER_LINEAR).transpose(2, 0, 1)
    assert np.abs(images[1].numpy() - want).mean() < 1.5
    from_tensors = to_model_images([torch.from_numpy(f) for f in frames], (120, 160), "cpu", rgb=True)
    assert torch.equal(from_tensors.flip(1), images)
