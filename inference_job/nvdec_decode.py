"""NVDEC decoding itself (imports torch and PyNvVideoCodec; `nvdec_reader.py` decides when)."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

from inference_job.reader import Frame, FrameReader


def resolve_device(device: str) -> str:
    """The device for "auto" as the model resolves it (cuda when torch sees a GPU)."""
    if device != "auto":
        return device
    if importlib.util.find_spec("torch") is None:
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class NvdecFrameReader(FrameReader):
    """`FrameReader` whose thread decodes with NVDEC: frames are torch tensors on GPU `gpu_id`.

    Same contract as the CPU reader (bounded queue, stride, truncation error, sentinel).
    """

    def __init__(self, path: Path, *, stride: int = 1, queue_frames: int = 64, gpu_id: int = 0, chunk: int = 8) -> None:
        super().__init__(path, stride=stride, queue_frames=queue_frames)
        self.gpu_id, self.chunk = gpu_id, max(1, chunk)

    def _decode(self) -> None:
        import PyNvVideoCodec as nvc
        import torch

        decoder = nvc.SimpleDecoder(
            str(self.path), gpu_id=self.gpu_id, use_device_memory=True, output_color_type=nvc.OutputColorType.RGB
        )
        fps, index = self.meta.fps, 0
        while not self._stop.is_set():
            started = time.perf_counter()
            decoded = decoder.get_batch_frames(self.chunk)
            # RGB -> BGR (the models' order) as a copy: the decoder reuses its surfaces
            images = [torch.from_dlpack(f).flip(-1) for f in decoded]
            self.decode_seconds += time.perf_counter() - started
            if not images:
                break
            for image in images:
                if index % self.stride == 0:
                    ts = index / fps if fps > 0 else 0.0
                    if not self._put(Frame(index, round(ts, 6), image)):  # type: ignore[arg-type, unused-ignore]  # a Tensor with torch installed; Any without
                        return
                index += 1
        self._check_complete(index)
