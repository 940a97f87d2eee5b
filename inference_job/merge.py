"""The merge that ends a sharded task once every shard has been analysed.

While the shards run, each writes its tracks under shard-qualified ids (`qualified`: a shard's
own tracker ids offset by `SHARD_TRACK_SPAN` per shard), so the shards never collide in the
`tracks` table or the frame rows. The merge, run by whichever shard's run finds all shards
done and takes the task's own lease:

1. links the tracks across each seam (`inference_job.seams`: shard i−1's rows over the pre-roll
   of shard i against shard i's `seam_frames`), numbers global ids in order of first
   appearance, and in one transaction replaces the `tracks` rows by the merged global ones and
   records the id mapping in `tasks.merge_state`;
2. rewrites the frame rows' track ids with the mapping, a batch of frames a transaction, its
   cursor the task's `next_frame` (unused otherwise by a sharded task) moved in the same
   transaction and fenced on where the batch starts; a task with zones or lines has its events
   made here, from the rewritten rows in frame order (the shards make none: their ids are not
   yet the whole video's), the zone state carried from batch to batch in `merge_state` within
   the same transaction, so one object dwelling across a seam enters and leaves once;
3. deletes the seam frames and moves the task to SUCCEEDED.

A crash anywhere resumes at the step and batch the database holds; a COMMIT whose
acknowledgement was lost is recognised by the state it left (the mapping already recorded, the
cursor already at the batch's end), so running the merge twice gives the same answer.
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections import Counter, defaultdict
from typing import Any

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from inference_job.event_rows import write_events
from inference_job.pipeline import FrameResult
from inference_job.seams import link_seam, number_tracks, relabel, window
from inference_job.track_rows import mean_area, stored_units
from inference_job.tracker import LOST_TRACK_S
from inference_job.zone_events import Geometry, ZoneEvents
from videoanalysis.lease import Lease, why_fenced
from videoanalysis.params import task_params
from videoanalysis.tables import FrameDetections, SeamFrame, Task, Track
from videoanalysis.task_status import TaskStatus
from videoanalysis.transitions import transition
from videoanalysis.zones import Rules, ZoneLimits

log = logging.getLogger(__name__)

#: Track ids a shard's tracker may give before they would run into the next shard's.
SHARD_TRACK_SPAN = 10_000_000
MERGE_BATCH_FRAMES = 2048


def qualified(shard: int, track_id: int | None) -> int | None:
    """A shard's own track id made unique across the task's shards."""
    if track_id is None:
        return None
    if not 0 < track_id < SHARD_TRACK_SPAN:
        raise ValueError(f"track id {track_id} of shard {shard} is outside 1..{SHARD_TRACK_SPAN - 1}")
    return shard * SHARD_TRACK_SPAN + track_id


def shard_tracks(result: FrameResult, shard: int) -> FrameResult:
    """A frame's result from a shard's run with its track ids (and thumbnails' keys) qualified."""
    objects = [{**o, "track_id": qualified(shard, o.get("track_id"))} for o in result.objects]
    crops = {qualified(shard, tid) or 0: jpeg for tid, jpeg in result.crops.items()}
    confirmed = [{**c, "track_id": qualified(shard, c["track_id"])} for c in result.confirmed]
    return FrameResult(result.frame_index, result.timestamp_s, objects, crops, result.events, confirmed)


class MergeFenced(Exception):
    """A merge write matched nothing: the task ended or another run took the merge over."""


async def merge_shards(task: Task, lease: Lease, limits: ZoneLimits | None = None) -> None:
    """Run (or resume) the merge of `task`, holding the task's `lease`, up to SUCCEEDED."""
    plan = task.shard_plan or {}
    ranges = plan.get("shards", [])
    frames = int(plan.get("frames", 0))
    if task.merge_state is None:
        mapping = await link_tracks(task.id, ranges)
        await _replace_tracks(lease, mapping, tracking=task_params(task.model, task.params).tracker != "none")
        state: dict[str, Any] = {"mapping": {str(k): v for k, v in mapping.items()}}
    else:
        state = task.merge_state
    mapping = {int(k): int(v) for k, v in state["mapping"].items()}
    by_shard = {(k // SHARD_TRACK_SPAN, k): v for k, v in mapping.items()}  # as `seams.relabel` reads it
    starts = [int(r["start"]) for r in ranges]
    zones = zone_replay(task, plan, limits)
    position = await _cursor(lease)
    while position < frames:
        end = min(frames, position + MERGE_BATCH_FRAMES)
        await _relabel_frames(lease, by_shard, starts, position, end, zones, last=end == frames)
        position = end
    await SeamFrame.filter(task_id=task.id).delete()
    if await transition(task.id, TaskStatus.SUCCEEDED, fence=lease) is None:
        raise await why_fenced(lease)
    log.info("task %s: %d shards merged, %d tracks", task.id, len(ranges), len(set(mapping.values())))


async def link_tracks(task_id: Any, ranges: list[dict[str, Any]]) -> dict[int, int]:
    """Qualified track id -> global id, from the rows the shards committed."""
    owned: list[dict[int, int]] = [{} for _ in ranges]
    for track_id, first in await Track.filter(task_id=task_id).values_list("track_id", "first_frame"):
        owned[track_id // SHARD_TRACK_SPAN][track_id] = first
    if len(ranges) == 1:  # a plan of one shard: the tracker's own ids, as a run of the whole video
        return {track_id: track_id for track_id in owned[0]}
    links: list[dict[int, int]] = []
    for shard in ranges[1:]:
        span = {"frame_index__gte": shard["prerollStart"], "frame_index__lt": shard["start"]}
        before = await FrameDetections.filter(task_id=task_id, **span).values_list("frame_index", "objects")
        after = await SeamFrame.filter(task_id=task_id, shard=shard["index"], **span).values_list(
            "frame_index", "objects"
        )
        links.append(link_seam(window(before), window(after)))
    numbered = number_tracks(owned, links)
    return {track_id: global_id for (_, track_id), global_id in numbered.items()}


async def _replace_tracks(lease: Lease, mapping: dict[int, int], *, tracking: bool) -> None:
    """Step 1, one transaction: record the mapping, and replace the shards' track rows by the
    merged ones (a task without a tracker has none, and its `objects` stays null). A retry after
    a lost acknowledgement finds the mapping recorded and stops."""
    state = {"mapping": {str(k): v for k, v in mapping.items()}}
    async with in_transaction() as conn:
        if not await lease.fenced(conn).filter(merge_state__isnull=True).update(merge_state=state, next_frame=0):
            if await lease.fenced(conn).filter(merge_state__isnull=False).exists():
                return  # recorded by an earlier attempt
            raise MergeFenced("the merge's lease was lost")
        if not tracking:
            return
        rows = await Track.filter(task_id=lease.task_id).using_db(conn)
        chains: dict[int, list[Track]] = defaultdict(list)
        for row in rows:
            chains[mapping[row.track_id]].append(row)
        await Track.filter(task_id=lease.task_id).using_db(conn).delete()
        await Track.bulk_create(
            [Track(task_id=lease.task_id, track_id=gid, **combined(parts)) for gid, parts in sorted(chains.items())],
            using_db=conn,
        )
        counted = (
            await Track.filter(task_id=lease.task_id)
            .using_db(conn)
            .annotate(n=Count("id"))
            .group_by("label")
            .values("label", "n")
        )
        await (
            Task.filter(id=lease.task_id)
            .using_db(conn)
            .update(objects=dict(sorted((r["label"], r["n"]) for r in counted)))
        )


def combined(parts: list[Track]) -> dict[str, Any]:
    """One track's fields from the rows of its pieces (each shard's part of it)."""
    parts = sorted(parts, key=lambda t: t.first_frame)
    labels: Counter[str] = Counter()
    for p in parts:
        labels.update(p.labels)
    seen = sum(p.frames_seen for p in parts)
    best = max(parts, key=lambda t: (t.best_score, -t.best_frame))
    return {
        "label": min(labels, key=lambda k: (-labels[k], k)),  # as `track_rows.merged` votes
        "labels": dict(labels),
        "first_frame": parts[0].first_frame,
        "first_timestamp": parts[0].first_timestamp,
        "last_frame": parts[-1].last_frame,
        "last_timestamp": parts[-1].last_timestamp,
        "frames_seen": seen,
        "mean_box_area": mean_area(sum(stored_units(p.mean_box_area, p.frames_seen) for p in parts), seen),
        "best_score": best.best_score,
        "best_frame": best.best_frame,
        "best_box": best.best_box,
        "thumbnail": best.thumbnail,
    }


async def _cursor(lease: Lease) -> int:
    row = await lease.fenced().first()
    if row is None:
        raise await why_fenced(lease)
    return int(row.next_frame)


def zone_replay(task: Task, plan: dict[str, Any], limits: ZoneLimits | None = None) -> tuple[Rules, Geometry] | None:
    """The task's zones and lines over the plan's frame size, or None without them. Pixels
    outside the frame are a ValueError: the merge cannot complete, and says why."""
    params = task_params(task.model, task.params)
    rules = params.rules
    if not rules or params.tracker == "none":
        return None
    return rules, Geometry(rules, int(plan["width"]), int(plan["height"]), limits)


async def _relabel_frames(
    lease: Lease,
    mapping: dict[tuple[int, int], int],
    starts: list[int],
    start: int,
    end: int,
    zones: tuple[Rules, Geometry] | None = None,
    *,
    last: bool = False,
) -> None:
    """Step 2 for frames [start, end), one transaction fenced on the cursor at `start`; a frame
    belongs to the shard whose range holds it (`starts`: each shard's first frame). With
    `zones`, the batch's events too, from the zone state the previous batch committed (the
    last batch closes the zones still occupied)."""
    async with in_transaction() as conn:
        if not await lease.fenced(conn).filter(next_frame=start).update(next_frame=end):
            if await lease.fenced(conn).filter(next_frame=end).exists():
                return  # committed by an earlier attempt whose acknowledgement was lost
            raise MergeFenced(f"the merge's cursor is not at frame {start}")
        rows = (
            await FrameDetections.filter(task_id=lease.task_id, frame_index__gte=start, frame_index__lt=end)
            .using_db(conn)
            .order_by("frame_index")
        )
        changed = []
        for row in rows:
            if any(o.get("track_id") is not None for o in row.objects):
                row.objects = relabel(row.objects, bisect_right(starts, row.frame_index) - 1, mapping)
                changed.append(row)
        if changed:
            await FrameDetections.bulk_update(changed, fields=["objects"], using_db=conn)
        if zones is not None:
            await _replay_zones(conn, lease, zones, rows, last=last)


async def _replay_zones(
    conn: Any, lease: Lease, zones: tuple[Rules, Geometry], rows: list[FrameDetections], *, last: bool
) -> None:
    """A batch's zone and line events from its rows (global ids), in the batch's transaction:
    the state it starts from and the one it leaves are in `merge_state`."""
    task = await Task.filter(id=lease.task_id).using_db(conn).first()
    state = dict(task.merge_state or {}) if task is not None else {}
    rules, geometry = zones
    replay = ZoneEvents(rules, geometry, lost_after_s=LOST_TRACK_S, state=state.get("zones"))
    events = [e for row in rows for e in replay.update(row.frame_index, row.timestamp, row.objects)]
    if last:
        events += replay.finish()
    await Task.filter(id=lease.task_id).using_db(conn).update(merge_state={**state, "zones": replay.state()})
    await write_events(conn, lease.task_id, events)


__all__ = [
    "MERGE_BATCH_FRAMES",
    "SHARD_TRACK_SPAN",
    "MergeFenced",
    "combined",
    "link_tracks",
    "merge_shards",
    "qualified",
]
