"""A batch's tracks, merged into the `tracks` table in the batch's own transaction.

Each committed batch adds what its frames saw of each track (frames, first and last
appearance, best detection and its thumbnail, box areas, label votes) to the track's row, so
the rows always describe exactly the committed frames: a resumed run adds only frames it
commits, as the per-label counters do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tortoise.functions import Count

from inference_job.pipeline import FrameResult
from videoanalysis.tables import FrameDetections, Task, Track

__all__ = [
    "TrackPart",
    "area_units",
    "batch_tracks",
    "confirm_committed",
    "mean_area",
    "merged",
    "stored_units",
    "upsert_tracks",
]

#: Box areas are summed as integers in these fractions of a pixel², so a track's mean area is the
#: same float whatever order, batches or runs its detections were added in.
AREA_UNITS = 1000


def area_units(box: list[float]) -> int:
    x1, y1, x2, y2 = box
    return round(max(0.0, x2 - x1) * max(0.0, y2 - y1) * AREA_UNITS)


def stored_units(mean_box_area: float, frames_seen: int) -> int:
    """The exact sum behind a stored mean (it was made by `mean_area` from an integer sum)."""
    return round(mean_box_area * frames_seen * AREA_UNITS)


def mean_area(units: int, frames_seen: int) -> float:
    return units / max(frames_seen, 1) / AREA_UNITS


@dataclass
class TrackPart:
    """What some frames saw of one track."""

    track_id: int
    first_frame: int
    first_timestamp: float
    last_frame: int = 0
    last_timestamp: float = 0.0
    frames_seen: int = 0
    labels: Counter[str] = field(default_factory=Counter)
    best_score: float = -1.0
    best_frame: int = 0
    best_box: list[float] = field(default_factory=list)
    area_sum: int = 0  # in AREA_UNITS
    thumbnail: bytes | None = None


def batch_tracks(rows: Iterable[FrameResult]) -> dict[int, TrackPart]:
    """The tracks seen in `rows` (frame order), by track id; untracked detections are left out."""
    parts: dict[int, TrackPart] = {}
    for row in rows:
        for obj in row.objects:
            tid = obj.get("track_id")
            if tid is None:
                continue
            part = parts.setdefault(tid, TrackPart(tid, row.frame_index, row.timestamp_s))
            part.last_frame, part.last_timestamp = row.frame_index, row.timestamp_s
            part.frames_seen += 1
            part.labels[obj["label"]] += 1
            part.area_sum += area_units(obj["box"])
            crop = row.crops.get(tid)
            if obj["score"] > part.best_score:
                part.best_score, part.best_frame, part.best_box = obj["score"], row.frame_index, list(obj["box"])
                part.thumbnail = crop if crop is not None else part.thumbnail
            elif part.thumbnail is None and crop is not None:
                # the best is a first detection given its id after its image was gone: keep a thumbnail
                part.thumbnail = crop
    return parts


def merged(row: Track | None, part: TrackPart) -> dict[str, Any]:
    """The track's fields after adding `part` (later frames) to `row` (earlier ones, or none)."""
    labels = Counter(row.labels if row else {}) + part.labels
    seen = (row.frames_seen if row else 0) + part.frames_seen
    area = (stored_units(row.mean_box_area, row.frames_seen) if row else 0) + part.area_sum
    fields: dict[str, Any] = {
        "labels": dict(labels),
        # majority vote; a tie goes to the label seen first in the alphabet, so reruns agree
        "label": min(labels, key=lambda k: (-labels[k], k)),
        "first_frame": row.first_frame if row else part.first_frame,
        "first_timestamp": row.first_timestamp if row else part.first_timestamp,
        "last_frame": part.last_frame,
        "last_timestamp": part.last_timestamp,
        "frames_seen": seen,
        "mean_box_area": mean_area(area, seen),
    }
    if row is None or part.best_score > row.best_score:
        fields.update(best_score=part.best_score, best_frame=part.best_frame, best_box=part.best_box)
        fields["thumbnail"] = part.thumbnail if part.thumbnail is not None else (row.thumbnail if row else None)
    return fields


async def upsert_tracks(conn: Any, task_id: Any, rows: list[FrameResult]) -> None:
    """Merge the batch's tracks into their rows and recount the task's `objects` (the task
    row's lock, taken first by the writer's fenced update, keeps two writers apart)."""
    parts = batch_tracks(rows)
    existing = {
        t.track_id: t
        for t in await Track.filter(task_id=task_id, track_id__in=list(parts)).using_db(conn).select_for_update()
    }
    for tid, part in parts.items():
        row = existing.get(tid)
        values = merged(row, part)
        if row is None:
            await Track.create(task_id=task_id, track_id=tid, using_db=conn, **values)
        else:
            await Track.filter(id=row.id).using_db(conn).update(**values)
    counted = (
        await Track.filter(task_id=task_id)
        .using_db(conn)
        .annotate(n=Count("id"))
        .group_by("label")
        .values("label", "n")
    )
    objects = {r["label"]: r["n"] for r in counted}
    await Task.filter(id=task_id).using_db(conn).update(objects=dict(sorted(objects.items())))


async def confirm_committed(conn: Any, task_id: Any, confirmed: list[dict]) -> None:
    """Tracks' first detections in frames already committed (`tracker.Confirmed`), given their
    track's id in the transaction of the frame that confirmed it: the frame row's object (when
    it is still the same untracked box) and the track row's first sighting, frames and labels.
    The detection was counted with its frame and the track with its confirmation, so the
    counters stay as they are; a second application finds the id set and changes nothing."""
    for c in confirmed:
        row = (
            await FrameDetections.filter(task_id=task_id, frame_index=c["frame"])
            .using_db(conn)
            .select_for_update()
            .first()
        )
        if row is None or c["index"] >= len(row.objects):
            continue
        obj = row.objects[c["index"]]
        if obj.get("track_id") is not None or list(obj["box"]) != list(c["object"]["box"]):
            continue
        row.objects = [*row.objects[: c["index"]], {**obj, "track_id": c["track_id"]}, *row.objects[c["index"] + 1 :]]
        await FrameDetections.filter(id=row.id).using_db(conn).update(objects=row.objects)
        track = await Track.filter(task_id=task_id, track_id=c["track_id"]).using_db(conn).select_for_update().first()
        if track is None:
            continue
        labels = Counter(track.labels) + Counter({obj["label"]: 1})
        seen = track.frames_seen + 1
        fields: dict[str, Any] = {
            "labels": dict(labels),
            "label": min(labels, key=lambda k: (-labels[k], k)),
            "frames_seen": seen,
            "mean_box_area": mean_area(
                stored_units(track.mean_box_area, track.frames_seen) + area_units(obj["box"]), seen
            ),
        }
        if c["frame"] < track.first_frame:
            fields.update(first_frame=c["frame"], first_timestamp=c["timestamp"])
        await Track.filter(id=track.id).using_db(conn).update(**fields)
