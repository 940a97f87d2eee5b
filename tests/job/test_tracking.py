"""The tracker stage on hand-made detections: ids through a crossing, never merged, resumable."""

from __future__ import annotations

import json

import pytest

from inference_job.tracker import TrackerStage, decode, encode

FPS = 25.0


def crossing(frames: int = 40, gap: range = range(0)) -> list[list[dict]]:
    """Two faces moving towards each other along one row, crossing at frame 20 (both boxes
    overlap for a few frames); in `gap` frames the right one is hidden."""
    out = []
    for f in range(frames):
        left = {"label": "face", "score": 0.9, "box": [10.0 + 8 * f, 50.0, 70.0 + 8 * f, 110.0]}
        right = {"label": "face", "score": 0.85, "box": [330.0 - 8 * f, 56.0, 390.0 - 8 * f, 116.0]}
        out.append([left] if f in gap else [left, right])
    return out


def ids_of(stage: TrackerStage, frames: list[list[dict]], start: int = 0) -> list[list[int | None]]:
    return [[o["track_id"] for o in stage.update((start + i) / FPS, objs)] for i, objs in enumerate(frames)]


@pytest.mark.parametrize("name", ["bytetrack", "ocsort", "sort"])
def test_two_crossing_objects_keep_their_ids_and_are_never_merged(name: str) -> None:
    ids = ids_of(TrackerStage(name, FPS), crossing())
    # ids appear from a track's second frame (its first makes it), then hold through the crossing
    assert ids[0] == [None, None]
    assert all(frame == [1, 2] for frame in ids[1:])


def test_an_object_hidden_for_a_few_frames_keeps_its_id() -> None:
    ids = ids_of(TrackerStage("bytetrack", FPS), crossing(gap=range(10, 16)))
    assert all(frame == [1] for frame in ids[10:16])
    assert all(frame == [1, 2] for frame in ids[16:])


@pytest.mark.parametrize("name", ["bytetrack", "ocsort", "sort"])
def test_a_stage_rebuilt_from_its_json_state_continues_the_same_ids(name: str) -> None:
    frames = crossing()
    whole = ids_of(TrackerStage(name, FPS), frames)
    first = TrackerStage(name, FPS)
    ids_of(first, frames[:17])
    state = json.loads(json.dumps(first.state()))  # what the database keeps
    resumed = ids_of(TrackerStage(name, FPS, state=state), frames[17:], start=17)
    assert resumed == whole[17:]
    fresh = ids_of(TrackerStage(name, FPS), frames[17:], start=17)
    assert fresh != resumed  # a lost state would show: new tracks, late ids


def test_empty_frames_and_unknown_trackers() -> None:
    stage = TrackerStage("bytetrack", FPS)
    assert stage.update(0.0, []) == []
    with pytest.raises(ValueError, match="unknown tracker 'deepsort'"):
        TrackerStage("deepsort", FPS)


def test_a_saved_state_cannot_name_classes_outside_the_tracker() -> None:
    assert decode(encode({"a": (1, 2.5)})) == {"a": (1, 2.5)}
    with pytest.raises(ValueError, match="outside the tracker's packages"):
        decode({"__obj__": "os:system", "attrs": {}})


def with_first_ids(stage: TrackerStage, frames: list[list[dict]], start: int = 0) -> list[list[int | None]]:
    """The ids per frame, each track's first detection given its id when it is confirmed."""
    out: list[list[int | None]] = []
    confirmed = []
    for i, objs in enumerate(frames):
        out.append([o["track_id"] for o in stage.update((start + i) / FPS, objs, frame_index=start + i)])
        confirmed += stage.confirmed
    for c in confirmed:
        assert out[c["frame"] - start][c["index"]] is None  # only untracked detections are given one
        out[c["frame"] - start][c["index"]] = c["track_id"]
        assert c["object"] == frames[c["frame"] - start][c["index"]]
    return out


@pytest.mark.parametrize("name", ["bytetrack", "ocsort", "sort"])
def test_a_track_s_first_detection_gets_its_id_when_the_track_is_confirmed(name: str) -> None:
    frames = crossing()
    assert with_first_ids(TrackerStage(name, FPS), frames) == [[1, 2]] * len(frames)
    # a late object: its first frame is confirmed on the next, after a save and a resume
    late = [objs + ([{"label": "cat", "score": 0.9, "box": [200.0, 300.0, 260.0, 360.0]}] if i >= 5 else [])
            for i, objs in enumerate(frames[:10])]  # fmt: skip
    first = TrackerStage(name, FPS)
    head = with_first_ids(first, late[:6])
    assert head[5] == [1, 2, None]  # its confirmation is still to come
    state = json.loads(json.dumps(first.state()))
    resumed = TrackerStage(name, FPS, state=state)
    resumed.update(6 / FPS, late[6], frame_index=6)
    assert [(c["frame"], c["index"], c["track_id"]) for c in resumed.confirmed] == [(5, 2, 3)]
