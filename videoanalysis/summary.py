"""A task's detection summary, from its row's per-label counts: the API shows it as is
(`detections_total`), the resource's status in its own camelCase spelling (`detectionsTotal`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from pydantic import BaseModel, Field
from pydantic.alias_generators import to_camel


# No docstring: pydantic would publish it as the schema's description in the OpenAPI document.
class TaskSummary(BaseModel):
    detections: dict[str, int] = Field(description="Detections stored so far, per label.")
    detections_total: int = Field(description="All detections stored so far.")
    objects: dict[str, int] | None = Field(None, description="Unique tracks so far, per label; null with tracker=none.")
    objects_total: int | None = Field(None, description="All unique tracks so far; null with tracker=none.")

    @classmethod
    def of(cls, counts: Mapping[str, int] | None, objects: Mapping[str, int] | None = None) -> Self:
        """From the row's detections per label and unique tracks per label (None: no tracker)."""
        detections = {str(k): int(v) for k, v in sorted((counts or {}).items())}
        tracks = {str(k): int(v) for k, v in sorted(objects.items())} if objects is not None else None
        return cls(
            detections=detections,
            detections_total=sum(detections.values()),
            objects=tracks,
            objects_total=sum(tracks.values()) if tracks is not None else None,
        )

    def as_status(self) -> dict[str, Any]:
        """The summary as the resource's status spells it. The keys are camelCased here, not by
        an alias on the model: FastAPI writes a response model, and its OpenAPI schema, by
        alias, so an alias would turn the API's JSON camelCase too."""
        return {to_camel(name): value for name, value in self.model_dump().items()}
