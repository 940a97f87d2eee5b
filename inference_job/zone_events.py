"""Zone and line events of tracks: each track's path through the task's zones and lines becomes
`entered`/`left` (with the dwell) and `in`/`out` events, frame by frame.

supervision supplies the geometry only, behind `Geometry`: a box's anchor (`Detections.
get_anchors_coordinates`), inside a polygon (`PolygonZone.trigger`, its `triggering_anchors`
set to the rule's one anchor) and the side of a line (`Vector.cross_product`). Its own
counters are not used: `LineZone` and `PolygonZone` keep private state (a `defaultdict` with a
lambda, `deque`s) that cannot be saved with a batch, and `PolygonZone` has no enter, leave or
dwell. The state here is plain JSON (`state()`), committed with the tracker's state in each
batch, so a resumed run neither loses nor repeats an event.

A change of side counts once an object has been seen on the new side in `min_frames` analysed
frames in a row (jitter around a line or a zone's edge is ignored); the event is dated at the
first of those frames. A line counts only while the anchor is over the segment (its projection
falls between the ends). A track the tracker has dropped (unseen for `lost_after_s` of video)
leaves the zones it was in at its last sighting; `finish()` closes the rest at the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from videoanalysis.zones import Line, Rules, Zone, ZoneLimits

__all__ = ["Geometry", "ZoneEvents", "ordered"]


class Geometry:
    """The rules in pixels of one frame size, and supervision's tests on boxes."""

    def __init__(self, rules: Rules, width: int, height: int, limits: ZoneLimits | None = None) -> None:
        """ValueError naming the rule or the limit when the rules cannot be drawn over this frame."""
        import supervision as sv
        from supervision.geometry.core import Vector

        rules.check_in_frame(width, height)
        if limits is not None:
            rules.check_limits(limits)
            rules.check_pixels(width, height, limits)
        self._sv = sv
        scale = {"fraction": (float(width), float(height)), "pixels": (1.0, 1.0)}
        self.zones: dict[str, Any] = {}
        for zone in rules.zones:
            sx, sy = scale[zone.units]
            polygon = np.array([[round(x * sx), round(y * sy)] for x, y in zone.polygon], dtype=np.int64)
            self.zones[zone.name] = sv.PolygonZone(polygon, triggering_anchors=(sv.Position[zone.anchor.upper()],))
        self.lines: dict[str, tuple[Any, np.ndarray, np.ndarray]] = {}
        for line in rules.lines:
            sx, sy = scale[line.units]
            start = np.array([line.start[0] * sx, line.start[1] * sy])
            end = np.array([line.end[0] * sx, line.end[1] * sy])
            vector = Vector(sv.Point(*start), sv.Point(*end))
            self.lines[line.name] = (vector, start, end)

    def inside(self, zone: Zone, boxes: np.ndarray) -> np.ndarray:
        """Whether each box's anchor is inside the zone."""
        return np.asarray(self.zones[zone.name].trigger(self._sv.Detections(xyxy=boxes)), dtype=bool)

    def sides(self, line: Line, boxes: np.ndarray) -> np.ndarray:
        """Per box: -1 (the `in` side: left of the line's direction on screen), +1, or 0 when
        the anchor is on the line or not over the segment."""
        vector, start, end = self.lines[line.name]
        points = self._sv.Detections(xyxy=boxes).get_anchors_coordinates(self._sv.Position[line.anchor.upper()])
        span = end - start
        t = ((points - start) @ span) / float(span @ span)
        over = (t >= 0) & (t <= 1)
        cross = np.array([vector.cross_product(self._sv.Point(float(x), float(y))) for x, y in points])
        return np.where(over, np.sign(cross), 0).astype(int)


class ZoneEvents:
    """The events of one task's tracks, fed its analysed frames in order."""

    def __init__(self, rules: Rules, geometry: Geometry, lost_after_s: float, state: Any = None) -> None:
        self.rules, self.geometry, self.lost_after_s = rules, geometry, lost_after_s
        self.tracks: dict[str, dict[str, Any]] = dict((state or {}).get("tracks", {}))

    def state(self) -> dict[str, Any]:
        return {"tracks": self.tracks}

    def update(self, frame: int, timestamp: float, objects: Sequence[dict]) -> list[dict]:
        """The events this frame confirms (`objects`: the frame's stored detections, tracked)."""
        seen = [o for o in objects if o.get("track_id") is not None]
        events: list[dict] = []
        if seen:
            boxes = np.array([o["box"] for o in seen], dtype=np.float64).reshape(-1, 4)
            for zone in self.rules.zones:
                flags = self.geometry.inside(zone, boxes)
                for obj, now in zip(seen, flags, strict=True):
                    if _wanted(zone, obj):
                        events += self._zone_step(zone, obj, bool(now), frame, timestamp)
            for line in self.rules.lines:
                sides = self.geometry.sides(line, boxes)
                for obj, side in zip(seen, sides, strict=True):
                    if _wanted(line, obj):
                        events += self._line_step(line, obj, int(side), frame, timestamp)
            for obj in seen:
                track = self._track(obj)
                track["last"], track["label"] = [frame, timestamp], obj["label"]
        events += self._drop_lost(timestamp, {str(o["track_id"]) for o in seen})
        return ordered(events)

    def seed(self, frame: int, timestamp: float, obj: dict) -> list[dict]:
        """A track's first detection, given its id only when a later frame confirmed the track:
        stepped through the rules as at its own frame (a track's state is its own detections'
        alone, and it had none before)."""
        boxes = np.array([obj["box"]], dtype=np.float64).reshape(-1, 4)
        events: list[dict] = []
        for zone in self.rules.zones:
            if _wanted(zone, obj):
                events += self._zone_step(zone, obj, bool(self.geometry.inside(zone, boxes)[0]), frame, timestamp)
        for line in self.rules.lines:
            if _wanted(line, obj):
                events += self._line_step(line, obj, int(self.geometry.sides(line, boxes)[0]), frame, timestamp)
        track = self._track(obj)
        if "last" not in track or track["last"][0] < frame:
            track["last"], track["label"] = [frame, timestamp], obj["label"]
        return events

    def finish(self) -> list[dict]:
        """The end of the video: every track still in a zone leaves it at its last sighting."""
        events = [e for key in sorted(self.tracks, key=int) for e in self._close(key)]
        self.tracks = {}
        return ordered(events)

    def _track(self, obj: dict) -> dict[str, Any]:
        return self.tracks.setdefault(str(obj["track_id"]), {"zones": {}, "lines": {}})

    def _zone_step(self, zone: Zone, obj: dict, now: bool, frame: int, ts: float) -> list[dict]:
        state = self._track(obj)["zones"].setdefault(zone.name, {"in": False, "pending": 0, "at": None, "since": None})
        if now == state["in"]:
            state["pending"], state["at"] = 0, None
            return []
        if state["pending"] == 0:
            state["at"] = [frame, ts]
        state["pending"] += 1
        if state["pending"] < zone.min_frames:
            return []
        at, state["pending"], state["at"], state["in"] = state["at"], 0, None, now
        if now:
            state["since"] = at
            return [_event("entered", zone.name, obj, at)]
        since, state["since"] = state["since"], None
        return [_event("left", zone.name, obj, at, dwell_s=round(at[1] - since[1], 6))]

    def _line_step(self, line: Line, obj: dict, side: int, frame: int, ts: float) -> list[dict]:
        state = self._track(obj)["lines"].setdefault(line.name, {"side": 0, "pending": 0, "at": None})
        if side == 0:
            return []  # not over the segment, or on it: no side seen
        if state["side"] == 0:
            state["side"] = side  # where the track is first seen: no crossing yet
            return []
        if side == state["side"]:
            state["pending"], state["at"] = 0, None
            return []
        if state["pending"] == 0:
            state["at"] = [frame, ts]
        state["pending"] += 1
        if state["pending"] < line.min_frames:
            return []
        at, state["pending"], state["at"], state["side"] = state["at"], 0, None, side
        return [_event("in" if side < 0 else "out", line.name, obj, at)]

    def _drop_lost(self, timestamp: float, seen: set[str]) -> list[dict]:
        """Tracks unseen for longer than the tracker keeps them: they leave where they were."""
        lost = [
            key
            for key, track in self.tracks.items()
            if key not in seen and "last" in track and timestamp - track["last"][1] > self.lost_after_s
        ]
        events = [e for key in sorted(lost, key=int) for e in self._close(key)]
        for key in lost:
            del self.tracks[key]
        return events

    def _close(self, key: str) -> list[dict]:
        track = self.tracks[key]
        if "last" not in track:
            return []
        obj = {"track_id": int(key), "label": track["label"]}
        last = track["last"]
        return [
            _event("left", name, obj, last, dwell_s=round(last[1] - state["since"][1], 6))
            for name, state in track["zones"].items()
            if state["in"]
        ]


def _wanted(rule: Zone | Line, obj: dict) -> bool:
    return rule.labels is None or obj["label"] in rule.labels


def _event(kind: str, rule: str, obj: dict, at: list, **extra: Any) -> dict:
    return {
        "kind": kind,
        "rule": rule,
        "track_id": int(obj["track_id"]),
        "label": obj["label"],
        "frame": int(at[0]),
        "timestamp": float(at[1]),
        **extra,
    }


def ordered(events: Iterable[dict]) -> list[dict]:
    """Events in frame order (then rule, track, kind: the same order whatever produced them)."""
    return sorted(events, key=lambda e: (e["frame"], e["rule"], e["track_id"], e["kind"]))
