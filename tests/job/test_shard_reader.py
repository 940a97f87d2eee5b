"""The job's reader (OpenCV) decodes each shard of a plan exactly as a run from the start does:
the same frames, pixel for pixel, under the same indices, on clips with B-frames, open GOPs,
HEVC and OpenCV's own MPEG-4."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inference_job.reader import FrameMismatch, FrameReader
from tests.support.videos import coded_video, pan_video
from videoanalysis.shard_plan import plan, scan
from videoanalysis.video_probe import VideoReadError

CLIPS = ["h264 B-frames", "h264 open GOP", "h264 in Matroska", "hevc B-frames", "mpeg4 (OpenCV)"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("shard-clips")
    return dict(
        zip(
            CLIPS,
            [
                coded_video(d / "closed.mp4", gop=20),
                coded_video(d / "open.mp4", gop=20, open_gop=True),
                coded_video(d / "closed.mkv", gop=15),
                coded_video(d / "hevc.mp4", codec="libx265", gop=20),
                pan_video(d / "pan.mp4", frames=48, fps=12.0).path,
            ],
            strict=True,
        )
    )


def frames(reader: FrameReader) -> list[tuple[int, np.ndarray]]:
    with reader:
        return [(f.index, f.image.copy()) for f in reader]


@pytest.mark.parametrize("stride", [1, 3])
@pytest.mark.parametrize("name", CLIPS)
def test_each_shard_decodes_its_frames_as_a_run_from_the_start(corpus: dict[str, Path], name: str, stride: int) -> None:
    path = corpus[name]
    whole = frames(FrameReader(path, stride=stride))
    assert [i for i, _ in whole] == list(range(0, len(whole) * stride, stride))
    p = plan(scan(path), 4, preroll=10)
    assert len(p.shards) > 1 or "open" in path.name  # an open GOP is never cut
    owned: list[tuple[int, np.ndarray]] = []
    for shard in p.shards:
        reader = FrameReader(
            path, stride=stride, start=shard.preroll_start, end=shard.end, expect=(shard.start, shard.start_seconds)
        )
        got = frames(reader)
        assert reader.seeked or shard.preroll_start == 0
        # the pre-roll too decodes as in the whole run (the tracker is fed these frames)
        assert all(i % stride == 0 and shard.preroll_start <= i < shard.end for i, _ in got)
        by_index = dict(whole)
        assert all(np.array_equal(image, by_index[i]) for i, image in got), path.name
        owned += [(i, image) for i, image in got if i >= shard.start]
    assert [i for i, _ in owned] == [i for i, _ in whole]
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(owned, whole, strict=True))


def test_a_first_owned_frame_at_another_time_than_the_plan_says_stops_the_shard(corpus: dict[str, Path]) -> None:
    path = corpus["h264 B-frames"]
    p = plan(scan(path), 2, preroll=0)
    shard = p.shards[1]
    reader = FrameReader(path, start=shard.start, end=shard.end, expect=(shard.start, shard.start_seconds + 0.04))
    with pytest.raises(FrameMismatch, match=rf"frame {shard.start} was decoded at 0*{shard.start_seconds:.3f} s"):
        frames(reader)


def test_a_shard_ending_before_the_video_does_is_not_a_truncation(corpus: dict[str, Path]) -> None:
    path = corpus["h264 B-frames"]
    assert [i for i, _ in frames(FrameReader(path, start=5, end=12))] == list(range(5, 12))
    with pytest.raises(ValueError, match=r"frames \[12, 5\) are not a range"):
        FrameReader(path, start=12, end=5)


def test_a_shard_of_a_truncated_video_still_fails_as_truncated(tmp_path: Path) -> None:
    path = coded_video(tmp_path / "v.mkv", gop=20)
    assert frames(FrameReader(path, start=40))[-1][0] == 119
    cut = tmp_path / "cut.mkv"  # Matroska: the frame count stays in the header, the frames go
    cut.write_bytes(path.read_bytes()[: int(path.stat().st_size * 0.6)])
    with pytest.raises(VideoReadError, match="truncated"):
        frames(FrameReader(cut, start=40))
