"""The analysis parameters' one contract (`videoanalysis.params`): a stored row is checked by it
as strictly as an upload."""

from __future__ import annotations

import pytest

from videoanalysis.params import ParamsError, task_params


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
