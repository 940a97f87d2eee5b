"""The inference job as a real subprocess (`python -m inference_job`): task rows on the
session's PostgreSQL database, a videos folder, and the environment that points the job at
both (`harness`); and the astronaut pan every job test analyses (`pan`)."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.paths import ROOT
from tests.support.videos import PanVideo, pan_video
from videoanalysis.storage import video_uri
from videoanalysis.tables import FrameDetections, Task, User


@dataclass
class JobResult:
    returncode: int
    stderr: str


@dataclass
class JobHarness:
    """A videos folder plus the environment that points the job at the test database."""

    pg_url: str
    videos_dir: Path
    owner: User

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VA_")}
        env.update(
            VA_DATABASE_URL=self.pg_url,
            VA_VIDEOS_DIR=str(self.videos_dir),
            VA_DATA_DIR=str(self.videos_dir.parent / "data"),
            VA_DEVICE="cpu",
            VA_PROGRESS_INTERVAL_S="0",
            PYTHONPATH=str(ROOT),
        )
        env.update(extra)
        return env

    async def task(self, video: str, model: str = "opencv-face", **params) -> Task:
        return await Task.create(
            owner=self.owner, model=model, video_uri=video_uri(video), video_name=video, params=params
        )

    async def run(self, task: Task, timeout: float = 120, **env: str) -> JobResult:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "inference_job",
            "--task-id",
            str(task.id),
            cwd=ROOT,
            env=self.env(**env),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(proc.communicate(), timeout)
        return JobResult(proc.returncode, err.decode(errors="replace"))


async def frames_of(task: Task) -> list[FrameDetections]:
    """The task's frame rows, in frame order."""
    return await FrameDetections.filter(task_id=task.id).order_by("frame_index")


@pytest.fixture
async def harness(db: str, tmp_path: Path) -> JobHarness:
    videos = tmp_path / "videos"
    videos.mkdir()
    owner = await User.create(email=f"job-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    return JobHarness(db, videos, owner)


@pytest.fixture(scope="session")
def pan(tmp_path_factory: pytest.TempPathFactory) -> PanVideo:
    """The astronaut pan: 24 frames, 320×240, the face moving 4 px right per frame."""
    return pan_video(tmp_path_factory.mktemp("pan") / "pan.mp4")
