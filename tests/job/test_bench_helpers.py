"""The benchmark's verdicts and its compiled-vs-eager accuracy check (pure helpers)."""

from __future__ import annotations

import pytest

from bench.common import match_detections, spread, verdict
from inference_job.models.base import Detection


def test_spread_and_verdict() -> None:
    assert spread([0.96, 1.0, 0.98]) == pytest.approx(0.02 / 0.98)
    assert verdict(0.97, 0.02, 0.95) == "met"
    assert verdict(0.90, 0.02, 0.95) == "NOT met"
    assert verdict(0.97, 0.12, 0.95) == "noisy (±12%)"  # a wide spread is reported, not claimed


def test_match_pairs_boxes_by_label_and_overlap() -> None:
    eager = [[Detection("cat", 0.9, (0, 0, 10, 10)), Detection("dog", 0.5, (20, 20, 30, 30))]]
    shifted = [[Detection("dog", 0.51, (20, 20, 30, 31)), Detection("cat", 0.88, (0, 0, 10, 10))]]
    got = match_detections(eager, shifted)
    assert got["labels_equal"] == 1.0
    assert got["mean_iou"] == pytest.approx((1 + 10 / 11) / 2)
    assert got["max_score_diff"] == pytest.approx(0.02)
    wrong = match_detections(eager, [[Detection("cat", 0.9, (0, 0, 10, 10)), Detection("cow", 0.5, (20, 20, 30, 30))]])
    assert wrong["labels_equal"] == 0.0 and wrong["mean_iou"] == pytest.approx(0.5)
