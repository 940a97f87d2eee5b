"""Pure manifest builders: a VideoAnalysis resource becomes a Job.

No I/O and no Kopf here: the handlers read, call these, and talk to the API server (the
owner reference is added there, by `kopf.adopt`). The Job runs the
inference image's own CLI (`python -m inference_job --task-id <uuid>`), which reads the task
row (model, parameters, video) from the database named by a Secret, never a literal URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from va_operator.config import OperatorSettings
from va_operator.defaults import JobDefaults, merge_job_defaults
from videoanalysis.catalogue import UnknownModelError, entry
from videoanalysis.k8s import names

#: Same defaults as the CRD's schema (a unit test keeps the two equal), applied here too so a
#: body built by hand (tests, older API servers) gives the same Job.
CRD_DEFAULTS: dict[str, Any] = {"model": "detectron2", "scoreThreshold": 0.5, "frameStride": 1}
#: Scheduling fields the CRD leaves unset so the cluster's `VA_JOB_DEFAULTS` can fill them;
#: these apply when neither the resource nor the defaults do.
JOB_FALLBACKS: dict[str, Any] = {"gpus": 1, "activeDeadlineSeconds": 3600, "backoffLimit": 2}
SPEC_DEFAULTS: dict[str, Any] = {**CRD_DEFAULTS, **JOB_FALLBACKS}
GPU_RESOURCE = "nvidia.com/gpu"


class SpecError(ValueError):
    """The resource's spec can never run (the operator marks it Failed, no retries)."""


def effective_spec(spec: Mapping[str, Any], job_defaults: JobDefaults | None = None) -> dict[str, Any]:
    """The spec the Job is built from: the resource's own fields, then the cluster's job
    defaults merged under them (see `va_operator.defaults`), then `SPEC_DEFAULTS`."""
    return {**SPEC_DEFAULTS, **merge_job_defaults(spec, job_defaults)}


def validate_spec(spec: Mapping[str, Any], settings: OperatorSettings) -> None:
    """Refuse what no retry can fix; the CRD schema already checked types and ranges."""
    if not spec.get("taskId"):
        raise SpecError("spec.taskId is missing")
    try:
        entry(spec["model"])
    except UnknownModelError as exc:
        raise SpecError(str(exc)) from None
    if int(spec["gpus"]) > settings.max_gpus_per_job:
        raise SpecError(f"spec.gpus={spec['gpus']} exceeds the operator's limit of {settings.max_gpus_per_job}")


def job_labels(va_name: str, task_id: str, settings: OperatorSettings) -> dict[str, str]:
    labels = {
        names.LABEL_NAME: "videoanalysis",
        names.LABEL_COMPONENT: "inference",
        names.LABEL_MANAGED_BY: names.MANAGED_BY,
        names.LABEL_RESOURCE: va_name,
        names.LABEL_TASK: task_id,
    }
    if settings.kueue_queue:
        labels[names.LABEL_KUEUE_QUEUE] = settings.kueue_queue
    return labels


def _container(spec: Mapping[str, Any], settings: OperatorSettings) -> dict[str, Any]:
    # Quantities as strings: what the API returns and what typed clients accept.
    resources = {k: {n: str(q) for n, q in v.items()} for k, v in (spec.get("resources") or {}).items() if v}
    if int(spec["gpus"]) > 0:
        resources.setdefault("limits", {})[GPU_RESOURCE] = str(int(spec["gpus"]))
    env: list[dict[str, Any]] = [
        {
            "name": "VA_DATABASE_URL",
            "valueFrom": {"secretKeyRef": {"name": settings.database_secret_name, "key": settings.database_secret_key}},
        },
        {"name": "VA_VIDEOS_DIR", "value": settings.videos_mount_path},
        {"name": "VA_DATA_DIR", "value": "/tmp/videoanalysis"},
    ]
    if spec.get("batchSize"):
        env.append({"name": "VA_BATCH_SIZE", "value": str(spec["batchSize"])})
    reserved = {item["name"] for item in env}
    env += [{"name": k, "value": v} for k, v in sorted(settings.job_env.items()) if k not in reserved]
    return {
        "name": names.CONTAINER,
        "image": settings.job_image,
        "imagePullPolicy": settings.image_pull_policy,
        "command": [*settings.job_command, "--task-id", str(spec["taskId"])],
        "env": env,
        "resources": resources,
        "volumeMounts": [
            {"name": "videos", "mountPath": settings.videos_mount_path, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
        "securityContext": {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }


def _pod_spec(spec: Mapping[str, Any], settings: OperatorSettings) -> dict[str, Any]:
    tolerations = [dict(t) for t in spec.get("tolerations") or []]
    if int(spec["gpus"]) > 0 and not any(t.get("key") == GPU_RESOURCE for t in tolerations):
        tolerations.append({"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"})
    pod: dict[str, Any] = {
        "restartPolicy": "Never",  # retries are the Job's (backoffLimit, podFailurePolicy)
        "automountServiceAccountToken": False,
        # Restricted Pod Security Standard (with the container's context below). The user is the
        # image's own numeric USER (10001 in inference_job/Dockerfile), so a custom image keeps its.
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [_container(spec, settings)],
        "volumes": [
            {"name": "videos", "persistentVolumeClaim": {"claimName": settings.videos_pvc, "readOnly": True}},
            {"name": "tmp", "emptyDir": {}},
        ],
    }
    if spec.get("nodeSelector"):
        pod["nodeSelector"] = dict(spec["nodeSelector"])
    if tolerations:
        pod["tolerations"] = tolerations
    if settings.runtime_class_name:
        pod["runtimeClassName"] = settings.runtime_class_name
    if settings.service_account_name:
        pod["serviceAccountName"] = settings.service_account_name
    return pod


def build_job(va_body: Mapping[str, Any], settings: OperatorSettings) -> dict[str, Any]:
    """The batch/v1 Job of a VideoAnalysis resource (deterministic: same body, same Job)."""
    meta = va_body["metadata"]
    spec = effective_spec(va_body.get("spec") or {}, settings.job_defaults)
    validate_spec(spec, settings)
    labels = job_labels(meta["name"], str(spec["taskId"]), settings)
    job: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": names.job_name(meta["name"]), "namespace": meta["namespace"], "labels": labels},
        "spec": {
            "completions": 1,
            "parallelism": 1,
            "backoffLimit": int(spec["backoffLimit"]),
            "activeDeadlineSeconds": int(spec["activeDeadlineSeconds"]),
            "ttlSecondsAfterFinished": settings.ttl_seconds_after_finished,
            # A node drained or preempted under the Pod is not the analysis failing.
            "podFailurePolicy": {
                "rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}]
            },
            "template": {"metadata": {"labels": dict(labels)}, "spec": _pod_spec(spec, settings)},
        },
    }
    return job
