"""Which decoder a job uses: NVDEC only for a CUDA model that takes device frames, a codec it
decodes and a machine with the decoder; else the CPU reader, or a clear error under
VA_DECODER=nvdec. This machine has no GPU: the fallback is what runs here."""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from inference_job.config import JobSettings
from inference_job.nvdec_reader import DecoderChoice, DecoderError, choose_decoder, nvdec_missing, open_reader
from inference_job.reader import FrameReader
from tests.support.job_harness import JobHarness
from tests.support.videos import h264_video, pan_video
from videoanalysis.exitcodes import JobExit
from videoanalysis.task_status import TaskStatus
from videoanalysis.video_probe import probe_video

GOOD = {"setting": "auto", "device": "cuda", "device_frames": True, "fourcc": "avc1", "missing": None}


@pytest.fixture(scope="module")
def h264(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return h264_video(tmp_path_factory.mktemp("h264") / "pan.mp4")


@pytest.mark.parametrize(
    "change,reason",
    [
        ({"setting": "cpu"}, "VA_DECODER=cpu"),
        ({"device": "cpu"}, "the model runs on cpu"),
        ({"device_frames": False}, "the model takes frames on the host"),
        ({"missing": "PyNvVideoCodec is not installed"}, "PyNvVideoCodec is not installed"),
        ({"fourcc": "mp4v"}, "codec 'mp4v' is not decoded by NVDEC here"),
        ({"fourcc": ""}, "codec 'unknown'"),
    ],
)
def test_each_missing_condition_falls_back_to_the_cpu_or_fails_under_nvdec(change: dict, reason: str) -> None:
    choice = choose_decoder(**{**GOOD, **change})
    assert choice.kind == "cpu" and reason in choice.reason
    if change.get("setting") != "cpu":
        with pytest.raises(DecoderError, match=f"VA_DECODER=nvdec, but {reason}"):
            choose_decoder(**{**GOOD, **change, "setting": "nvdec"})


@pytest.mark.parametrize("fourcc,codec", [("avc1", "h264"), ("h264", "h264"), ("hvc1", "hevc"), ("av01", "av1")])
def test_nvdec_is_chosen_when_everything_holds(fourcc: str, codec: str) -> None:
    assert choose_decoder(**{**GOOD, "fourcc": fourcc}) == DecoderChoice("nvdec", f"{codec} on the GPU")
    assert choose_decoder(**{**GOOD, "fourcc": fourcc, "setting": "nvdec"}).kind == "nvdec"


def test_probe_names_the_codec(h264: Path, tmp_path: Path) -> None:
    got = probe_video(h264).fourcc
    assert choose_decoder(**{**GOOD, "fourcc": got}).kind == "nvdec", got
    mpeg4 = probe_video(pan_video(tmp_path / "mp4v.mp4", frames=2).path).fourcc
    assert mpeg4 in ("mp4v", "FMP4") and choose_decoder(**{**GOOD, "fourcc": mpeg4}).kind == "cpu"


def test_without_the_decoder_a_cuda_job_reads_on_the_cpu(
    h264: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    missing = nvdec_missing()
    assert missing is not None  # no PyNvVideoCodec nor libnvcuvid on this machine
    monkeypatch.setenv("VA_DEVICE", "cuda")
    with caplog.at_level(logging.INFO, "inference_job"):
        reader = open_reader(h264, 2, JobSettings(), "detectron2")
    assert type(reader) is FrameReader and f"with cpu: {missing}" in caplog.text
    with reader:
        frames = list(reader)
    assert [f.index for f in frames] == list(range(0, 12, 2))
    assert isinstance(frames[0].image, np.ndarray) and frames[0].image.shape == (240, 320, 3)
    monkeypatch.setenv("VA_DECODER", "nvdec")
    with pytest.raises(DecoderError, match=re.escape(f"VA_DECODER=nvdec, but {missing}")):
        open_reader(h264, 1, JobSettings(), "detectron2")


async def test_a_job_forced_onto_nvdec_fails_with_the_reason(harness: JobHarness, h264: Path) -> None:
    shutil.copy(h264, harness.videos_dir / "pan.mp4")
    task = await harness.task("pan.mp4")  # opencv-face: frames on the host
    result = await harness.run(task, VA_DECODER="nvdec")
    assert result.returncode == JobExit.FAILED
    await task.refresh_from_db()
    assert task.status == TaskStatus.FAILED
    assert task.error == "VA_DECODER=nvdec, but the model takes frames on the host"


def test_the_decoder_library_is_found_where_the_dynamic_loader_finds_it(tmp_path: Path) -> None:
    """GPU containers mount the driver's libraries through LD_LIBRARY_PATH, outside the ldconfig
    cache: a libnvcuvid there counts (a stand-in shared object built here, loaded by a child)."""
    import subprocess
    import sys

    if shutil.which("cc") is None:
        pytest.skip("no C compiler to build the stand-in library")
    (tmp_path / "stub.c").write_text("int cuvidGetDecoderCaps(void *caps) { return 0; }\n")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", tmp_path / "libnvcuvid.so.1", tmp_path / "stub.c"], check=True)
    probe_code = "from inference_job.nvdec_reader import decoder_library_loads as f; print(f())"
    for path, expected in ((str(tmp_path), "True"), ("", "False")):
        env = {**os.environ, "LD_LIBRARY_PATH": path}
        got = subprocess.run([sys.executable, "-c", probe_code], env=env, capture_output=True, text=True, check=True)
        assert got.stdout.strip() == expected, (path, got.stderr)
