"""Detectron2 with random weights on tiny frames (structure and batch == one-by-one), loading
weights from a path, and a task failing when weights cannot be had."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.support.job_harness import JobHarness
from tests.support.videos import PanVideo, astronaut_bgr
from videoanalysis.exitcodes import JobExit
from videoanalysis.task_status import TaskStatus

pytestmark = pytest.mark.detectron2

INPUT_SIZE = 192


@pytest.fixture(scope="module")
def model():
    from inference_job.models import create_model

    torch.manual_seed(0)
    return create_model("detectron2", random_weights=True, device="cpu", input_size=INPUT_SIZE, min_score=0.0)


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    photo = astronaut_bgr()
    return [np.ascontiguousarray(photo[:240, :320]), np.ascontiguousarray(photo[200:440, 150:470])]


def boxes(dets) -> np.ndarray:
    return np.array([d.box for d in dets], dtype=np.float64).reshape(-1, 4)


def test_random_weights_give_well_formed_detections(model, frames) -> None:
    from inference_job.models.base import Detection

    assert len(model.labels) == 80 and model.labels[0] == "person"
    assert model.device == "cpu" and model.preferred_batch_size >= 1
    out = model.predict(frames)
    assert len(out) == 2 and sum(len(d) for d in out) > 0
    for dets in out:
        for d in dets:
            assert isinstance(d, Detection) and d.label in model.labels and 0 <= d.score <= 1
            x1, y1, x2, y2 = d.box
            # boxes are in the original 320×240 frame, not the 192 px model input
            assert 0 <= x1 <= x2 <= 320 and 0 <= y1 <= y2 <= 240


def test_batched_forward_equals_one_by_one(model, frames) -> None:
    batched = model.predict(frames)
    single = [model.predict([f])[0] for f in frames]
    for b, s in zip(batched, single, strict=False):
        assert [d.label for d in b] == [d.label for d in s]
        np.testing.assert_allclose(boxes(b), boxes(s), atol=0.5)
        np.testing.assert_allclose([d.score for d in b], [d.score for d in s], atol=1e-3)


def test_weights_load_from_a_path(model, frames, tmp_path: Path) -> None:
    from inference_job.models import create_model

    path = tmp_path / "weights.pth"
    torch.save({"model": model.model.state_dict()}, path)
    loaded = create_model("detectron2", weights=str(path), device="cpu", input_size=INPUT_SIZE, min_score=0.0)
    got, want = loaded.predict(frames[:1])[0], model.predict(frames[:1])[0]
    assert [d.label for d in got] == [d.label for d in want]
    np.testing.assert_allclose(boxes(got), boxes(want), atol=1e-3)


@pytest.mark.parametrize(
    "weights,sha256,reason",
    [
        ("/nonexistent/model_final.pkl", "", "weights not found at /nonexistent/model_final.pkl"),
        ("http://127.0.0.1:9/model_final.pkl", "", "must be https://"),
        ("https://127.0.0.1:9/model_final.pkl", "", "needs its sha256 in VA_MODEL_WEIGHTS_SHA256"),
        ("https://127.0.0.1:9/model_final.pkl", "0" * 64, "cannot download weights from https://127.0.0.1:9/"),
    ],
)
async def test_missing_weights_fail_the_task(
    harness: JobHarness, pan: PanVideo, weights: str, sha256: str, reason: str
) -> None:
    shutil.copy(pan.path, harness.videos_dir / "pan.mp4")
    task = await harness.task("pan.mp4", model="detectron2")
    result = await harness.run(task, VA_MODEL_WEIGHTS=weights, VA_MODEL_WEIGHTS_SHA256=sha256)
    assert result.returncode == JobExit.FAILED
    await task.refresh_from_db()
    assert task.status == TaskStatus.FAILED and reason in task.error, task.error
    assert not list((harness.videos_dir.parent / "data").rglob("*.part"))
