"""Joining the tracks of a video cut into shards, so the ids read as one run's.

A video analysed on K machines is cut into shards of frames `[b_i, b_{i+1})`. Shard i > 0
starts a fresh tracker at its pre-roll start `p_i` (`videoanalysis.shard_plan.preroll_frames`: the
tracker's lost-track buffer plus a matching window before `b_i`). Its output over the pre-roll
`[p_i, b_i)` is kept apart (shard i − 1 owns and writes those frames, so every shard but the
first is at least a pre-roll long). By `b_i` the fresh tracker has picked up every object the
earlier shard's tracker still follows (even one lost behind an occluder: it was seen within
the buffer, so in the pre-roll's matching window), so over the pre-roll both shards track
the same detections, under their own local ids.

`link_seam` pairs the two shards' tracks over the pre-roll by how well their boxes agree
(the same detections give IoU 1), one to one by the Hungarian algorithm, so that two
crossing objects cannot both take the better match; `number_tracks` then follows the links
across all seams and numbers the chains in order of first appearance; `relabel` rewrites a
frame's objects with those global ids. Pure: no database, no I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["Window", "link_seam", "number_tracks", "relabel", "window"]

#: One shard's tracks over some frames: track id -> frame index -> (label, box [x1, y1, x2, y2]).
Window = dict[int, dict[int, tuple[str, list[float]]]]


def window(frames: Iterable[tuple[int, Sequence[dict]]]) -> Window:
    """The tracks in `frames` ((frame index, objects) pairs, objects as the pipeline stores
    them: `label`, `box`, `track_id`); detections without a track id are left out."""
    out: Window = {}
    for index, objects in frames:
        for obj in objects:
            tid = obj.get("track_id")
            if tid is not None:
                out.setdefault(tid, {})[index] = (obj["label"], list(obj["box"]))
    return out


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _label(track: dict[int, tuple[str, list[float]]]) -> str:
    """The track's majority label; a tie goes to the first in the alphabet, as the track rows do."""
    votes = Counter(label for label, _ in track.values())
    return min(votes, key=lambda k: (-votes[k], k))


def link_seam(before: Window, after: Window, *, min_iou: float = 0.5, min_common_frames: int = 3) -> dict[int, int]:
    """The *after* shard's track ids mapped to the *before* shard's, over the same frames.

    A pair's score is the mean IoU of their boxes over the frames where both have one; pairs
    of different (majority) labels or with fewer than `min_common_frames` such frames are not
    candidates. The pairing maximises the total score one to one (Hungarian algorithm), then
    drops pairs scoring below `min_iou` (so tracks that never share a box are never linked).
    `min_common_frames` is well under the pre-roll's matching window (`shard_plan.MATCH_WINDOW`), as a tracker names a track only from
    its second detection. Deterministic: tracks are ordered by id, so equal inputs give equal
    links and ties go to the lower ids.
    """
    after_ids, before_ids = sorted(after), sorted(before)
    if not after_ids or not before_ids:
        return {}
    from scipy.optimize import linear_sum_assignment

    scores = np.zeros((len(after_ids), len(before_ids)))
    labels = {tid: _label(track) for tid, track in before.items()}
    for r, a in enumerate(after_ids):
        label = _label(after[a])
        for c, b in enumerate(before_ids):
            common = sorted(after[a].keys() & before[b].keys())
            if labels[b] != label or len(common) < min_common_frames:
                continue
            scores[r, c] = sum(_iou(after[a][f][1], before[b][f][1]) for f in common) / len(common)
    rows, cols = linear_sum_assignment(scores, maximize=True)
    return {
        after_ids[r]: before_ids[c]
        for r, c in zip(rows, cols, strict=True)
        if scores[r, c] >= min_iou and scores[r, c] > 0
    }


def number_tracks(owned_first_frames: list[dict[int, int]], links: list[dict[int, int]]) -> dict[tuple[int, int], int]:
    """Global track ids: (shard, local id) -> id, for every track seen in its shard's owned frames.

    `owned_first_frames[s]` maps shard s's local ids to the first owned frame they appear in;
    `links[s - 1]` is seam s's `link_seam` result, shard s's local ids -> shard s − 1's (so
    there is one map per seam, K − 1 in all; ids seen only in a pre-roll are ignored). A linked
    track takes the earlier shard's global id, through any number of seams; each chain is
    numbered from 1 in order of its first appearance (first owned frame, then shard, then
    local id). With one shard there is nothing to join: the caller keeps the tracker's own ids
    and does not call this (which would renumber them by first appearance).
    """
    if len(links) != max(0, len(owned_first_frames) - 1):
        raise ValueError(
            f"{len(owned_first_frames)} shards need {len(owned_first_frames) - 1} seam links, got {len(links)}"
        )
    root: dict[tuple[int, int], tuple[int, int]] = {}
    for shard, tracks in enumerate(owned_first_frames):
        for tid in tracks:
            earlier = links[shard - 1].get(tid) if shard > 0 else None
            if earlier is None:
                root[shard, tid] = (shard, tid)
            elif earlier in owned_first_frames[shard - 1]:
                root[shard, tid] = root[shard - 1, earlier]
            else:
                raise ValueError(f"seam {shard} links track {tid} to track {earlier}, not owned by shard {shard - 1}")
    starts = sorted(set(root.values()), key=lambda r: (owned_first_frames[r[0]][r[1]], r[0], r[1]))
    number = {r: n for n, r in enumerate(starts, start=1)}
    return {key: number[r] for key, r in root.items()}


def relabel(objects: Sequence[dict], shard: int, mapping: dict[tuple[int, int], int]) -> list[dict]:
    """A frame's objects (of `shard`'s owned frames) with their global track ids.

    Every track in owned frames has one (`number_tracks` numbers all owned tracks; only
    pre-roll tracks go without), so a missing id means the caller's inputs disagree."""
    out = []
    for obj in objects:
        tid = obj.get("track_id")
        if tid is not None:
            if (shard, tid) not in mapping:
                raise ValueError(f"shard {shard}'s track {tid} has no global id: was it left out of the owned tracks?")
            tid = mapping[shard, tid]
        out.append({**obj, "track_id": tid})
    return out
