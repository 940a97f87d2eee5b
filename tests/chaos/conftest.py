"""The chaos video, and the uninterrupted run of it every crash case is compared with (the
job harness, `harness`, is the shared one of tests/support)."""

import pytest

from tests.chaos.aggregate import Aggregate
from tests.chaos.harness import FRAMES, uninterrupted
from tests.support.videos import PanVideo, pan_video


@pytest.fixture(scope="session")
def chaos_video(tmp_path_factory: pytest.TempPathFactory) -> PanVideo:
    return pan_video(tmp_path_factory.mktemp("chaos") / "chaos.mp4", frames=FRAMES, step=1)


@pytest.fixture(scope="session")
async def clean(db: str, chaos_video: PanVideo, tmp_path_factory: pytest.TempPathFactory) -> Aggregate:
    """The face model with its tracker over the whole chaos video: one track at least, so the
    comparison covers the tracks' statistics."""
    done = await uninterrupted(db, chaos_video, tmp_path_factory.mktemp("clean"), "opencv-face", "inference_job")
    assert done.task["frames_done"] == FRAMES and done.tracks and done.task["detections"]
    return done
