"""How the analysis Jobs' Pods are shaped beyond a resource's scheduling fields (`VA_JOB_POD`,
set by the Helm chart from `job.*` values): registry credentials, priority, Kueue's priority
class, Pod metadata, affinity, extra volumes, the size of /tmp and the GPU's resource name.

Checked whole when the operator starts, so a bad value stops it naming the field instead of
making the API server refuse every Job. The operator's own labels are not negotiable: a
`podLabels` key among them (or under `videoanalysis.io/`) is refused, since the operator,
the NetworkPolicies and Kueue find the Jobs and Pods by them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from kubernetes.utils.quantity import parse_quantity
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from videoanalysis.k8s import names

DEFAULT_GPU_RESOURCE = "nvidia.com/gpu"
TMP_MOUNT_PATH = "/tmp"
LABEL_KUEUE_PRIORITY_CLASS = "kueue.x-k8s.io/priority-class"
#: The builder's own volumes (uploaded videos, /tmp, the CA bundle): extra volumes take other names.
BUILDER_VOLUMES = frozenset({"videos", "tmp", "ca-bundle"})
#: Labels the operator sets on every Job and its Pods.
OPERATOR_LABELS = frozenset(
    {
        names.LABEL_NAME,
        names.LABEL_COMPONENT,
        names.LABEL_MANAGED_BY,
        names.LABEL_RESOURCE,
        names.LABEL_TASK,
        names.LABEL_KUEUE_QUEUE,
        LABEL_KUEUE_PRIORITY_CLASS,
    }
)
OPERATOR_LABEL_PREFIX = f"{names.GROUP}/"

_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = re.compile(rf"^{_DNS_LABEL}(\.{_DNS_LABEL})*$")
_NAME_PART = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def is_dns_subdomain(value: str) -> bool:
    return len(value) <= 253 and bool(_DNS_SUBDOMAIN.match(value))


def is_qualified_name(key: str) -> bool:
    """A label or annotation key: an optional DNS-subdomain prefix and `/`, then a name of 63 at most."""
    prefix, _, name = key.rpartition("/")
    return (not prefix or is_dns_subdomain(prefix)) and len(name) <= 63 and bool(_NAME_PART.match(name))


def is_label_value(value: str) -> bool:
    return value == "" or (len(value) <= 63 and bool(_NAME_PART.match(value)))


def is_extended_resource_name(value: str) -> bool:
    """A device plugin's resource, e.g. nvidia.com/gpu or amd.com/gpu: a domain, `/`, a name."""
    prefix, slash, _ = value.partition("/")
    return bool(slash) and is_dns_subdomain(prefix) and is_qualified_name(value)


def quantity_bytes(value: str) -> int:
    """Bytes of a Kubernetes quantity such as 8Gi (ValueError when it is none)."""
    try:
        return int(parse_quantity(value))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{value!r} is not a Kubernetes quantity such as 8Gi") from exc


def reserved_label_keys(keys: Iterable[str]) -> list[str]:
    """The keys only the operator may set."""
    return sorted(k for k in keys if k in OPERATOR_LABELS or k.startswith(OPERATOR_LABEL_PREFIX))


class Affinity(BaseModel):
    """A Kubernetes Affinity, passed through as written (the API server checks its inside)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    nodeAffinity: dict[str, Any] | None = None
    podAffinity: dict[str, Any] | None = None
    podAntiAffinity: dict[str, Any] | None = None

    def as_spec(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class JobPod(BaseModel):
    """The shape of `VA_JOB_POD` (camelCase, as in a Pod spec); every field optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    imagePullSecrets: list[str] = Field(
        default_factory=list, description="Names of Secrets with registry credentials for the inference image."
    )
    priorityClassName: str = Field("", description="PriorityClass of the Pods; empty: the cluster default.")
    kueuePriorityClass: str = Field(
        "", description=f"Kueue WorkloadPriorityClass; sets the {LABEL_KUEUE_PRIORITY_CLASS} label of the Jobs."
    )
    podAnnotations: dict[str, str] = Field(default_factory=dict, description="Annotations of the Pods.")
    podLabels: dict[str, str] = Field(
        default_factory=dict, description="Labels of the Pods; the operator's own keys are refused."
    )
    affinity: Affinity = Field(default_factory=Affinity, description="Affinity of the Pods, e.g. node affinity.")
    extraVolumes: list[dict[str, Any]] = Field(default_factory=list, description="Volumes added to the Pods.")
    extraVolumeMounts: list[dict[str, Any]] = Field(
        default_factory=list, description="Mounts of extraVolumes in the inference container."
    )
    # URL videos (up to VA_VIDEO_URL_MAX_BYTES, 4 GiB by default) stream to /tmp, and weights
    # given by URL are kept under VA_DATA_DIR (/tmp/videoanalysis): twice the largest video leaves
    # room for both, and a bound turns a runaway write into this Pod's eviction, not a full node.
    tmpSizeLimit: str = Field("8Gi", description="sizeLimit of the /tmp emptyDir; empty: unbounded.")
    # No request unless asked for (the chart asks for job.tmpSizeLimit): Kueue refuses to admit a
    # Job requesting a resource its ClusterQueue does not cover.
    ephemeralStorageRequest: str = Field(
        "", description="ephemeral-storage request of the container (room for /tmp); empty: none."
    )
    gpuResourceName: str = Field(
        DEFAULT_GPU_RESOURCE, description="Extended resource of the GPU limit and the automatic toleration."
    )

    @field_validator("imagePullSecrets")
    @classmethod
    def _secret_names(cls, value: list[str]) -> list[str]:
        bad = [n for n in value if not is_dns_subdomain(n)]
        if bad:
            raise ValueError(f"image pull secret names must be Secret names (DNS subdomains): {bad}")
        return value

    @field_validator("priorityClassName")
    @classmethod
    def _priority_class(cls, value: str) -> str:
        if value and not is_dns_subdomain(value):
            raise ValueError(f"{value!r} is not a PriorityClass name (a DNS subdomain)")
        return value

    @field_validator("kueuePriorityClass")
    @classmethod
    def _kueue_priority_class(cls, value: str) -> str:
        if value and not (is_dns_subdomain(value) and is_label_value(value)):
            raise ValueError(f"{value!r} is not a WorkloadPriorityClass name usable as a label value")
        return value

    @field_validator("podLabels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        reserved = reserved_label_keys(value)
        if reserved:
            raise ValueError(
                f"the operator sets {reserved} itself (it, the NetworkPolicies and Kueue select Jobs and Pods "
                f"by them): choose other label keys"
            )
        _check_metadata(value, "label")
        bad = [k for k, v in value.items() if not is_label_value(v)]
        if bad:
            raise ValueError(f"label values must be 63 characters at most, alphanumeric, '-', '_', '.': {bad}")
        return value

    @field_validator("podAnnotations")
    @classmethod
    def _annotations(cls, value: dict[str, str]) -> dict[str, str]:
        _check_metadata(value, "annotation")
        return value

    @field_validator("extraVolumes")
    @classmethod
    def _volumes(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        volume_names = _named(value, "extraVolumes")
        taken = sorted(set(volume_names) & BUILDER_VOLUMES)
        if taken:
            raise ValueError(f"extraVolumes {taken}: the operator's own volumes are named {sorted(BUILDER_VOLUMES)}")
        twice = sorted({n for n in volume_names if volume_names.count(n) > 1})
        if twice:
            raise ValueError(f"extraVolumes names more than once: {twice}")
        return value

    @field_validator("extraVolumeMounts")
    @classmethod
    def _mounts(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        _named(value, "extraVolumeMounts")
        unplaced = [m for m in value if not isinstance(m.get("mountPath"), str) or not m["mountPath"]]
        if unplaced:
            raise ValueError(f"extraVolumeMounts without a mountPath: {unplaced}")
        return value

    @field_validator("tmpSizeLimit", "ephemeralStorageRequest")
    @classmethod
    def _quantity(cls, value: str) -> str:
        if value and quantity_bytes(value) <= 0:
            raise ValueError(f"{value!r} must be more than zero (empty: none)")
        return value

    @field_validator("gpuResourceName")
    @classmethod
    def _gpu_resource(cls, value: str) -> str:
        if not is_extended_resource_name(value):
            raise ValueError(f"{value!r} is not an extended resource name such as nvidia.com/gpu or amd.com/gpu")
        return value

    @model_validator(mode="after")
    def _mounts_name_extra_volumes(self) -> JobPod:
        known = {v["name"] for v in self.extraVolumes}
        unknown = sorted({m["name"] for m in self.extraVolumeMounts} - known)
        if unknown:
            raise ValueError(f"extraVolumeMounts name volumes that extraVolumes lacks: {unknown}")
        return self

    @property
    def tmp_size_limit_bytes(self) -> int | None:
        return quantity_bytes(self.tmpSizeLimit) if self.tmpSizeLimit else None

    def mount_path_clashes(self, builder_paths: Iterable[str]) -> list[str]:
        """Extra mount paths the builder already mounts something at (the API server refuses those)."""
        taken = set(builder_paths)
        return sorted({m["mountPath"] for m in self.extraVolumeMounts} & taken)


def _check_metadata(items: Mapping[str, str], what: str) -> None:
    bad = [k for k in items if not is_qualified_name(k)]
    if bad:
        raise ValueError(f"{what} keys must be [prefix/]name (a DNS-subdomain prefix, a name of 63 at most): {bad}")


def _named(items: list[dict[str, Any]], field: str) -> list[str]:
    unnamed = [item for item in items if not isinstance(item.get("name"), str) or not item["name"]]
    if unnamed:
        raise ValueError(f"{field} entries need a name: {unnamed}")
    return [item["name"] for item in items]
