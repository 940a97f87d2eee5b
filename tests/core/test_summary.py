"""One task summary, spelt two ways: the API's snake_case and the resource status's camelCase."""

from __future__ import annotations

from videoanalysis.summary import TaskSummary


def test_the_api_and_the_status_show_the_same_summary_in_their_own_spelling() -> None:
    summary = TaskSummary.of({"face": 2, "cat": 1}, {"face": 1})
    assert summary.model_dump() == {
        "detections": {"cat": 1, "face": 2},
        "detections_total": 3,
        "objects": {"face": 1},
        "objects_total": 1,
        "zones": None,  # a task without zones or lines
        "lines": None,
    }
    assert summary.as_status() == {
        "detections": {"cat": 1, "face": 2},
        "detectionsTotal": 3,
        "objects": {"face": 1},
        "objectsTotal": 1,
        "zones": None,
        "lines": None,
    }


def test_a_run_without_a_tracker_has_no_track_counts() -> None:
    assert TaskSummary.of(None, None).as_status() == {
        "detections": {},
        "detectionsTotal": 0,
        "objects": None,
        "objectsTotal": None,
        "zones": None,
        "lines": None,
    }
