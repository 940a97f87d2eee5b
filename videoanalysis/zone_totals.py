"""A task's zone and line totals, kept on its row (`tasks.zone_totals`) in each batch's
transaction from the events that batch commits, and shown in its summary.

Stored: `{"zones": {zone: {label: {entered, left, inside, max_inside, dwell_s}}}, "lines":
{line: {label: {in, out}}}}`. `inside` is how many are in the zone after the events so far, in
the order the job confirmed them; `dwell_s` the sum of the dwells of those who left.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, Field

__all__ = ["LineCounts", "ZoneCounts", "add_events", "zone_summary"]


# No docstrings: pydantic would publish them as the schemas' descriptions.
class ZoneCounts(BaseModel):
    entered: int = Field(description="Tracks that entered (after the rule's min_frames).")
    left: int = Field(description="Tracks that left, the end of the video included.")
    max_inside: int = Field(description="The most tracks inside at once.")
    mean_dwell_seconds: float | None = Field(description="Mean time inside of those that left; null before any left.")


class LineCounts(BaseModel):
    in_: int = Field(alias="in", description="Crossings to the line's left (its `in` side).")
    out: int = Field(description="Crossings to its right.")

    model_config = {"populate_by_name": True, "serialize_by_alias": True}


def add_events(totals: Mapping[str, Any] | None, events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """`totals` with `events` counted (in their order), as a new dict."""
    out: dict[str, Any] = copy.deepcopy(dict(totals or {}))
    zones, lines = out.setdefault("zones", {}), out.setdefault("lines", {})
    for e in events:
        kind, rule, label = e["kind"], e["rule"], e["label"]
        if kind in ("in", "out"):
            counts = lines.setdefault(rule, {}).setdefault(label, {"in": 0, "out": 0})
            counts[kind] += 1
            continue
        z = zones.setdefault(rule, {}).setdefault(
            label, {"entered": 0, "left": 0, "inside": 0, "max_inside": 0, "dwell_s": 0.0}
        )
        if kind == "entered":
            z["entered"] += 1
            z["inside"] += 1
            z["max_inside"] = max(z["max_inside"], z["inside"])
        else:
            z["left"] += 1
            z["inside"] = max(0, z["inside"] - 1)
            z["dwell_s"] = round(z["dwell_s"] + float(e.get("dwell_s") or 0.0), 6)
    return out


def zone_summary(
    params: Mapping[str, Any] | None, totals: Mapping[str, Any] | None
) -> tuple[dict[str, dict[str, ZoneCounts]] | None, dict[str, dict[str, LineCounts]] | None]:
    """The summary's `zones` and `lines` for a task with these params (each rule listed, with
    no labels before its first event); None for a task without zones or lines."""
    params, totals = params or {}, totals or {}
    names: dict[str, list[str]] = {
        kind: [str(r.get("name")) for r in params.get(kind) or [] if isinstance(r, Mapping)]
        for kind in ("zones", "lines")
    }
    if not (names["zones"] or names["lines"]):
        return None, None
    stored_zones, stored_lines = totals.get("zones") or {}, totals.get("lines") or {}
    zones: dict[str, dict[str, ZoneCounts]] = {
        name: {
            label: ZoneCounts(
                entered=z["entered"],
                left=z["left"],
                max_inside=z["max_inside"],
                mean_dwell_seconds=round(z["dwell_s"] / z["left"], 3) if z["left"] else None,
            )
            for label, z in sorted((stored_zones.get(name) or {}).items())
        }
        for name in names["zones"]
    }
    lines: dict[str, dict[str, LineCounts]] = {
        name: {label: LineCounts(**c) for label, c in sorted((stored_lines.get(name) or {}).items())}
        for name in names["lines"]
    }
    return zones, lines
