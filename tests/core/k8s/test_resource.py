"""A task's VideoAnalysis resource as the API creates it (`videoanalysis.k8s.resource`), and
the names derived from it (`videoanalysis.k8s.names`)."""

from __future__ import annotations

import json
import uuid

from tests.support.resources import TASK_ID
from videoanalysis.k8s import names
from videoanalysis.k8s.resource import build_videoanalysis
from videoanalysis.tables import Task


def test_videoanalysis_from_task() -> None:
    task = Task(
        id=uuid.UUID(TASK_ID),
        model="opencv-face",
        video_uri="videos://k.mp4",
        params={"score_threshold": 0.7, "frame_stride": 3, "labels": ["face"]},
    )
    body = build_videoanalysis(task, "team-a")
    assert body["metadata"] == {
        "name": f"va-{TASK_ID}",
        "namespace": "team-a",
        "labels": {names.LABEL_TASK: TASK_ID, names.LABEL_NAME: "videoanalysis"},
    }
    assert body["spec"] == {
        "taskId": TASK_ID,
        "videoUri": "videos://k.mp4",
        "model": "opencv-face",
        "scoreThreshold": 0.7,
        "frameStride": 3,
        "labels": ["face"],
        "tracker": "ocsort",  # the contract's defaults, spelled out
        "shards": 1,
    }


def test_a_presigned_urls_signature_stays_out_of_the_resource() -> None:
    """The resource lands in etcd and in every `kubectl get -o yaml`: its spec shows the video
    URL without query, fragment or credentials (the job reads the whole URL from the row)."""
    url = "https://reader:pw@bucket.s3.example.com/clips/k.mp4?X-Amz-Credential=AKIA&X-Amz-Signature=abc#t=2"
    task = Task(id=uuid.UUID(TASK_ID), model="opencv-face", video_uri=url, params={})
    spec = build_videoanalysis(task, "team-a")["spec"]
    assert spec["videoUri"] == "https://bucket.s3.example.com/clips/k.mp4"
    assert "X-Amz" not in json.dumps(spec) and "pw" not in json.dumps(spec)


def test_long_names_stay_within_limits() -> None:
    name = names.job_name("va-" + "x" * 80)
    assert len(name) <= 52 and name == names.job_name("va-" + "x" * 80)
    assert name != names.job_name("va-" + "x" * 79 + "y")
