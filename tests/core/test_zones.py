"""Zones and lines of the parameter contract (`videoanalysis.zones`): bad geometry is refused
naming the zone or line and why."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from videoanalysis.zones import Rules

SQUARE = [[0.1, 0.1], [0.4, 0.1], [0.4, 0.4], [0.1, 0.4]]


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"zones": [{"name": "a", "polygon": [[0, 0], [1, 1]]}]}, "zone a: a polygon needs at least 3 points, got 2"),
        ({"zones": [{"name": "b", "polygon": [[0, 0], [1, 1], [1, 0], [0, 1]]}]}, "zone b: the polygon crosses itself"),
        ({"zones": [{"name": "c", "polygon": [[0, 0], [0.5, 0], [1, 0]]}]}, "zone c: the polygon has no area"),
        ({"zones": [{"name": "d", "polygon": [[0, 0], [2, 0], [0, 1]]}]}, "zone d: point (2, 0) is outside the frame"),
        ({"zones": [{"name": "e", "polygon": [[0, 0]] * 65}]}, "at most 64 items"),
        (
            {"lines": [{"name": "f", "start": [0.5, 0.5], "end": [0.5, 0.5]}]},
            "line f: start and end are the same point",
        ),
        ({"lines": [{"name": "g", "start": ["0", 0], "end": [1, 0]}]}, "Input should be a valid number"),
        ({"lines": [{"name": "h", "units": "pixels", "start": [-1, 0], "end": [1, 0]}]}, "negative pixels"),
        ({"zones": [{"name": "i", "polygon": SQUARE}] * 2}, "names must be unique: i"),
        (
            {"zones": [{"name": "j", "polygon": SQUARE}], "lines": [{"name": "j", "start": [0, 0], "end": [1, 1]}]},
            "a zone and a line share the name j",
        ),
        ({"zones": [{"name": "../k", "polygon": SQUARE}]}, "String should match pattern"),
        ({"zones": [{"name": "l", "polygon": SQUARE, "anchor": "feet"}]}, "Input should be 'bottom_center'"),
        ({"zones": [{"name": "m", "polygon": SQUARE, "minFrames": 0}]}, "greater than or equal to 1"),
    ],
)
def test_bad_geometry_is_refused_naming_it(rules: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Rules.model_validate(rules)


def test_pixels_outside_the_frame_are_refused_once_its_size_is_known() -> None:
    rules = Rules.model_validate(
        {"zones": [{"name": "desk", "units": "pixels", "polygon": [[0, 0], [700, 0], [0, 9]]}]}
    )
    rules.check_in_frame(800, 600)
    with pytest.raises(ValueError, match=r"desk: point \(700, 0\) is outside the 640x480 frame"):
        rules.check_in_frame(640, 480)


def test_defaults_and_camel_case() -> None:
    rules = Rules.model_validate({"lines": [{"name": "stop line", "start": [0, 0.5], "end": [1, 0.5]}]})
    (line,) = rules.lines
    assert (line.units, line.anchor, line.min_frames, line.labels) == ("fraction", "bottom_center", 3, None)
    assert line.model_dump(by_alias=True)["minFrames"] == 3 and bool(rules) and not Rules()
