"""The job harness of tests/job, shared by the crash cases, and the uninterrupted run every
crash case is compared with."""

import shutil
import uuid

import pytest

from tests.chaos import harness as chaos
from tests.chaos.aggregate import Aggregate, read_pg
from tests.job.conftest import harness  # noqa: F401  (a fixture)
from tests.k8s.conftest import kubelet, make_task, namespace  # noqa: F401  (fixtures; `operator` is the root's)
from tests.videos import PanVideo, pan_video
from videoanalysis.exitcodes import JobExit
from videoanalysis.models import Task, User
from videoanalysis.storage import video_uri

FRAMES = 96


@pytest.fixture(scope="session")
def chaos_video(tmp_path_factory: pytest.TempPathFactory) -> PanVideo:
    return pan_video(tmp_path_factory.mktemp("chaos") / "chaos.mp4", frames=FRAMES, step=1)


async def uninterrupted(db: str, video: PanVideo, folder, model: str, module: str, **params: object) -> Aggregate:
    """One run of `video` with nothing injected, to its end; its aggregate."""
    videos = folder / "videos"
    videos.mkdir()
    shutil.copy(video.path, videos / "chaos.mp4")
    owner = await User.create(email=f"clean-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    task = await Task.create(owner=owner, model=model, video_uri=video_uri("chaos.mp4"), params=params)
    code, _ = await chaos.finish(await chaos.start_job(str(task.id), chaos.job_env(db, videos), module))
    assert code == JobExit.OK
    return await read_pg(db, str(task.id))


@pytest.fixture(scope="session")
async def clean(db: str, chaos_video: PanVideo, tmp_path_factory: pytest.TempPathFactory) -> Aggregate:
    """The face model with its tracker over the whole chaos video: one track at least, so the
    comparison covers the tracks' statistics."""
    done = await uninterrupted(db, chaos_video, tmp_path_factory.mktemp("clean"), "opencv-face", "inference_job")
    assert done.task["frames_done"] == FRAMES and done.tracks and done.task["detections"]
    return done
