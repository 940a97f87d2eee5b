"""Zone and line totals from events: counted in order, the most inside at once, the mean dwell
of those who left, every rule of the task listed even before its first event."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from videoanalysis.summary import TaskSummary
from videoanalysis.zone_totals import add_events, zone_summary

PARAMS = {"zones": [{"name": "door"}, {"name": "till"}], "lines": [{"name": "gate"}]}


def _event(kind: str, rule: str, track: int, label: str = "person", dwell: float | None = None) -> dict:
    return {
        "kind": kind,
        "rule": rule,
        "track_id": track,
        "label": label,
        "frame": 0,
        "timestamp": 0.0,
        "dwell_s": dwell,
    }


def test_totals_count_in_order_with_the_most_inside_and_mean_dwell() -> None:
    events = [
        _event("entered", "door", 1),
        _event("entered", "door", 2),
        _event("left", "door", 1, dwell=2.0),
        _event("entered", "door", 3),
        _event("left", "door", 2, dwell=4.0),
        _event("in", "gate", 1),
        _event("out", "gate", 1),
        _event("in", "gate", 4, label="car"),
    ]
    zones, lines = zone_summary(PARAMS, add_events(None, events))
    assert zones is not None and lines is not None
    door = zones["door"]["person"]
    assert (door.entered, door.left, door.max_inside, door.mean_dwell_seconds) == (3, 2, 2, 3.0)
    assert zones["till"] == {}
    assert {label: c.model_dump() for label, c in lines["gate"].items()} == {
        "car": {"in": 1, "out": 0},
        "person": {"in": 1, "out": 1},
    }


def test_no_zones_no_summary_and_none_before_anyone_left() -> None:
    assert zone_summary({"zones": None}, None) == (None, None)
    zones, _ = zone_summary(PARAMS, add_events(None, [_event("entered", "door", 1)]))
    assert zones is not None and zones["door"]["person"].mean_dwell_seconds is None


@given(st.lists(st.sampled_from(["entered", "left", "in", "out"]), max_size=40), st.integers(0, 40))
def test_adding_in_two_parts_equals_adding_at_once(kinds: list[str], cut: int) -> None:
    events = [_event(k, "gate" if k in ("in", "out") else "door", i, dwell=1.0) for i, k in enumerate(kinds)]
    assert add_events(add_events(None, events[:cut]), events[cut:]) == add_events(None, events)


def test_summary_json_spells_in_and_the_status_camel_cases() -> None:
    totals = add_events(None, [_event("entered", "door", 1), _event("in", "gate", 1)])
    summary = TaskSummary.of({"person": 2}, {"person": 1}, PARAMS, totals)
    assert summary.model_dump(mode="json", by_alias=True)["lines"] == {"gate": {"person": {"in": 1, "out": 0}}}
    status = summary.as_status()
    assert status["zones"]["door"]["person"] == {"entered": 1, "left": 0, "maxInside": 1, "meanDwellSeconds": None}
