"""The operator's one settings object (env prefix `VA_`): what the Kopf handlers and the Job
builder need besides the core settings. Kopf's own settings (watched namespaces, peering,
posting level) come from here too, see `va_operator.launcher` and `apply_kopf_settings`."""

from __future__ import annotations

import logging
import os
from typing import Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from va_operator.defaults import JobDefaults
from va_operator.job_pod import TMP_MOUNT_PATH, JobPod
from videoanalysis.pacing import size_text
from videoanalysis.params import MAX_SHARDS
from videoanalysis.settings import CoreSettings


class OperatorSettings(CoreSettings):
    """Everything the operator reads from the environment (see the README's Kubernetes table)."""

    model_config = SettingsConfigDict(env_prefix="VA_", extra="ignore")

    kube_namespace: str = Field("default", min_length=1, description="Namespace of the resources.")
    watch_namespaces: list[str] = Field(
        default_factory=list,
        description='Namespaces (globs allowed) the operator watches; empty: VA_KUBE_NAMESPACE; ["*"]: all namespaces.',
    )
    peering_name: str = Field("", description="Kopf peering object; empty: standalone (one replica).")
    posting_level: str = Field("INFO", description="Lowest log level posted as a Kubernetes Event.")
    leader_election_lease: str = Field(
        "",
        pattern=r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$",
        description="Lease (coordination.k8s.io) the replicas elect the one running Kopf with; empty: no "
        "election (one replica).",
    )
    leader_election_namespace: str = Field(
        "", description="Namespace of that Lease; empty: $POD_NAMESPACE, else VA_KUBE_NAMESPACE."
    )
    leader_election_lease_duration_s: int = Field(
        15, ge=1, description="A standby takes over a Lease it saw unrenewed this long on its own clock."
    )
    leader_election_renew_interval_s: float = Field(
        5.0, gt=0, description="The leader's renewal period; it exits once none succeeded for the duration less this."
    )
    leader_election_retry_interval_s: float = Field(
        2.0, gt=0, description="A standby's polling period, and the leader's after a failed renewal."
    )
    job_image: str = Field("videoanalysis/inference:latest", min_length=1, description="The inference image.")
    image_pull_policy: str = Field(
        "IfNotPresent", pattern="^(Always|IfNotPresent|Never)$", description="Pull policy of the inference image."
    )
    job_command: list[str] = Field(
        default_factory=lambda: ["python", "-m", "inference_job"],
        description="The container command; `--task-id <uuid>` is appended.",
    )
    database_secret_name: str = Field(
        "videoanalysis-db", min_length=1, description="Secret holding the Job's VA_DATABASE_URL."
    )
    database_secret_key: str = Field("url", min_length=1, description="Key of the URL in that Secret.")
    videos_pvc: str = Field("videoanalysis-videos", min_length=1, description="PVC with the uploaded videos.")
    videos_mount_path: str = Field("/data/videos", description="Where the Job mounts it (VA_VIDEOS_DIR).")
    job_env: dict[str, str] = Field(
        default_factory=dict, description="Extra plain env of the Job (JSON), e.g. VA_MODEL_WEIGHTS."
    )
    service_account_name: str = Field("", description="The Job's service account; empty: default.")
    runtime_class_name: str = Field("", description="runtimeClassName of the Job (e.g. nvidia).")
    kueue_queue: str = Field("", description="Kueue LocalQueue; sets kueue.x-k8s.io/queue-name.")
    max_gpus_per_job: int = Field(
        8, ge=0, description="A spec asking for more GPUs (spec.gpus, times spec.shards) is refused."
    )
    max_shards: int = Field(
        16, ge=1, le=MAX_SHARDS, description="A spec asking for more shards (Pods of one Indexed Job) is refused."
    )
    ttl_seconds_after_finished: int = Field(86400, ge=0, description="Finished Jobs are deleted after.")
    progress_interval_s: float = Field(5.0, gt=0, description="Progress mirror period while Running.")
    timer_exit_polling_s: float = Field(
        1.0, gt=0, description="How often a deleted resource's running timers are checked for their exit."
    )
    liveness_endpoint: str = Field("", description="Kopf liveness URL, e.g. http://0.0.0.0:8080/healthz.")
    retention_interval_s: float = Field(3600.0, gt=0, description="Period of the retention sweep.")
    retry_delay_s: float = Field(10.0, gt=0, description="Back-off after an API server hiccup.")
    # Events carry the moves; the pass only catches what they missed, at three API requests per
    # unfinished resource per period (100/s for 1,000 resources at 30 s): a minute halves that.
    repair_interval_s: float = Field(
        60.0, gt=0, description="Period of the repair pass over every unfinished resource (Job, Pods, row)."
    )
    watch_server_timeout_s: int = Field(
        300, gt=0, description="The API server ends each watch after this long; Kopf then opens a new one."
    )
    watch_client_timeout_s: int = Field(
        330, gt=0, description="A watch silent this long is dropped and reopened (a stalled connection)."
    )
    job_defaults: JobDefaults = Field(
        default_factory=JobDefaults,
        description="Cluster-wide Job defaults (JSON: gpus, nodeSelector, tolerations, resources, "
        "activeDeadlineSeconds, backoffLimit), merged under each resource's spec.",
    )
    job_pod: JobPod = Field(
        default_factory=JobPod,
        description="Shape of the Jobs' Pods (JSON: imagePullSecrets, priorityClassName, kueuePriorityClass, "
        "podAnnotations, podLabels, affinity, extraVolumes, extraVolumeMounts, tmpSizeLimit, "
        "ephemeralStorageRequest, gpuResourceName), see `va_operator.job_pod`.",
    )
    public_url: str = Field(
        "", description="Base URL clients reach the API at; status.resultUrl links there (empty: no link)."
    )
    metrics_port: int = Field(9090, ge=0, le=65535, description="Port of /metrics; 0: no metrics server.")
    ca_bundle_config_map: str = Field(
        "",
        description="ConfigMap whose key ca.crt each Job mounts as VA_CA_BUNDLE (the CAs trusted for video "
        "URLs); needs VA_CA_BUNDLE. Empty: none mounted.",
    )

    @model_validator(mode="after")
    def _ca_bundle_path(self) -> OperatorSettings:
        if self.ca_bundle_config_map and self.ca_bundle is None:
            raise ValueError("VA_CA_BUNDLE_CONFIG_MAP needs VA_CA_BUNDLE: the path the Jobs read it at")
        return self

    @model_validator(mode="after")
    def _job_pod_fits(self) -> OperatorSettings:
        # A URL video streams to the Job's /tmp: a smaller bound evicts the Pod mid-download.
        limit = self.job_pod.tmp_size_limit_bytes
        if limit is not None and limit < self.video_url_max_bytes:
            raise ValueError(
                f"VA_JOB_POD tmpSizeLimit {self.job_pod.tmpSizeLimit} ({size_text(limit)}) is below "
                f"VA_VIDEO_URL_MAX_BYTES ({size_text(self.video_url_max_bytes)}): a URL video that large, "
                f"streamed to /tmp, would get the Job's Pod evicted"
            )
        clashes = self.job_pod.mount_path_clashes(self.builder_mount_paths)
        if clashes:
            raise ValueError(f"VA_JOB_POD extraVolumeMounts use paths the operator mounts itself: {clashes}")
        return self

    @model_validator(mode="after")
    def _leader_election_timing(self) -> OperatorSettings:
        # The margin a leader stops before a standby may take over, and room for one retry.
        if 2 * self.leader_election_renew_interval_s > self.leader_election_lease_duration_s:
            raise ValueError(
                "VA_LEADER_ELECTION_RENEW_INTERVAL_S must be at most half of VA_LEADER_ELECTION_LEASE_DURATION_S"
            )
        if self.leader_election_retry_interval_s > self.leader_election_renew_interval_s:
            raise ValueError("VA_LEADER_ELECTION_RETRY_INTERVAL_S must be at most VA_LEADER_ELECTION_RENEW_INTERVAL_S")
        return self

    @field_validator("posting_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if not isinstance(logging.getLevelName(value.upper()), int):
            raise ValueError(f"unknown log level {value!r}")
        return value.upper()

    @property
    def namespaces(self) -> list[str]:
        return self.watch_namespaces or [self.kube_namespace]

    @property
    def clusterwide(self) -> bool:
        return "*" in self.namespaces

    @property
    def builder_mount_paths(self) -> list[str]:
        """Where the Job's container mounts the builder's own volumes."""
        paths = [self.videos_mount_path, TMP_MOUNT_PATH]
        if self.ca_bundle_config_map and self.ca_bundle is not None:
            paths.append(str(self.ca_bundle))
        return paths

    @property
    def lease_namespace(self) -> str:
        """Where the leader-election Lease lives."""
        return self.leader_election_namespace or os.environ.get("POD_NAMESPACE") or self.kube_namespace


def apply_kopf_settings(kopf_settings: Any, settings: OperatorSettings) -> None:
    """Copy peering, posting and storage choices onto Kopf's settings (startup handler).

    Kopf's progress and diff-base go to annotations under videoanalysis.io, so the typed
    status schema of the CRD prunes nothing Kopf needs.
    """
    import kopf

    kopf_settings.posting.level = logging.getLevelName(settings.posting_level)
    kopf_settings.peering.standalone = not settings.peering_name
    if settings.peering_name:
        kopf_settings.peering.name = settings.peering_name
        kopf_settings.peering.clusterwide = settings.clusterwide
    kopf_settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="videoanalysis.io")
    kopf_settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix="videoanalysis.io")
    kopf_settings.persistence.finalizer = "videoanalysis.io/operator"
    kopf_settings.execution.max_workers = 4
    # Kopf removes the finalizer of a deleted resource once its timers have exited; a timer
    # caught mid-run (a row read, a status patch) is looked at again only after this polling
    # period, which defaults to 60 s and held deletions (and namespaces) that long.
    kopf_settings.background.cancellation_polling = settings.timer_exit_polling_s
    # A watch that goes silent would stop every event: end and reopen it on both sides.
    kopf_settings.watching.server_timeout = settings.watch_server_timeout_s
    kopf_settings.watching.client_timeout = settings.watch_client_timeout_s
