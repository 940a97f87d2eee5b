"""Pure manifest builders: a VideoAnalysis resource becomes a Job.

No I/O and no Kopf here: the handlers read, call these, and talk to the API server (the
owner reference is added there, by `kopf.adopt`). The Job runs the
inference image's own CLI (`python -m inference_job --task-id <uuid>`), which reads the task
row (model, parameters, video) from the database named by a Secret, never a literal URL. The
task id is the resource's `status.taskId` (the authority), and the analysis parameters are the
row's snapshot: only scheduling fields of the spec reach the Job.

`spec.shards` K > 1 makes the Job Indexed: K Pods, one shard each (`--shards K`, the index
from JOB_COMPLETION_INDEX), each index retried on its own (`backoffLimitPerIndex`), while a
permanent exit of any shard still fails the whole Job (`podFailurePolicy`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

from va_operator.config import OperatorSettings
from va_operator.defaults import JobDefaults, merge_job_defaults
from va_operator.job_pod import LABEL_KUEUE_PRIORITY_CLASS, TMP_MOUNT_PATH, JobPod
from videoanalysis.exitcodes import NOT_THE_RUNS_FAULT, PERMANENT
from videoanalysis.k8s import names
from videoanalysis.k8s.resource import task_id_of

#: Scheduling fields the CRD leaves unset so the cluster's `VA_JOB_DEFAULTS` can fill them;
#: these apply when neither the resource nor the defaults do.
JOB_FALLBACKS: dict[str, Any] = {"gpus": 1, "activeDeadlineSeconds": 3600, "backoffLimit": 2}
SPEC_DEFAULTS: dict[str, Any] = dict(JOB_FALLBACKS)
#: Kueue's partial admission: it may start an Indexed Job with fewer Pods than shards (down to
#: this many at once), the rest running in waves as quota frees up.
ANNOTATION_KUEUE_MIN_PARALLELISM = "kueue.x-k8s.io/job-min-parallelism"


class SpecError(ValueError):
    """The resource's spec can never run (the operator marks it Failed, no retries)."""


def effective_spec(spec: Mapping[str, Any], job_defaults: JobDefaults | None = None) -> dict[str, Any]:
    """The spec the Job is built from: the resource's own fields, then the cluster's job
    defaults merged under them (see `va_operator.defaults`), then `SPEC_DEFAULTS`."""
    return {**SPEC_DEFAULTS, **merge_job_defaults(spec, job_defaults)}


def shard_count(spec: Mapping[str, Any]) -> int:
    """K of `spec.shards` (1 when unset). `auto` is resolved by the API from an uploaded video's
    frame count before the resource is made; the operator has no video to count."""
    value = spec.get("shards", 1)
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise SpecError(f"spec.shards: {value} is resolved by the API for an uploaded video; give a number")
    return int(value)


def validate_spec(spec: Mapping[str, Any], settings: OperatorSettings) -> None:
    """Refuse what no retry can fix; the CRD schema already checked types and ranges, and the
    analysis parameters were checked when the task row was made or found (`va_operator.taskrow`)."""
    gpus, shards = int(spec["gpus"]), shard_count(spec)
    if gpus > settings.max_gpus_per_job:
        raise SpecError(f"spec.gpus={gpus} exceeds the operator's limit of {settings.max_gpus_per_job}")
    if shards > settings.max_shards:
        raise SpecError(f"spec.shards={shards} exceeds the operator's limit of {settings.max_shards} (VA_MAX_SHARDS)")
    if shards * gpus > settings.max_gpus_per_job:
        raise SpecError(
            f"spec.shards={shards} × spec.gpus={gpus} = {shards * gpus} GPUs exceeds the operator's limit of "
            f"{settings.max_gpus_per_job} (VA_MAX_GPUS_PER_JOB)"
        )


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
    if settings.job_pod.kueuePriorityClass:
        labels[LABEL_KUEUE_PRIORITY_CLASS] = settings.job_pod.kueuePriorityClass
    return labels


def pod_template_metadata(labels: Mapping[str, str], job_pod: JobPod) -> dict[str, Any]:
    """The Pods' labels (the operator's applied last, though `JobPod` already refuses a clash)
    and annotations."""
    meta: dict[str, Any] = {"labels": {**job_pod.podLabels, **labels}}
    if job_pod.podAnnotations:
        meta["annotations"] = dict(job_pod.podAnnotations)
    return meta


def container_resources(spec: Mapping[str, Any], job_pod: JobPod) -> dict[str, Any]:
    """The spec's requests and limits, the GPU limit, and the ephemeral-storage request for /tmp
    unless the spec sets its own request or limit (a limit alone is the request too)."""
    # Quantities as strings: what the API returns and what typed clients accept.
    resources = {k: {n: str(q) for n, q in v.items()} for k, v in (spec.get("resources") or {}).items() if v}
    if int(spec["gpus"]) > 0:
        resources.setdefault("limits", {})[job_pod.gpuResourceName] = str(int(spec["gpus"]))
    storage_set = any("ephemeral-storage" in section for section in resources.values())
    if job_pod.ephemeralStorageRequest and not storage_set:
        resources.setdefault("requests", {})["ephemeral-storage"] = job_pod.ephemeralStorageRequest
    return resources


def _command(spec: Mapping[str, Any], task_id: str, settings: OperatorSettings) -> list[str]:
    shards = shard_count(spec)
    return [*settings.job_command, "--task-id", task_id, *(["--shards", str(shards)] if shards > 1 else [])]


def _container(spec: Mapping[str, Any], task_id: str, settings: OperatorSettings) -> dict[str, Any]:
    env: list[dict[str, Any]] = [
        {
            "name": "VA_DATABASE_URL",
            "valueFrom": {"secretKeyRef": {"name": settings.database_secret_name, "key": settings.database_secret_key}},
        },
        {"name": "VA_VIDEOS_DIR", "value": settings.videos_mount_path},
        {"name": "VA_DATA_DIR", "value": "/tmp/videoanalysis"},
    ]
    env += [{"name": k, "value": v} for k, v in {**settings.video_url_env(), **settings.zone_limits_env()}.items()]
    reserved = {item["name"] for item in env}
    env += [{"name": k, "value": v} for k, v in sorted(settings.job_env.items()) if k not in reserved]
    return {
        "name": names.CONTAINER,
        "image": settings.job_image,
        "imagePullPolicy": settings.image_pull_policy,
        "command": _command(spec, task_id, settings),
        "env": env,
        "resources": container_resources(spec, settings.job_pod),
        "volumeMounts": [
            {"name": "videos", "mountPath": settings.videos_mount_path, "readOnly": True},
            {"name": "tmp", "mountPath": TMP_MOUNT_PATH},
            *_ca_mounts(settings),
            *copy.deepcopy(settings.job_pod.extraVolumeMounts),
        ],
        "securityContext": {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }


def _ca_mounts(settings: OperatorSettings) -> list[dict[str, Any]]:
    """The CA bundle's ConfigMap: its one file at VA_CA_BUNDLE's path (which the Job is given),
    mounted alone (subPath), so a path among the system's certificates hides none of them."""
    if not settings.ca_bundle_config_map or settings.ca_bundle is None:
        return []
    path = PurePosixPath(settings.ca_bundle)
    return [{"name": "ca-bundle", "mountPath": str(path), "subPath": path.name, "readOnly": True}]


def _ca_volumes(settings: OperatorSettings) -> list[dict[str, Any]]:
    if not settings.ca_bundle_config_map or settings.ca_bundle is None:
        return []
    items = [{"key": "ca.crt", "path": PurePosixPath(settings.ca_bundle).name}]
    return [{"name": "ca-bundle", "configMap": {"name": settings.ca_bundle_config_map, "items": items}}]


def _tmp_volume(job_pod: JobPod) -> dict[str, Any]:
    return {"name": "tmp", "emptyDir": {"sizeLimit": job_pod.tmpSizeLimit} if job_pod.tmpSizeLimit else {}}


def _tolerations(spec: Mapping[str, Any], gpu_resource: str) -> list[dict[str, Any]]:
    """The spec's, plus the GPU nodes' usual taint (keyed by the GPU resource) for a GPU Job."""
    tolerations = [dict(t) for t in spec.get("tolerations") or []]
    if int(spec["gpus"]) > 0 and not any(t.get("key") == gpu_resource for t in tolerations):
        tolerations.append({"key": gpu_resource, "operator": "Exists", "effect": "NoSchedule"})
    return tolerations


def _pod_spec(spec: Mapping[str, Any], task_id: str, settings: OperatorSettings) -> dict[str, Any]:
    job_pod = settings.job_pod
    tolerations = _tolerations(spec, job_pod.gpuResourceName)
    pod: dict[str, Any] = {
        "restartPolicy": "Never",  # retries are the Job's (backoffLimit, podFailurePolicy)
        "automountServiceAccountToken": False,
        # Restricted Pod Security Standard (with the container's context below). The user is the
        # image's own numeric USER (10001 in inference_job/Dockerfile), so a custom image keeps its.
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [_container(spec, task_id, settings)],
        "volumes": [
            {"name": "videos", "persistentVolumeClaim": {"claimName": settings.videos_pvc, "readOnly": True}},
            _tmp_volume(job_pod),
            *_ca_volumes(settings),
            *copy.deepcopy(job_pod.extraVolumes),
        ],
    }
    if job_pod.imagePullSecrets:
        pod["imagePullSecrets"] = [{"name": name} for name in job_pod.imagePullSecrets]
    if spec.get("nodeSelector"):
        pod["nodeSelector"] = dict(spec["nodeSelector"])
    if tolerations:
        pod["tolerations"] = tolerations
    if job_pod.affinity.as_spec():
        pod["affinity"] = job_pod.affinity.as_spec()
    if job_pod.priorityClassName:
        pod["priorityClassName"] = job_pod.priorityClassName
    if settings.runtime_class_name:
        pod["runtimeClassName"] = settings.runtime_class_name
    if settings.service_account_name:
        pod["serviceAccountName"] = settings.service_account_name
    return pod


def pod_failure_policy() -> dict[str, Any]:
    """The job controller's rules, first match wins: a node drained or preempted under the Pod
    is not the analysis failing (Ignore); a permanent exit code fails the Job at once; an exit
    that is not the run's fault (interrupted by a database outage, superseded by another run's
    lease) starts a new Pod without spending `backoffLimit` (the job waits before exiting, so
    this never hot-loops, and `activeDeadlineSeconds` still ends the Job)."""
    return {
        "rules": [
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
            _on_exit_codes("FailJob", PERMANENT),
            _on_exit_codes("Ignore", NOT_THE_RUNS_FAULT),
        ]
    }


def _on_exit_codes(action: str, codes: Iterable[int]) -> dict[str, Any]:
    return {
        "action": action,
        "onExitCodes": {"containerName": names.CONTAINER, "operator": "In", "values": sorted(int(c) for c in codes)},
    }


def build_job(va_body: Mapping[str, Any], settings: OperatorSettings) -> dict[str, Any]:
    """The batch/v1 Job of a VideoAnalysis resource (deterministic: same body, same Job)."""
    meta = va_body["metadata"]
    task_id = task_id_of(va_body)
    if task_id is None:
        raise SpecError("status.taskId is not set: the task row must exist before the Job")
    spec = effective_spec(va_body.get("spec") or {}, settings.job_defaults)
    validate_spec(spec, settings)
    labels = job_labels(meta["name"], task_id, settings)
    shards = shard_count(spec)
    metadata: dict[str, Any] = {"name": names.job_name(meta["name"]), "namespace": meta["namespace"], "labels": labels}
    if shards > 1 and settings.kueue_queue:
        metadata["annotations"] = {ANNOTATION_KUEUE_MIN_PARALLELISM: "1"}
    job: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": {
            **_completions(shards, int(spec["backoffLimit"])),
            "activeDeadlineSeconds": int(spec["activeDeadlineSeconds"]),
            "ttlSecondsAfterFinished": settings.ttl_seconds_after_finished,
            "podFailurePolicy": pod_failure_policy(),
            "template": {
                "metadata": pod_template_metadata(labels, settings.job_pod),
                "spec": _pod_spec(spec, task_id, settings),
            },
        },
    }
    return job


def _completions(shards: int, backoff_limit: int) -> dict[str, Any]:
    """One Pod, or an Indexed Job of one Pod per shard. Per index, a shard's crash retries that
    shard alone; `maxFailedIndexes: 0` fails the Job once any shard is out of retries, since the
    merge needs every shard. No `backoffLimit`: the API server defaults it to unlimited beside a
    per-index limit."""
    if shards == 1:
        return {"completions": 1, "parallelism": 1, "backoffLimit": backoff_limit}
    return {
        "completionMode": "Indexed",
        "completions": shards,
        "parallelism": shards,
        "backoffLimitPerIndex": backoff_limit,
        "maxFailedIndexes": 0,
    }
