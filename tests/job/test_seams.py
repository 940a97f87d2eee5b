"""Joining sharded tracks at their seams: the pure rules, then sameness with a one-shard run.

The sameness tests render the tracking benchmark's scenes (and two with events at the seams),
run the real face detector once per video, then track the detections as one shard and as
K = 2 and 3 shards (each shard a fresh tracker from its pre-roll start), join the shards'
tracks with `inference_job.seams`, and score the joined ids against the one-shard ids.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.tracking import score, sequence_data
from bench.tracking_scenes import FPS, Scene, _line, render, scenes
from inference_job.models import create_model
from inference_job.pipeline import keep
from inference_job.reader import FrameReader
from inference_job.seams import Window, link_seam, number_tracks, relabel, window
from inference_job.tracker import LOST_TRACK_S, TrackerStage
from videoanalysis.params import AnalysisParams
from videoanalysis.shard_plan import preroll_frames

PREROLL = preroll_frames(FPS, 1, LOST_TRACK_S)  # 60 frames: 50 of lost-track buffer, 10 to match tracks over


def track(*boxes: tuple[int, list[float]], label: str = "face") -> dict[int, tuple[str, list[float]]]:
    return {f: (label, box) for f, box in boxes}


def moving(x: float, frames: range, label: str = "face") -> dict[int, tuple[str, list[float]]]:
    return {f: (label, [x + 2 * f, 0.0, x + 2 * f + 20, 20.0]) for f in frames}


# --- the pure rules -------------------------------------------------------------------------


def test_window_keeps_tracked_detections_by_track_and_frame() -> None:
    face = {"label": "face", "score": 0.9, "box": [1.0, 2.0, 3.0, 4.0]}
    frames = [(7, [face | {"track_id": 3}, face | {"track_id": None}]), (8, []), (9, [face | {"track_id": 3}])]
    assert window(frames) == {3: {7: ("face", [1.0, 2.0, 3.0, 4.0]), 9: ("face", [1.0, 2.0, 3.0, 4.0])}}


def test_tracks_on_the_same_boxes_are_linked_and_others_are_not() -> None:
    before: Window = {4: moving(0, range(10)), 5: moving(100, range(10))}
    after: Window = {1: moving(100, range(3, 10)), 2: moving(0, range(2, 10)), 3: moving(300, range(5, 10))}
    assert link_seam(before, after) == {1: 5, 2: 4}  # 3 overlaps nothing: a new track


def test_different_labels_or_too_few_common_frames_are_never_linked() -> None:
    before: Window = {1: moving(0, range(10))}
    assert link_seam(before, {1: moving(0, range(10), label="cat")}) == {}
    assert link_seam(before, {1: moving(0, range(8, 10))}) == {}  # 2 common frames
    assert link_seam(before, {1: moving(0, range(8, 10))}, min_common_frames=2) == {1: 1}
    # the majority label decides: one frame labelled otherwise does not block the link
    mixed = moving(0, range(10)) | {4: ("cat", [8.0, 0.0, 28.0, 20.0])}
    assert link_seam(before, {1: mixed}) == {1: 1}


def test_a_pair_below_the_minimum_overlap_is_dropped() -> None:
    before: Window = {1: moving(0, range(10))}
    shifted: Window = {1: moving(10, range(10))}  # IoU 1/3 in every frame
    assert link_seam(before, shifted) == {}
    assert link_seam(before, shifted, min_iou=0.3) == {1: 1}


def test_the_pairing_is_the_best_overall_not_greedy() -> None:
    """Over 13 frames, after 1 shares its box with before 1 in 9 and with before 2 in 7, after 2
    with before 1 in 7 and with before 2 in 3. Greedy would take 1-1 (0.69) and then drop 2-2
    (0.23); the best one-to-one pairing is 1-2 and 2-1 (0.54 each)."""
    slot = [[0.0, 0.0, 10.0, 10.0], [100.0, 0.0, 110.0, 10.0], [200.0, 0.0, 210.0, 10.0]]
    # per frame: the slots of (after 1, after 2, before 1, before 2)
    frames = [(0, 0, 0, 0)] * 3 + [(0, 1, 1, 0)] * 4 + [(0, 1, 0, 2)] * 6
    a1, a2, b1, b2 = (track(*((f, slot[s[n]]) for f, s in enumerate(frames))) for n in range(4))
    assert link_seam({1: b1, 2: b2}, {1: a1, 2: a2}) == {1: 2, 2: 1}


def test_a_tie_goes_to_the_lower_ids_and_the_answer_never_changes() -> None:
    before: Window = {2: moving(0, range(10)), 1: moving(0, range(10))}
    after: Window = {6: moving(0, range(10)), 5: moving(0, range(10))}
    assert link_seam(before, after) == {5: 1, 6: 2}
    assert link_seam(dict(reversed(before.items())), dict(reversed(after.items()))) == {5: 1, 6: 2}
    assert link_seam({}, after) == {} and link_seam(before, {}) == {}


def test_numbering_follows_links_across_seams_in_order_of_first_appearance() -> None:
    first = [{1: 0, 2: 5}, {7: 100, 8: 100, 9: 130}, {3: 200, 4: 210}]
    links = [{8: 1, 7: 2, 99: 1}, {4: 8}]  # 99: a pre-roll-only track, ignored
    ids = number_tracks(first, links)
    assert ids == {(0, 1): 1, (0, 2): 2, (1, 7): 2, (1, 8): 1, (1, 9): 3, (2, 3): 4, (2, 4): 1}


def test_numbering_refuses_inconsistent_links() -> None:
    with pytest.raises(ValueError, match="2 shards need 1 seam links, got 0"):
        number_tracks([{1: 0}, {1: 10}], [])
    with pytest.raises(ValueError, match="not owned by shard 0"):
        number_tracks([{1: 0}, {1: 10}], [{1: 5}])


def test_relabel_rewrites_ids_and_refuses_a_track_without_a_global_id() -> None:
    objects = [{"label": "face", "track_id": 7}, {"label": "face", "track_id": None}]
    assert relabel(objects, 1, {(1, 7): 2}) == [{"label": "face", "track_id": 2}, {"label": "face", "track_id": None}]
    assert objects[0]["track_id"] == 7  # the input is left as it was
    with pytest.raises(ValueError, match="shard 1's track 7 has no global id"):
        relabel(objects, 1, {(0, 7): 2})


# --- sameness with a one-shard run on the real detector's output ---------------------------

Frames = list[list[dict]]  # frame index -> objects ({"label", "score", "box", "track_id"})


def seam_scenes() -> list[Scene]:
    """Two scenes with an event at each seam chosen for them in SEAMS: two faces that cross
    twice (face 1 hidden behind face 2 in frames 34-46 and 114-126), and a face that passes
    behind a bar and back (hidden in frames 22-44 and 106-128) while another crosses below."""
    there, back = _line(10, 90, 470, 100, 0, 80), _line(470, 100, 10, 90, 80, 160)
    here, gone = _line(470, 110, 10, 100, 0, 80), _line(10, 100, 470, 110, 80, 160)
    right, left = _line(20, 0, 520, 0, 0, 75), _line(520, 0, 20, 0, 75, 150)
    return [
        Scene(
            "crossings",
            160,
            {1: lambda f: there(f) if f < 80 else back(f), 2: lambda f: here(f) if f < 80 else gone(f)},
        ),
        Scene(
            "behind-bar",
            150,
            {1: lambda f: right(f) if f < 75 else left(f), 2: _line(480, 190, 0, 190, 0, 149)},
            occluder=(240, 0, 155, 185),
        ),
    ]


#: scene -> seams (first frames of shards 1..K-1) for K = 2 and 3, at the scene's events.
SEAMS = {
    "crossing": [[60], [50, 110]],  # the faces overlap in frames 48-71
    "occlusion": [[46], [46, 106]],  # face 1 is hidden in frames 33-59
    "reentry": [[80], [40, 120]],  # the face is out in frames 35-126
    "crossings": [[40], [40, 120]],  # in the middle of both crossings
    "behind-bar": [[33], [33, 117]],  # in the middle of both occlusions
}


def detect(video: Path) -> Frames:
    """The real detector's kept detections per frame, untracked. Windows far smaller than the
    scenes' 95-pixel faces are skipped (min_size), which only saves time."""
    model = create_model("opencv-face", min_size=80)
    params = AnalysisParams(model="opencv-face")
    with FrameReader(video) as reader:
        return [keep(params, model.predict([frame.image])[0]) for frame in reader]


def tracked(name: str, detections: Frames, start: int, stop: int) -> Frames:
    """A fresh tracker over frames [start, stop)."""
    stage = TrackerStage(name, FPS)
    return [stage.update(f / FPS, detections[f]) for f in range(start, stop)]


def sharded(name: str, detections: Frames, seams: list[int]) -> Frames:
    """The shards' owned frames with global ids: each shard i > 0 tracks from its pre-roll
    start, its pre-roll output is matched against shard i - 1's owned output there."""
    bounds = [0, *seams, len(detections)]
    owned: list[Frames] = []
    links: list[dict[int, int]] = []
    for i, (begin, end) in enumerate(itertools.pairwise(bounds)):
        pre = max(0, begin - PREROLL)
        if i > 0 and pre < bounds[i - 1]:
            raise ValueError(f"shard {i - 1} is shorter than the pre-roll ({PREROLL} frames)")
        out = tracked(name, detections, pre, end)
        owned.append(out[begin - pre :])
        if i > 0:
            frames = range(pre, begin)
            before = window((f, owned[i - 1][f - bounds[i - 1]]) for f in frames)
            links.append(link_seam(before, window(zip(frames, out[: begin - pre], strict=True))))
    first = [
        {tid: min(seen) for tid, seen in window(enumerate(shard, start=b)).items()}
        for b, shard in zip(bounds, owned, strict=False)
    ]
    ids = number_tracks(first, links)
    return [relabel(objs, i, ids) for i, frames in enumerate(owned) for objs in frames]


def boxes_by_id(frames: Frames) -> list[dict[int, list[float]]]:
    return [{o["track_id"]: o["box"] for o in objs if o["track_id"] is not None} for objs in frames]


@pytest.fixture(scope="module")
def detected(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Frames]:
    """Scene name -> its detections; each scene is rendered and detected once."""
    known = {s.name: s for s in [*scenes(), *seam_scenes()]}
    cache: dict[str, Frames] = {}

    def get(name: str) -> Frames:
        if name not in cache:
            video = tmp_path_factory.mktemp("seams") / f"{name}.avi"
            render(known[name], video)
            cache[name] = detect(video)
        return cache[name]

    return get


@pytest.mark.parametrize("tracker", ["ocsort", "bytetrack"])
@pytest.mark.parametrize("scene", list(SEAMS))
def test_sharded_tracks_equal_one_shards(detected: Callable[[str], Frames], scene: str, tracker: str) -> None:
    """Sharded at K = 2 and 3, the joined tracks score IDF1 >= 0.99 against the one-shard
    tracks, with at most one extra id per seam, on exactly the same detections."""
    detections = detected(scene)
    one = tracked(tracker, detections, 0, len(detections))
    truth = boxes_by_id(one)
    for seams in SEAMS[scene]:
        joined = sharded(tracker, detections, seams)
        assert [[(o["label"], o["box"]) for o in objs] for objs in joined] == [
            [(o["label"], o["box"]) for o in objs] for objs in one
        ]
        got = score(sequence_data(truth, boxes_by_id(joined)))
        extra = got["ids"] - len({i for frame in truth for i in frame})
        assert got["IDF1"] >= 0.99 and extra <= len(seams), (seams, got)
