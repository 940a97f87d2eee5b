"""Detectron2 on one GPU (fp16 autocast, random weights): bare vs end-to-end frames/s at
batch 1/4/8/16, side by side, in well under 5 minutes. Exits 0 with a message without a GPU.

    python -m bench.gpu [--frames 128] [--input-size 800] [--repeats 3]
    python -m bench.gpu --hd [--hd-frames 128] [--compile inductor]   # the 1080p part only
    python -m bench.gpu --hd --hd-part ceiling|compiled [--hd-video FILE]

`--hd`: a generated 1920x1080 H.264 video (PyAV): the pipeline's ceiling (null model end to
end vs decode-only) with the CPU reader and with NVDEC; a breakdown per stage at batch B
(decode, preprocess, model, postprocess, tracker, write); eager vs compiled at batch B with
the accuracy check (compiled fp16 boxes vs eager fp32: same labels, mean IoU >= 0.95, scores
within 0.02).

Needs torch, torchvision, OpenCV and Detectron2; the end-to-end part also needs the project's
core deps (Tortoise, pydantic-settings) and writes to SQLite (VA_DATABASE_URL, or a temp file).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

BATCHES = (1, 4, 8, 16)


def gpu_or_exit(smoke_cpu: bool = False):
    try:
        import torch
    except ImportError as exc:
        print(f"bench.gpu: torch is not installed ({exc}); nothing to measure")
        sys.exit(0)
    if not torch.cuda.is_available() and not smoke_cpu:
        print("bench.gpu: no CUDA GPU visible; nothing to measure")
        sys.exit(0)
    return torch


async def run(args: argparse.Namespace, tmp: Path) -> None:
    torch = gpu_or_exit(args.smoke_cpu)
    device = "cpu" if args.smoke_cpu else "cuda"
    from bench.common import bare_fps, decode_all, make_video, median, row
    from inference_job import model_thread
    from inference_job.models import create_model

    torch.manual_seed(0)
    torch.backends.cudnn.benchmark = True
    t0 = time.perf_counter()
    model = model_thread.call(
        create_model, "detectron2", random_weights=True, device=device, input_size=args.input_size
    )
    video = make_video(tmp / "bench.mp4", args.frames, (args.width, args.height))
    frames = decode_all(video)
    if len(frames) != args.frames:
        raise SystemExit(f"bench.gpu: the test video decoded to {len(frames)} frames, not {args.frames}")
    name = torch.cuda.get_device_name() if device == "cuda" else "CPU (smoke run)"
    print(
        f"{name} | torch {torch.__version__} | input {args.input_size}px"
        f" | video {args.width}x{args.height}, {len(frames)} frames | setup "
        f"{time.perf_counter() - t0:.1f}s"
    )
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    start = time.perf_counter()
    prep = model_thread.call(lambda: [model.prepare(f) for f in frames[:32]])
    print(
        f"CPU preprocessing (ResizeShortestEdge + tensor): "
        f"{(time.perf_counter() - start) / len(prep) * 1000:.1f} ms/frame"
    )
    e2e = await e2e_available(args, tmp)
    for b in BATCHES:  # warm-up per shape (cuDNN autotuning), not counted
        bare_fps(model, frames[: 2 * b], b, sync)
    res = {(k, b): [] for k in ("bare", "e2e") for b in BATCHES}
    for _rep in range(args.repeats):
        for b in BATCHES:
            res["bare", b].append(bare_fps(model, frames, b, sync))
            if e2e:
                from bench.common import e2e_fps

                res["e2e", b].append(await e2e_fps(model, video, b, e2e))
    widths = (8, 12, 12, 10)
    print(
        f"\nframes/s, median of {args.repeats} interleaved repeats, fp16 autocast"
        + ("; e2e writes to SQLite" if e2e else "; e2e skipped")
    )
    print(row("batch", "bare", "e2e", "e2e/bare", widths=widths))
    for b in BATCHES:
        bare = median(res["bare", b])
        line = [b, f"{bare:.1f}"]
        if e2e:
            e = median(res["e2e", b])
            line += [f"{e:.1f}", f"{e / bare:.2f}"]
        print(row(*line, widths=widths))
    if args.breakdown and e2e:
        await breakdown(model, video, frames, args.breakdown, e2e, args.repeats, sync)
    if device == "cuda":
        print(f"peak GPU memory: {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB")
    if e2e:
        from tortoise import Tortoise

        await Tortoise.close_connections()


async def breakdown(model, video: Path, frames, batch: int, db_url: str, repeats: int, sync) -> None:
    """Where e2e time goes at one batch size: each stage added to the one before."""
    from bench.common import bare_fps, e2e_fps, median, row
    from inference_job.pipeline import AnalysisParams, analyse
    from inference_job.reader import FrameReader

    async def null_sink(_results) -> None:
        return None

    async def pipeline_no_db() -> float:
        start = time.perf_counter()
        with FrameReader(video) as reader:
            n = await analyse(reader, model, AnalysisParams(tracker="none"), null_sink, batch_size=batch)
        return n / (time.perf_counter() - start)

    stages = {
        "bare (model thread)": lambda: asyncio.to_thread(bare_fps, model, frames, batch, sync),
        "+ reader thread, no DB": pipeline_no_db,
        "+ DB writes (= e2e)": lambda: e2e_fps(model, video, batch, db_url),
    }
    got: dict[str, list[float]] = {k: [] for k in stages}
    for _ in range(repeats):
        for name, fn in stages.items():
            got[name].append(await fn())
    print(f"\nbreakdown at batch {batch} (switch interval {sys.getswitchinterval() * 1e3:.1f} ms)")
    for name, values in got.items():
        print(row(name, f"{median(values):.1f}", widths=(28, 10)))


async def e2e_available(args: argparse.Namespace, tmp: Path) -> str:
    """The database URL for the e2e part, or "" when the project's DB deps are missing."""
    try:
        from bench.common import connect

        url = os.environ.get("VA_DATABASE_URL") or f"sqlite://{tmp}/bench.sqlite3"
        await connect(url)
        return url
    except ImportError as exc:
        print(f"e2e part skipped: {exc}")
        return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Detectron2 GPU benchmark")
    parser.add_argument("--frames", type=int, default=128)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--input-size", type=int, default=800)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--breakdown", type=int, default=0, metavar="B", help="also time the pipeline stage by stage at batch B"
    )
    parser.add_argument(
        "--switch-interval-ms", type=float, default=0, help="sys.setswitchinterval for this run (0: Python's default)"
    )
    parser.add_argument("--only-batch", type=int, default=0, help="time only this batch size")
    parser.add_argument(
        "--smoke-cpu", action="store_true", help="run the same code on the CPU (tiny sizes) to check it, not to time it"
    )
    parser.add_argument("--hd", action="store_true", help="the 1080p H.264 part (see the docstring)")
    parser.add_argument(
        "--hd-frames",
        type=int,
        default=128,
        help="frames of the generated clip (and at most this many decoded for the compiled part)",
    )
    parser.add_argument("--hd-video", default="", help="an H.264 file to measure instead of a generated clip")
    parser.add_argument("--hd-part", default="all", choices=("all", "ceiling", "compiled"))
    parser.add_argument("--hd-batch", type=int, default=8)
    parser.add_argument("--compile", default="inductor", choices=("inductor", "cudagraphs"))
    args = parser.parse_args(argv)
    gpu_or_exit(args.smoke_cpu)
    if args.switch_interval_ms:
        sys.setswitchinterval(args.switch_interval_ms / 1000)
    if args.hd:
        with tempfile.TemporaryDirectory() as tmp:
            from bench.gpu_hd import hd

            args.tmp = tmp
            asyncio.run(hd(args, Path(tmp)))
        return 0
    if args.only_batch:
        global BATCHES
        BATCHES = (args.only_batch,)
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args, Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
