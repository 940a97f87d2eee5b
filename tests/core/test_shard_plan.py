"""The shard plan: a frame table from the container's packets, cut at clean keyframes only."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from tests.support.videos import coded_video, pan_video
from videoanalysis.shard_plan import TableError, plan, preroll_frames, scan, table_of_packets


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("corpus")
    return {
        "closed": coded_video(d / "closed.mp4"),
        "open": coded_video(d / "open.mp4", open_gop=True),
        "open-mkv": coded_video(d / "open.mkv", open_gop=True),
        "closed-mkv": coded_video(d / "closed.mkv"),
        "hevc": coded_video(d / "hevc.mp4", codec="libx265"),
        "hevc-open": coded_video(d / "hevc-open.mp4", codec="libx265", open_gop=True),
        "vfr": coded_video(d / "vfr.mp4", frame_ms=[40, 40, 40, 40, 80]),
        "ntsc": coded_video(d / "ntsc.mkv", frame_ms=[33, 33, 34]),
    }


def test_frames_are_ranked_by_presentation_time_with_b_frames(corpus: dict[str, Path]) -> None:
    t = scan(corpus["closed"])
    assert t.frames == 120 and t.codec == "h264"
    assert np.all(np.diff(t.pts) == np.diff(t.pts)[0])  # presentation order, constant steps
    assert t.seconds(25) == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["closed", "closed-mkv", "hevc"])
def test_closed_gops_are_clean_at_every_keyframe(corpus: dict[str, Path], name: str) -> None:
    t = scan(corpus[name])
    assert list(np.flatnonzero(t.clean)) == [0, 25, 50, 75, 100]
    assert t.keyframes == 5


@pytest.mark.parametrize("name", ["open", "open-mkv", "hevc-open"])
def test_open_gop_keyframes_are_not_cut_points(corpus: dict[str, Path], name: str) -> None:
    t = scan(corpus[name])
    assert t.keyframes >= 5  # the container marks them as keyframes ...
    assert list(np.flatnonzero(t.clean)) == [0]  # ... but only the first is an IDR picture
    p = plan(t, 4, preroll=20)
    assert [s.start for s in p.shards] == [0]
    assert p.reason == (
        "only 1 shard: no more of the video's 1 clean keyframes lie at least a pre-roll (20 frames) apart"
    )


def test_cuts_are_the_clean_keyframes_nearest_the_even_split(corpus: dict[str, Path]) -> None:
    t = scan(corpus["closed"])
    p = plan(t, 4, preroll=20)  # targets 30, 60, 90 -> 25, 50, 100 (ties go to the earlier)
    assert p.reason is None and p.asked == 4
    assert [(s.start, s.end) for s in p.shards] == [(0, 25), (25, 50), (50, 100), (100, 120)]
    # Each pre-roll starts at the clean frame at or before its shard's start minus 20 frames.
    assert [s.preroll_start for s in p.shards] == [0, 0, 25, 75]
    assert [s.start_seconds for s in p.shards] == [0.0, 1.0, 2.0, 4.0]
    assert "PyAV" in p.library
    assert p.as_json()["shards"][1] == {"index": 1, "start": 25, "end": 50, "prerollStart": 0, "startSeconds": 1.0}


def test_more_shards_than_cut_points_gives_fewer_shards_with_the_reason(corpus: dict[str, Path]) -> None:
    p = plan(scan(corpus["closed"]), 8, preroll=0)
    assert [s.start for s in p.shards] == [0, 25, 50, 75, 100]
    assert p.reason == (
        "only 5 shards: no more of the video's 5 clean keyframes lie at least a pre-roll (0 frames) apart"
    )


def test_shards_are_at_least_a_preroll_long(corpus: dict[str, Path]) -> None:
    p = plan(scan(corpus["closed"]), 4, preroll=30)  # 25 is too close to 0: the cuts are 50 and 100
    assert [(s.preroll_start, s.start, s.end) for s in p.shards] == [(0, 0, 50), (0, 50, 100), (50, 100, 120)]
    assert p.reason is not None and p.reason.startswith("only 3 shards")


def test_one_shard_asked_is_one_shard_without_a_reason(corpus: dict[str, Path]) -> None:
    p = plan(scan(corpus["closed"]), 1, preroll=20)
    assert [(s.start, s.end, s.preroll_start) for s in p.shards] == [(0, 120, 0)] and p.reason is None


def test_a_variable_frame_rate_is_one_shard_with_the_reason(corpus: dict[str, Path]) -> None:
    p = plan(scan(corpus["vfr"]), 3, preroll=20)
    assert len(p.shards) == 1
    assert p.reason == "variable frame rate (frames last 40.0 to 80.0 ms)"


def test_a_millisecond_time_base_rounding_is_a_constant_rate(corpus: dict[str, Path]) -> None:
    t = scan(corpus["ntsc"])  # 33, 33, 34 ms: 30 fps in a 1/1000 time base
    assert t.constant_rate_error() is None


def test_a_count_the_reader_disagrees_with_is_one_shard(corpus: dict[str, Path]) -> None:
    p = plan(scan(corpus["closed"]), 3, preroll=0, expected_frames=119)
    assert len(p.shards) == 1 and p.reason == "the container announces 119 frames but holds 120"
    assert (p.frames, p.shards[0].end) == (119, 119)  # the reader's count, which it holds the video to


def test_opencvs_mpeg4_clips_plan_at_their_keyframes(tmp_path: Path) -> None:
    video = pan_video(tmp_path / "pan.mp4", frames=36, fps=12.0)  # mp4v: a keyframe every 12 frames
    t = scan(video.path)
    assert t.codec == "mpeg4" and list(np.flatnonzero(t.clean)) == [0, 12, 24]


def test_what_cannot_be_planned_frame_exactly_is_refused_with_its_reason(tmp_path: Path) -> None:
    with pytest.raises(TableError, match=r"^the container cannot be read \(Invalid data"):
        scan(Path(__file__))
    with pytest.raises(TableError, match="some frames carry no timestamp"):
        table_of_packets("h264", Fraction(1, 25), [0, None, 2], [True, False, False], [True, False, False])
    with pytest.raises(TableError, match="two frames share a timestamp"):
        table_of_packets("h264", Fraction(1, 25), [0, 1, 1], [True, False, False], [True, False, False])
    with pytest.raises(TableError, match="no frames"):
        table_of_packets("h264", Fraction(1, 25), [], [], [])


def test_a_keyframe_followed_by_a_frame_shown_before_it_is_not_clean() -> None:
    # decode order: I0 P3 B1 B2 | I6 B4 B5 P8 B7: the second keyframe has leading frames 4 and 5
    t = table_of_packets(
        "mpeg4",
        Fraction(1, 25),
        [0, 3, 1, 2, 6, 4, 5, 8, 7],
        [True, False, False, False, True] + [False] * 4,
        [True, False, False, False, True] + [False] * 4,
    )
    assert list(t.pts) == list(range(9))
    assert list(np.flatnonzero(t.clean)) == [0]


def test_preroll_is_the_lost_track_buffer_plus_a_window_in_analysed_frames() -> None:
    assert preroll_frames(25.0, 1, 2.0) == 60  # 50 + 10 analysed frames
    assert preroll_frames(30.0, 3, 2.0) == (20 + 10) * 3  # counted in analysed frames, stride 3
