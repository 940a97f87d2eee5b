"""Zones and lines of the parameter contract: named polygons and directed line segments over the
frame, counted per track by the job (`inference_job.zone_events`).

Coordinates are fractions of the frame (0..1, the default: they survive a change of resolution)
or pixels. Which point of a box triggers them is its `anchor` (the bottom centre by default: the
feet of a person, the wheels of a car). A line's `in` side is the left of its direction from
`start` to `end` in image coordinates (y down), so a line drawn left to right counts objects
moving up as `in`. Bad geometry is refused naming the zone or line and why; checks that need the
frame size (pixels outside the frame) run where it is known (`check_in_frame`).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from videoanalysis.text import printable

#: The contract's own caps; each component's settings may allow fewer.
MAX_VERTICES = 64
MAX_RULES = 32

Units = Literal["fraction", "pixels"]
Anchor = Literal[
    "bottom_center", "center", "top_center", "center_left", "center_right", "bottom_left", "bottom_right", "top_left",
    "top_right",
]  # fmt: skip
Name = Annotated[str, Field(min_length=1, max_length=63, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")]
Label = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(printable)]
Coord = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Point = Annotated[list[Coord], Field(min_length=2, max_length=2)]  # [x, y], a JSON pair


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True)

    name: Name = Field(description="Unique among the task's zones and lines; names its events and totals.")
    units: Units = Field("fraction", description="fraction: 0..1 of the frame's width and height; pixels.")
    anchor: Anchor = Field("bottom_center", description="The point of a box that triggers it.")
    labels: list[Label] | None = Field(None, max_length=100, description="Only these labels (all when absent).")
    min_frames: int = Field(
        3,
        ge=1,
        le=1000,
        strict=True,
        description="Analysed frames an object must stay on the new side before it counts.",
    )

    @property
    def points(self) -> list[Point]:
        raise NotImplementedError

    def check_in_frame(self, width: int, height: int) -> None:
        """ValueError naming the rule when a pixel point lies outside a `width`×`height` frame."""
        if self.units == "pixels":
            for x, y in self.points:
                if not (0 <= x <= width and 0 <= y <= height):
                    raise ValueError(f"{self.name}: point ({x:g}, {y:g}) is outside the {width}x{height} frame")


def _within_units(points: list[Point], units: str, name: str) -> None:
    for x, y in points:
        if units == "fraction" and not (0 <= x <= 1 and 0 <= y <= 1):
            raise ValueError(f"{name}: point ({x:g}, {y:g}) is outside the frame (fractions are 0..1)")
        if units == "pixels" and (x < 0 or y < 0):
            raise ValueError(f"{name}: point ({x:g}, {y:g}) is outside the frame (negative pixels)")


class Zone(_Rule):
    """A polygon; an object is in it while its anchor is inside."""

    polygon: list[Point] = Field(max_length=MAX_VERTICES, description="Vertices in order (3 or more).")

    @model_validator(mode="after")
    def _shape(self) -> Zone:
        if len(self.polygon) < 3:
            raise ValueError(f"zone {self.name}: a polygon needs at least 3 points, got {len(self.polygon)}")
        _within_units(self.polygon, self.units, f"zone {self.name}")
        if _self_intersects(self.polygon):
            raise ValueError(f"zone {self.name}: the polygon crosses itself")
        if _area(self.polygon) == 0:
            raise ValueError(f"zone {self.name}: the polygon has no area (its points are on one line)")
        return self

    @property
    def points(self) -> list[Point]:
        return self.polygon


class Line(_Rule):
    """A directed segment; an object crosses it `in` (to its left) or `out`."""

    start: Point = Field(description="[x, y] where the line starts.")
    end: Point = Field(description="[x, y] where it ends; its `in` side is on the left, looking from start to end.")

    @model_validator(mode="after")
    def _shape(self) -> Line:
        if self.start == self.end:
            raise ValueError(f"line {self.name}: start and end are the same point (zero length)")
        _within_units([self.start, self.end], self.units, f"line {self.name}")
        return self

    @property
    def points(self) -> list[Point]:
        return [self.start, self.end]


class Rules(BaseModel):
    """A task's zones and lines together: names unique across both, counts capped."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    zones: list[Zone] = Field(default_factory=list, max_length=MAX_RULES)
    lines: list[Line] = Field(default_factory=list, max_length=MAX_RULES)

    @field_validator("zones", "lines")
    @classmethod
    def _unique(cls, rules: list[_Rule]) -> list[_Rule]:
        names = [r.name for r in rules]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"names must be unique: {', '.join(twice)}")
        return rules

    @model_validator(mode="after")
    def _apart(self) -> Rules:
        both = {z.name for z in self.zones} & {ln.name for ln in self.lines}
        if both:
            raise ValueError(f"a zone and a line share the name {', '.join(sorted(both))}")
        return self

    def check_in_frame(self, width: int, height: int) -> None:
        for rule in [*self.zones, *self.lines]:
            rule.check_in_frame(width, height)

    def check_limits(self, limits: ZoneLimits) -> None:
        """ValueError naming what is over a deployment's limits (counts and vertices)."""
        for kind, rules in (("zones", self.zones), ("lines", self.lines)):
            if len(rules) > limits.max_zones:
                raise ValueError(f"{len(rules)} {kind}: at most {limits.max_zones} (VA_MAX_ZONES)")
        for zone in self.zones:
            if len(zone.polygon) > limits.max_vertices:
                raise ValueError(
                    f"zone {zone.name}: {len(zone.polygon)} vertices, at most {limits.max_vertices} (VA_MAX_ZONE_VERTICES)"
                )

    def check_pixels(self, width: int, height: int, limits: ZoneLimits) -> None:
        """ValueError when the zones' masks over a `width`×`height` frame would be larger than
        the limit (each zone's mask spans from the frame's corner to its polygon's far corner)."""
        total = sum(mask_pixels(zone, width, height) for zone in self.zones)
        if total > limits.max_pixels:
            raise ValueError(
                f"the zones cover {total} mask pixels over the {width}x{height} frame, "
                f"at most {limits.max_pixels} (VA_MAX_ZONE_PIXELS)"
            )

    def __bool__(self) -> bool:
        return bool(self.zones or self.lines)


@dataclass(frozen=True)
class ZoneLimits:
    """A deployment's limits on a task's zones and lines (settings, within the contract's caps)."""

    max_zones: int = MAX_RULES
    max_vertices: int = MAX_VERTICES
    max_pixels: int = 7680 * 4320


def mask_pixels(zone: Zone, width: int, height: int) -> int:
    """The pixels of the zone's mask over a `width`×`height` frame: supervision draws each
    polygon into a mask from (0, 0) to its far corner plus two."""
    sx, sy = (width, height) if zone.units == "fraction" else (1, 1)
    far_x = max(round(x * sx) for x, _ in zone.polygon)
    far_y = max(round(y * sy) for _, y in zone.polygon)
    return (far_x + 2) * (far_y + 2)


def _area(points: list[Point]) -> float:
    """Twice the signed area (shoelace)."""
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True))


def _orientation(a: Point, b: Point, c: Point) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _on_segment(a: Point, b: Point, p: Point) -> bool:
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def _segments_meet(a: Point, b: Point, c: Point, d: Point) -> bool:
    o1, o2, o3, o4 = _orientation(a, b, c), _orientation(a, b, d), _orientation(c, d, a), _orientation(c, d, b)
    if (o1 > 0) != (o2 > 0) and (o3 > 0) != (o4 > 0) and 0 not in (o1, o2, o3, o4):
        return True
    return any(
        o == 0 and _on_segment(s, e, p) for o, s, e, p in ((o1, a, b, c), (o2, a, b, d), (o3, c, d, a), (o4, c, d, b))
    )


def _self_intersects(points: list[Point]) -> bool:
    """Whether two edges that are not neighbours touch (a polygon of n ≤ 64 edges: n² checks)."""
    n = len(points)
    edges = [(points[i], points[(i + 1) % n]) for i in range(n)]
    for i, j in combinations(range(n), 2):
        if j == i + 1 or (i == 0 and j == n - 1):
            continue  # neighbours share a vertex
        if _segments_meet(*edges[i], *edges[j]):
            return True
    return False


__all__ = ["MAX_RULES", "MAX_VERTICES", "Anchor", "Line", "Rules", "Zone", "ZoneLimits", "mask_pixels"]
