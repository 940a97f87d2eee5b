"""`make bench-zones`: zone and line counts on synthetic scenes with known ground truth, and what
the events cost.

Each scene (faces from bench/tracking_scenes.py moving along known paths over a 640×360 canvas)
is encoded to video and run through the job's pipeline (`analyse`: the real opencv-face
detector, the score filter, OC-SORT, the zone and line events), in-process as the job runs it.
The ground truth is the scene's own: the expected counts are the scene's design, and each
dwell is the time between the first frame a face's true box has its anchor inside the zone and
the first frame it has not. Reported: counts found against expected, the dwell error in frames,
and the events' share of the pipeline's time (goal: exact counts, dwell within one frame,
events under 2 % of the job's time).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.tracking_scenes import FACE, FPS, MARGIN, SIZE, Scene, _line, render
from inference_job.metrics import RunStats
from inference_job.models import create_model
from inference_job.pipeline import FrameResult, analyse
from inference_job.reader import FrameReader
from inference_job.tracker import LOST_TRACK_S, TrackerStage
from inference_job.zone_events import Geometry, ZoneEvents
from videoanalysis.params import AnalysisParams
from videoanalysis.zone_totals import add_events
from videoanalysis.zones import Line, Rules, Zone

GOALS = "goals: exact counts, dwell within one frame, events < 2 % of the pipeline's time"
LINE = Line(name="line", start=[0.5, 0.02], end=[0.5, 0.98])  # its `in` side: the right
ZONE = Zone(name="zone", polygon=[[0.62, 0.0], [0.98, 0.0], [0.98, 1.0], [0.62, 1.0]])
FACE_W, FACE_H = FACE[2], FACE[3]


@dataclass
class ZoneScene:
    scene: Scene
    expected: dict[str, dict[str, int]]  # rule -> kind -> count
    result: dict = field(default_factory=dict)


def _anchor_x(x: float) -> float:
    """The bottom centre's x of the face in a sprite at top-left x."""
    return x + MARGIN + FACE_W / 2


def _loiter(f: int) -> tuple[float, float]:
    """Walk to the line, then sway across it two frames a side (fewer than min_frames)."""
    at_line = SIZE[0] * 0.5 - MARGIN - FACE_W / 2
    if f < 30:
        return _line(10, 100, at_line - 12, 100, 0, 30)(f)
    return (at_line + (10 if (f // 2) % 2 else -10), 100.0)


def _visit(f: int) -> tuple[float, float]:
    """Into the zone, stay, back out."""
    if f <= 40:
        return _line(10, 100, 430, 100, 0, 40)(f)
    if f <= 90:
        return (430.0, 100.0)
    return _line(430, 100, 10, 100, 90, 130)(f)


def zone_scenes() -> list[ZoneScene]:
    nothing = {"in": 0, "out": 0, "entered": 0, "left": 0}
    return [
        # Two faces cross the line in opposite directions, one row apart in height; the one going
        # left starts inside the zone (it enters there at its first frame), the other ends in it.
        ZoneScene(
            Scene("both-ways", 120, {1: _line(10, 20, 470, 20, 0, 119), 2: _line(470, 195, 10, 195, 0, 119)}),
            {"line": {**nothing, "in": 1, "out": 1}, "zone": {**nothing, "entered": 2, "left": 2}},
        ),
        # Two faces cross together in the same direction.
        ZoneScene(
            Scene("two-at-once", 100, {1: _line(10, 20, 470, 20, 0, 99), 2: _line(10, 195, 470, 195, 0, 99)}),
            {"line": {**nothing, "in": 2}, "zone": {**nothing, "entered": 2, "left": 2}},
        ),
        # A face walks into the zone, stays two seconds, walks out.
        ZoneScene(
            Scene("enter-leave", 131, {1: _visit}),
            {"line": {**nothing, "in": 1, "out": 1}, "zone": {**nothing, "entered": 1, "left": 1}},
        ),
        # A face sways across the line, never long enough on one side to count.
        ZoneScene(Scene("loiter", 130, {1: _loiter}), {"line": dict(nothing), "zone": dict(nothing)}),
    ]


def true_dwells(scene: Scene) -> list[float]:
    """Per visit of the zone by a true box's anchor: frames from the first inside to the first
    outside (or the last frame), in seconds."""
    x0, x1 = ZONE.polygon[0][0] * SIZE[0], ZONE.polygon[1][0] * SIZE[0]
    dwells = []
    for oid in scene.paths:
        inside_since = None
        for f in range(scene.frames):
            box = scene.gt[f].get(oid)
            inside = box is not None and x0 <= (box[0] + box[2]) / 2 <= x1
            if inside and inside_since is None:
                inside_since = f
            elif not inside and inside_since is not None:
                dwells.append((f - inside_since) / FPS)
                inside_since = None
        if inside_since is not None:
            dwells.append((scene.frames - 1 - inside_since) / FPS)
    return sorted(dwells)


async def run(zs: ZoneScene, video: Path) -> None:
    model = create_model("opencv-face")
    params = AnalysisParams(model="opencv-face", tracker="ocsort")  # type: ignore[arg-type]
    rules = Rules(zones=[ZONE], lines=[LINE])
    zones = ZoneEvents(rules, Geometry(rules, *SIZE), lost_after_s=LOST_TRACK_S)
    events: list[dict] = []

    async def sink(results: list[FrameResult]) -> None:
        events.extend(e for r in results for e in r.events)

    stats = RunStats()
    started = time.perf_counter()
    with FrameReader(video) as reader:
        await analyse(
            reader, model, params, sink, batch_size=8, stats=stats, tracker=TrackerStage("ocsort", FPS), zones=zones
        )
    events.extend(zones.finish())
    stats.wall_seconds = time.perf_counter() - started
    totals = add_events(None, events)
    found = {
        "line": {k: sum(c[k] for c in totals["lines"].get("line", {}).values()) for k in ("in", "out")},
        "zone": {k: sum(c[k] for c in totals["zones"].get("zone", {}).values()) for k in ("entered", "left")},
    }
    dwells = sorted(e["dwell_s"] for e in events if e["kind"] == "left")
    expected_dwells = true_dwells(zs.scene)
    errors = [abs(a - b) * FPS for a, b in zip(dwells, expected_dwells, strict=False)]
    zs.result = {
        "found": found,
        "exact": all(found[r][k] == zs.expected[r][k] for r in found for k in found[r]),
        "dwells": dwells,
        "true_dwells": expected_dwells,
        "dwell_error_frames": max(errors, default=0.0) if len(dwells) == len(expected_dwells) else float("inf"),
        "stats": stats,
    }


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def main() -> int:
    argparse.ArgumentParser(description=__doc__.split("\n")[0]).parse_args()
    found = zone_scenes()
    with tempfile.TemporaryDirectory(prefix="bench-zones-") as tmp:
        for zs in found:
            video = Path(tmp) / f"{zs.scene.name}.avi"
            render(zs.scene, video)
            asyncio.run(run(zs, video))
    print(f"bench-zones: {cpu_model()}, {os.cpu_count()} cores; opencv-face + OC-SORT, {FPS:g} fps, 640x360")
    print(
        f"{'scene':<12} {'line in/out':>12} {'zone entered/left':>18} {'exact':>6} {'dwell s (true)':>22} {'err frames':>10} {'events %':>9}"
    )
    zones_s = wall_s = 0.0
    for zs in found:
        r, e = zs.result, zs.expected
        line = f"{r['found']['line']['in']}/{r['found']['line']['out']} ({e['line']['in']}/{e['line']['out']})"
        zone = (
            f"{r['found']['zone']['entered']}/{r['found']['zone']['left']} ({e['zone']['entered']}/{e['zone']['left']})"
        )
        dwell = ", ".join(f"{d:.2f}" for d in r["dwells"]) or "-"
        true = ", ".join(f"{d:.2f}" for d in r["true_dwells"]) or "-"
        stats = r["stats"]
        zones_s, wall_s = zones_s + stats.zones_seconds, wall_s + stats.wall_seconds
        share = 100 * stats.zones_seconds / stats.wall_seconds
        print(
            f"{zs.scene.name:<12} {line:>12} {zone:>18} {'yes' if r['exact'] else 'NO':>6} {f'{dwell} ({true})':>22}"
            f" {r['dwell_error_frames']:10.1f} {share:8.2f}%"
        )
    print(f"events: {zones_s * 1000:.1f} ms of {wall_s:.1f} s of pipeline time, {100 * zones_s / wall_s:.2f} %")
    print(GOALS)
    ok = all(zs.result["exact"] and zs.result["dwell_error_frames"] <= 1.0 for zs in found)
    return 0 if ok and zones_s / wall_s < 0.02 else 1


if __name__ == "__main__":
    raise SystemExit(main())
