"""Frames decoded on the GPU by NVDEC (PyNvVideoCodec, the `nvdec` extra), kept there: the
choice here, the decoding in `nvdec_decode.py`.

When the job runs on CUDA and its model takes device frames, decoding on the GPU's video
engines frees the CPU and the bus: only the compressed stream crosses it, and frames reach the
model as torch tensors (H, W, 3) uint8 BGR on the device. Everything else falls back to the
CPU reader with the reason logged: a CPU job, a model that wants NumPy frames, a codec NVDEC
does not decode here, a machine without the decoder library or the package.
`VA_DECODER=nvdec` turns each fallback into an error instead, to check a deployment.
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from inference_job.config import JobSettings
from inference_job.models.factory import model_class
from inference_job.reader import FrameReader

log = logging.getLogger("inference_job")

# container codec tags (as OpenCV's FFmpeg reports them) -> codec, for the codecs NVDEC decodes
NVDEC_CODECS = {
    "avc1": "h264",
    "h264": "h264",
    "H264": "h264",
    "x264": "h264",
    "hev1": "hevc",
    "hvc1": "hevc",
    "hevc": "hevc",
    "av01": "av1",
    "vp09": "vp9",
    "VP90": "vp9",
    "vp08": "vp8",
    "VP80": "vp8",
}


class DecoderError(RuntimeError):
    """VA_DECODER=nvdec asked for a decoder this job cannot use; the message says why."""


@dataclass(frozen=True)
class DecoderChoice:
    kind: Literal["cpu", "nvdec"]
    reason: str


def nvdec_missing() -> str | None:
    """Why NVDEC cannot be used on this machine, or None when it can be tried."""
    if importlib.util.find_spec("PyNvVideoCodec") is None:
        return "PyNvVideoCodec is not installed (the nvdec extra)"
    if not decoder_library_loads():
        return "the driver's decoder library (libnvcuvid) is not on this machine"
    return None


def decoder_library_loads() -> bool:
    """Whether the dynamic loader finds the driver's libnvcuvid, as PyNvVideoCodec will look for
    it: GPU containers mount the driver's libraries through LD_LIBRARY_PATH, which
    `ctypes.util.find_library` (the ldconfig cache) does not read."""
    for name in ("libnvcuvid.so.1", "libnvcuvid.so"):
        try:
            ctypes.CDLL(name)
        except OSError:
            continue
        return True
    return ctypes.util.find_library("nvcuvid") is not None


def choose_decoder(setting: str, device: str, device_frames: bool, fourcc: str, missing: str | None) -> DecoderChoice:
    """Pure: the decoder for a video of codec tag `fourcc`, a model on `device` that does or
    does not take device frames, and NVDEC's `missing` reason (None: present)."""
    if setting == "cpu":
        return DecoderChoice("cpu", "VA_DECODER=cpu")
    reasons = [
        (not device_frames, "the model takes frames on the host"),
        (device != "cuda", f"the model runs on {device}"),
        (missing is not None, missing or ""),
        (fourcc not in NVDEC_CODECS, f"codec {fourcc or 'unknown'!r} is not decoded by NVDEC here"),
    ]
    for failed, reason in reasons:
        if failed:
            if setting == "nvdec":
                raise DecoderError(f"VA_DECODER=nvdec, but {reason}")
            return DecoderChoice("cpu", reason)
    return DecoderChoice("nvdec", f"{NVDEC_CODECS[fourcc]} on the GPU")


def open_reader(
    path: Path,
    stride: int,
    settings: JobSettings,
    model: str,
    *,
    start: int = 0,
    end: int | None = None,
    expect: tuple[int, float] | None = None,
) -> FrameReader:
    """The reader for `path` and the job's `model`: NVDEC where `choose_decoder` allows it,
    else OpenCV's. A run resumed at `start` > 0, or a shard's (`end`, `expect`: see
    `FrameReader`), decodes on the CPU: the NVDEC reader has no seek and no range yet."""
    reader = FrameReader(path, stride=stride, queue_frames=settings.queue_frames, start=start, end=end, expect=expect)
    device_frames = model_class(model).device_frames
    if settings.decoder == "cpu" or (settings.decoder == "auto" and not device_frames):
        return reader  # no torch import for a CPU model
    from inference_job.nvdec_decode import NvdecFrameReader, resolve_device  # torch, PyNvVideoCodec

    device = resolve_device(settings.device)
    choice = choose_decoder(settings.decoder, device, device_frames, reader.meta.fourcc, nvdec_missing())
    log.info("decoding %s with %s: %s", path.name, choice.kind, choice.reason)
    if choice.kind == "cpu":
        return reader
    if start or end is not None or expect is not None:
        log.info("%s from frame %d: decoding on the CPU (the NVDEC reader cannot seek)", path.name, start)
        return reader
    return NvdecFrameReader(path, stride=stride, queue_frames=settings.queue_frames)
