"""A task's detection summary, from its row's per-label counts: the API shows it as is
(`detections_total`), the resource's status in its own camelCase spelling (`detectionsTotal`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from pydantic import BaseModel, Field
from pydantic.alias_generators import to_camel

from videoanalysis.zone_totals import LineCounts, ZoneCounts, zone_summary


# No docstring: pydantic would publish it as the schema's description in the OpenAPI document.
class TaskSummary(BaseModel):
    detections: dict[str, int] = Field(description="Detections stored so far, per label.")
    detections_total: int = Field(description="All detections stored so far.")
    objects: dict[str, int] | None = Field(None, description="Unique tracks so far, per label; null with tracker=none.")
    objects_total: int | None = Field(None, description="All unique tracks so far; null with tracker=none.")
    zones: dict[str, dict[str, ZoneCounts]] | None = Field(
        None,
        description="Per zone, per label: entries, exits, the most inside at once, mean dwell; null without zones.",
    )
    lines: dict[str, dict[str, LineCounts]] | None = Field(
        None, description="Per line, per label: crossings in and out; null without lines."
    )

    @classmethod
    def of(
        cls,
        counts: Mapping[str, int] | None,
        objects: Mapping[str, int] | None = None,
        params: Mapping[str, Any] | None = None,
        zone_totals: Mapping[str, Any] | None = None,
    ) -> Self:
        """From the row's detections per label and unique tracks per label (None: no tracker),
        and for a task with zones or lines (its `params`) their totals."""
        zones, lines = zone_summary(params, zone_totals)
        detections = {str(k): int(v) for k, v in sorted((counts or {}).items())}
        tracks = {str(k): int(v) for k, v in sorted(objects.items())} if objects is not None else None
        return cls(
            detections=detections,
            detections_total=sum(detections.values()),
            objects=tracks,
            objects_total=sum(tracks.values()) if tracks is not None else None,
            zones=zones,
            lines=lines,
        )

    def as_status(self) -> dict[str, Any]:
        """The summary as the resource's status spells it. The keys are camelCased here, not by
        an alias on the model: FastAPI writes a response model, and its OpenAPI schema, by
        alias, so an alias would turn the API's JSON camelCase too."""
        status = {to_camel(name): value for name, value in self.model_dump(by_alias=True).items()}
        if status["zones"] is not None:
            status["zones"] = {
                zone: {label: {to_camel(k): v for k, v in counts.items()} for label, counts in labels.items()}
                for zone, labels in status["zones"].items()
            }
        return status
