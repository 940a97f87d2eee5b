"""The benchmark's verdicts and its compiled-vs-eager accuracy check (pure helpers)."""

from __future__ import annotations

import itertools

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


def test_tracking_bench_scores_a_perfect_tracker_and_a_swap() -> None:
    """trackeval's input built from ground truth: the truth itself scores 1, a swap of the two
    ids halfway scores an ID switch per object and a lower IDF1."""
    from bench.tracking import score, sequence_data

    a, b = [0.0, 0.0, 10.0, 10.0], [50.0, 0.0, 60.0, 10.0]
    gt = [{1: a, 2: b} for _ in range(10)]
    assert score(sequence_data(gt, gt)) | {"ids": 2} == {"HOTA": 1.0, "IDF1": 1.0, "MOTA": 1.0, "IDSW": 0, "ids": 2}
    swapped = gt[:5] + [{1: b, 2: a} for _ in range(5)]
    worse = score(sequence_data(gt, swapped))
    assert worse["IDSW"] == 2 and worse["IDF1"] == pytest.approx(0.5) and worse["MOTA"] == pytest.approx(0.9)


def test_crossing_faces_keep_two_ids_through_the_real_detector(tmp_path) -> None:
    """The bench's crossing, rendered and run through the job's pipeline with the default
    tracker: two faces, two ids, never one id on both faces in a frame."""
    import asyncio

    from bench.tracking import run
    from bench.tracking_scenes import render, scenes

    scene = render(scenes()[0], tmp_path / "crossing.avi")
    found, stats = asyncio.run(run(scene, tmp_path / "crossing.avi", "ocsort"))
    ids = {i for frame in found for i in frame}
    assert ids == {1, 2}
    # each id keeps moving one way (a swap at the crossing would turn it back): never merged
    direction = {}
    for i in ids:
        xs = [frame[i][0] for frame in found if i in frame]
        direction[i] = 1 if xs[-1] > xs[0] else -1
        assert all((b - a) * direction[i] > -15 for a, b in itertools.pairwise(xs)), (i, xs)
    assert direction[1] != direction[2]
    assert stats.tracker_seconds > 0


def test_an_empty_comparison_is_not_claimed() -> None:
    from bench.common import accuracy_met

    assert accuracy_met(match_detections([[]], [[]])) == "no boxes to compare: not claimed"
    same = [[Detection("cat", 0.9, (0, 0, 10, 10))]]
    assert accuracy_met(match_detections(same, same)) == "met"
    moved = [[Detection("cat", 0.9, (0, 0, 10, 12))]]
    assert accuracy_met(match_detections(same, moved)) == "NOT met"  # IoU 0.83


def test_conditioned_random_weights_give_unit_scale_features_and_boxes() -> None:
    """The compiled-vs-eager check needs activations of a trained network's scale (a random
    Detectron2's grow by orders of magnitude through the backbone) and boxes to compare."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("detectron2")
    from bench.common import condition_random_weights, pattern_frames
    from inference_job.models import create_model

    torch.manual_seed(0)
    model = create_model("detectron2", random_weights=True, device="cpu", input_size=160)
    frames = list(pattern_frames(2, (192, 160)))

    def features() -> float:
        with torch.inference_mode():
            images = model.model.preprocess_image(model._prepare_batch(frames)).tensor
            return max(float(v.abs().max()) for v in model.model.backbone(images).values())

    raw = features()
    condition_random_weights(model, frames)
    assert features() < raw / 10
    assert sum(len(d) for d in model.predict(frames)) > 0
