"""The VideoAnalysis resource of a stored task (pure): what the API's kubernetes dispatcher
creates and the operator turns into a Job."""

from __future__ import annotations

from typing import Any

from videoanalysis.k8s import names
from videoanalysis.models import Task


def build_videoanalysis(task: Task, namespace: str) -> dict[str, Any]:
    """The VideoAnalysis resource for a stored task, in `namespace`."""
    params = task.params or {}
    spec: dict[str, Any] = {
        "taskId": str(task.id),
        "videoUri": task.video_uri,
        "model": task.model,
    }
    if params.get("score_threshold") is not None:
        spec["scoreThreshold"] = float(params["score_threshold"])
    if params.get("frame_stride") is not None:
        spec["frameStride"] = int(params["frame_stride"])
    if params.get("labels") is not None:
        spec["labels"] = [str(label) for label in params["labels"]]
    if params.get("batch_size") is not None:
        spec["batchSize"] = int(params["batch_size"])
    return {
        "apiVersion": names.API_VERSION,
        "kind": names.KIND,
        "metadata": {
            "name": names.resource_name(str(task.id)),
            "namespace": namespace,
            "labels": {
                names.LABEL_TASK: str(task.id),
                names.LABEL_NAME: "videoanalysis",
            },
        },
        "spec": spec,
    }
