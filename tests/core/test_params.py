"""The analysis parameters' one contract (`videoanalysis.params`): a stored row is checked by it
as strictly as an upload."""

from __future__ import annotations

import pytest

from videoanalysis.params import ParamsError, auto_shards, parse_params, task_params


@pytest.mark.parametrize(
    "params,message",
    [
        ({"score_threshold": 1.5}, "score_threshold"),
        ({"frame_stride": 0}, "frame_stride"),
        ({"frame_stride": "2"}, "frame_stride"),
        ({"labels": "face"}, "labels"),
    ],
)
def test_bad_params_are_refused_by_name(params: dict, message: str) -> None:
    """A stored row is checked by the same contract as an upload (strictly: no "2" for 2)."""
    with pytest.raises(ParamsError, match=message):
        task_params("opencv-face", params)


@pytest.mark.parametrize("value", [0, 65, "many", True, 2.5])
def test_shards_are_a_count_or_auto(value: object) -> None:
    """One message for both arms of the union, naming the bounds and the word."""
    with pytest.raises(ParamsError, match=r"^shards: must be an integer from 1 to 64, or auto$"):
        task_params("opencv-face", {"shards": value})


def test_shards_default_and_form_text() -> None:
    assert task_params("opencv-face", {}).shards == 1
    assert parse_params({"shards": "4"}, strict=False).shards == 4  # a form field arrives as text
    assert parse_params({"shards": "auto"}).shards == "auto"


@pytest.mark.parametrize(
    ("analysed", "min_frames", "most", "expected"),
    [(0, 100, 8, 1), (99, 100, 8, 1), (200, 100, 8, 2), (250, 100, 8, 2), (10_000, 100, 8, 8)],
)
def test_auto_shards_is_one_per_min_frames_within_the_cap(
    analysed: int, min_frames: int, most: int, expected: int
) -> None:
    assert auto_shards(analysed, min_frames, most) == expected
