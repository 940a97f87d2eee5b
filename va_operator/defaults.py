"""Cluster-wide Job defaults (`VA_JOB_DEFAULTS`, set by the Helm chart from `job.*` values) and
the pure merge that puts them UNDER each resource's own spec.

Precedence, field by field: the resource's spec, then these defaults, then the operator's
built-in fallbacks (`builders.SPEC_DEFAULTS`). Maps and lists merge instead of replacing:
- `nodeSelector`: key by key; a key the resource sets wins, the other default keys stay;
- `tolerations`: union, the defaults first, exact duplicates dropped (a toleration only
  permits, so adding the cluster's never narrows where a resource may run);
- `resources`: `requests` and `limits` merge per resource name (resource's quantity wins).
Scalars (`gpus`, `activeDeadlineSeconds`, `backoffLimit`) are taken whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Quantity = str | int | float


class JobDefaults(BaseModel):
    """The shape of `VA_JOB_DEFAULTS` (camelCase, as in the resource's spec); all optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gpus: int | None = Field(None, ge=0, description="nvidia.com/gpu limit of a Job.")
    nodeSelector: dict[str, str] = Field(default_factory=dict)
    tolerations: list[dict[str, Any]] = Field(default_factory=list)
    resources: dict[str, dict[str, Quantity]] = Field(default_factory=dict)
    activeDeadlineSeconds: int | None = Field(None, ge=1)
    backoffLimit: int | None = Field(None, ge=0)

    def as_spec(self) -> dict[str, Any]:
        """Only what is set, as spec fields."""
        return {k: v for k, v in self.model_dump().items() if v not in (None, {}, [])}


def _merge_resources(default: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for section in (*default, *(k for k in own if k not in default)):
        values = {**(default.get(section) or {}), **(own.get(section) or {})}
        if values:
            merged[section] = values
    return merged


def _merge_tolerations(default: list[Mapping[str, Any]], own: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    merged: list[dict[str, Any]] = []
    for toleration in (*default, *own):
        if dict(toleration) not in merged:
            merged.append(dict(toleration))
    return merged


def merge_job_defaults(spec: Mapping[str, Any], defaults: JobDefaults | None) -> dict[str, Any]:
    """The resource's spec with the cluster defaults merged under it (pure; inputs untouched)."""
    own = {k: v for k, v in spec.items() if v is not None}
    base = defaults.as_spec() if defaults is not None else {}
    merged = {**base, **own}
    if "nodeSelector" in base:
        merged["nodeSelector"] = {**base["nodeSelector"], **(own.get("nodeSelector") or {})}
    if "tolerations" in base:
        merged["tolerations"] = _merge_tolerations(base["tolerations"], own.get("tolerations") or [])
    if "resources" in base:
        merged["resources"] = _merge_resources(base["resources"], own.get("resources") or {})
    return merged
