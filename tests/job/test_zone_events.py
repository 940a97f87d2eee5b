"""Zone and line events from tracks (`inference_job.zone_events`): crossings both ways, jitter
ignored, dwell measured, label filters, lost tracks leaving, and a run resumed from its saved
state at any frame giving exactly the events of an uninterrupted one."""

from __future__ import annotations

import json
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from inference_job.zone_events import Geometry, ZoneEvents
from videoanalysis.zones import Rules

W, H, FPS = 640, 480, 10.0
RULES = Rules.model_validate(
    {
        "zones": [{"name": "counter", "polygon": [[0.5, 0.5], [1, 0.5], [1, 1], [0.5, 1]], "minFrames": 2}],
        "lines": [{"name": "stop", "start": [0, 0.5], "end": [0.5, 0.5], "minFrames": 2}],
    }
)


def box(x: float, y: float, label: str = "person", track: int | None = 1) -> dict:
    """A 20×40 box whose bottom centre (the default anchor) is at (x, y) pixels."""
    return {"label": label, "score": 0.9, "box": [x - 10, y - 40, x + 10, y], "track_id": track}


def run(frames: Sequence[list[dict]], rules: Rules = RULES, cut: int | None = None) -> list[dict]:
    """Events of `frames` (one list of objects each), the run stopped after frame `cut` and
    resumed from its JSON state, as the job does at a batch boundary."""
    geometry = Geometry(rules, W, H)
    events_of = ZoneEvents(rules, geometry, lost_after_s=2.0)
    out: list[dict] = []
    for i, objects in enumerate(frames):
        out += events_of.update(i, i / FPS, objects)
        if cut is not None and i == cut:
            state = json.loads(json.dumps(events_of.state()))
            events_of = ZoneEvents(rules, geometry, lost_after_s=2.0, state=state)
    return out + events_of.finish()


def kinds(events: list[dict]) -> list[tuple[str, str, int, int]]:
    return [(e["kind"], e["rule"], e["track_id"], e["frame"]) for e in events]


def test_a_line_crossed_up_then_down_counts_in_then_out() -> None:
    ys = [300, 280, 250, 230, 220, 210, 230, 250, 270, 290, 300]  # the line is at y = 240, x < 320
    events = run([[box(100, y)] for y in ys])
    assert kinds(events) == [("in", "stop", 1, 3), ("out", "stop", 1, 7)]


def test_jitter_around_the_line_counts_nothing() -> None:
    ys = [250, 235, 245, 236, 244, 238, 250]  # one frame on the other side at a time
    assert run([[box(100, y)] for y in ys]) == []


def test_beside_the_segment_counts_nothing() -> None:
    ys = [300, 280, 250, 230, 220, 210]
    assert run([[box(400, y)] for y in ys], Rules(lines=RULES.lines)) == []  # x = 400: past its end (320)


def test_a_zone_entered_and_left_gives_the_dwell() -> None:
    xs = [200, 300, 340, 360, 400, 420, 400, 300, 280, 260]  # the zone is x >= 320, y >= 240
    events = run([[box(x, 400)] for x in xs])
    assert kinds(events) == [("entered", "counter", 1, 2), ("left", "counter", 1, 7)]
    assert events[1]["dwell_s"] == 0.5


def test_a_track_lost_inside_leaves_at_its_last_sighting_and_the_end_closes_the_rest() -> None:
    frames = [[box(400, 400, track=1), box(500, 400, track=2)] for _ in range(4)] + [[box(500, 400, track=2)]] * 30
    events = run(frames)
    assert kinds(events) == [
        ("entered", "counter", 1, 0),
        ("entered", "counter", 2, 0),
        ("left", "counter", 1, 3),  # unseen for more than 2 s: dropped, at frame 3
        ("left", "counter", 2, 33),  # the end of the video
    ]


def test_label_filters_and_untracked_boxes() -> None:
    rules = Rules.model_validate({"zones": [{"name": "z", "polygon": [[0, 0], [1, 0], [1, 1]], "labels": ["car"]}]})
    frames = [[box(600, 10, "person", 1), box(600, 10, "car", 2), box(600, 10, "car", None)]] * 3
    assert kinds(run(frames, rules)) == [("entered", "z", 2, 0), ("left", "z", 2, 2)]


def test_pixels_and_fractions_are_the_same_rule() -> None:
    pixels = Rules.model_validate(
        {"lines": [{"name": "stop", "units": "pixels", "start": [0, 240], "end": [320, 240], "minFrames": 2}]}
    )
    ys = [300, 280, 250, 230, 220, 210]
    assert run([[box(100, y)] for y in ys], pixels) == run([[box(100, y)] for y in ys], Rules(lines=RULES.lines))


paths = st.lists(
    st.lists(
        st.tuples(st.integers(1, 3), st.integers(0, 640), st.integers(0, 480), st.sampled_from(["person", "car"])),
        max_size=3,
        unique_by=lambda t: t[0],
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(paths)
def test_a_resume_at_any_frame_gives_the_events_of_one_run(frames: list) -> None:
    objects = [[box(x, y, label, track) for track, x, y, label in frame] for frame in frames]
    whole = run(objects)
    for cut in range(len(objects)):
        assert run(objects, cut=cut) == whole
