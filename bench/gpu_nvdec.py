"""Is NVDEC usable on this machine: the driver's decoder library loads, PyNvVideoCodec imports,
and one decoder opened on VIDEO hands a batch of frames to torch on the GPU.

    python -m bench.gpu_nvdec VIDEO

Prints what it found and `NVDEC usable: yes` or `NVDEC usable: no (reason)`; exits 0 either
way, 1 only when the decoder was found but failed.
"""

from __future__ import annotations

import ctypes.util
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    from inference_job.nvdec_reader import decoder_library_loads, nvdec_missing

    video = Path(argv[0])
    print(f"libnvcuvid loads: {decoder_library_loads()} (ldconfig cache: {ctypes.util.find_library('nvcuvid')})")
    missing = nvdec_missing()
    if missing:
        print(f"NVDEC usable: no ({missing})")
        return 0
    import PyNvVideoCodec as nvc
    import torch

    print(f"PyNvVideoCodec {getattr(nvc, '__version__', '?')}, torch {torch.__version__}")
    started = time.perf_counter()
    decoder = nvc.SimpleDecoder(str(video), gpu_id=0, use_device_memory=True, output_color_type=nvc.OutputColorType.RGB)
    opened = time.perf_counter() - started
    frames = [torch.from_dlpack(f) for f in decoder.get_batch_frames(8)]
    torch.cuda.synchronize()
    took = time.perf_counter() - started
    if not frames:
        print("NVDEC usable: no (the decoder opened but returned no frames)")
        return 1
    first = frames[0]
    print(
        f"opened in {opened:.2f} s; {len(frames)} frames in {took:.2f} s: {tuple(first.shape)} {first.dtype} on {first.device}"
    )
    print(f"mean pixel {first.float().mean().item():.1f} (a decoded picture, not zeros)")
    print("NVDEC usable: yes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
