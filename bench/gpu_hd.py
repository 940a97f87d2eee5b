"""The 1080p part of `bench/gpu.py` (`--hd`): ceiling CPU decode vs NVDEC, stages, compiled.

`--hd-part ceiling` runs the first, `--hd-part compiled` the stages and eager vs compiled,
`all` (default) both. `--hd-video FILE` measures a given H.264 file instead of encoding one
(the GPU machine has no H.264 encoder: `bench/gpu-device.sh` carries a clip made here).

Every GPU figure is timed between `torch.cuda.synchronize()` calls. NVDEC rows are skipped,
with the reason, where the decoder is missing; `--smoke-cpu` runs the code on the CPU at tiny
sizes to check it, not to time it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from bench.common import (
    NullModel,
    accuracy_met,
    condition_random_weights,
    decode_all,
    decode_fps,
    e2e_fps,
    make_video,
    match_detections,
    median,
    row,
    spread,
)


def timed(fn, sync, *args):
    sync()
    start = time.perf_counter()
    out = fn(*args)
    sync()
    return out, time.perf_counter() - start


async def hd(args: argparse.Namespace, tmp: Path) -> None:
    from bench.gpu import e2e_available, gpu_or_exit
    from videoanalysis.video_probe import probe_video

    torch = gpu_or_exit(args.smoke_cpu)
    device = "cpu" if args.smoke_cpu else "cuda"
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    if args.hd_video:
        video = Path(args.hd_video)
    else:
        video = make_video(tmp / "hd.mp4", args.hd_frames, (320, 180) if args.smoke_cpu else (1920, 1080))
    meta = probe_video(video)
    name = torch.cuda.get_device_name() if device == "cuda" else "CPU (smoke run)"
    print(f"\n{name} | {meta.width}x{meta.height} {meta.fourcc}, {meta.frames} frames | batch {args.hd_batch}")
    db = await e2e_available(args, tmp) if args.hd_part in ("all", "ceiling") else ""
    decode = {}
    if args.hd_part in ("all", "ceiling"):
        decode = await ceiling(args, video, device, db)
    if args.hd_part in ("all", "compiled"):
        compiled(args, video, device, sync, decode)
    if db:
        from tortoise import Tortoise

        await Tortoise.close_connections()


def readers(device: str) -> dict[str, Any]:
    from inference_job.nvdec_reader import nvdec_missing
    from inference_job.reader import FrameReader

    found: dict[str, Any] = {"cpu decode": FrameReader}
    missing = nvdec_missing() if device == "cuda" else "no CUDA"
    print(f"NVDEC: {missing or 'yes'}")
    if missing is None:
        from inference_job.nvdec_decode import NvdecFrameReader

        found["NVDEC"] = NvdecFrameReader
    return found


async def ceiling(args: argparse.Namespace, video: Path, device: str, db: str) -> dict[str, float]:
    """The pipeline's ceiling per reader (null model end to end vs decode alone); returns the
    decode-only frames/s per reader."""
    b = args.hd_batch
    found = readers(device)
    got: dict[str, dict[str, list[float]]] = {k: {"decode": [], "e2e": []} for k in found}
    for cls in found.values():  # first open (decoder sessions, page cache), not counted
        decode_fps(video, cls)
    for _ in range(args.repeats):
        for label, cls in found.items():
            got[label]["decode"].append(decode_fps(video, cls))
            if db:
                got[label]["e2e"].append(await e2e_fps(NullModel(b), video, b, db, cls))
    print(f"\nceiling (null model, batch {b}), frames/s, median of {args.repeats}")
    print(row("reader", "decode", "e2e", "e2e/dec", "±", widths=(14, 10, 10, 10, 8)))
    for label, res in got.items():
        ratios = [e / d for e, d in zip(res["e2e"], res["decode"], strict=False)] or [0.0]
        e2e = f"{median(res['e2e']):.0f}" if res["e2e"] else "-"
        cells = (label, f"{median(res['decode']):.0f}", e2e, f"{median(ratios):.2f}", f"{spread(ratios):.0%}")
        print(row(*cells, widths=(14, 10, 10, 10, 8)), flush=True)
    return {label: median(res["decode"]) for label, res in got.items()}


def compiled(args: argparse.Namespace, video: Path, device: str, sync, decode: dict[str, float]) -> None:
    """Stages of the eager model at batch b, then eager vs compiled at the same input shape:
    frames/s, compile time apart, and the accuracy check."""
    import torch

    from inference_job.models import create_model

    b = args.hd_batch
    frames = decode_all(video)[: args.hd_frames]
    batches = [frames[i : i + b] for i in range(0, len(frames) - b + 1, b)]
    torch.manual_seed(0)
    torch.backends.cudnn.benchmark = True
    eager = create_model("detectron2", random_weights=True, device=device, input_size=args.input_size)
    condition_random_weights(eager, batches[0])
    stages(eager, batches, b, sync, decode, args.input_size)

    weights = Path(args.tmp) / "weights.pth"
    torch.save({"model": eager.model.state_dict()}, weights)
    fast = create_model(
        "detectron2", weights=str(weights), device=device, input_size=args.input_size, compile_mode=args.compile
    )
    height, width = frames[0].shape[:2]
    _, warm = timed(fast.warm_up, sync, b, height, width)
    print(f"\ncompile and warm-up ({args.compile}, batch {b}, {width}x{height}): {warm:.1f} s, not counted below")
    fps: dict[str, list[float]] = {"eager": [], "compiled": []}
    for _ in range(args.repeats):
        for label, model in (("eager", eager), ("compiled", fast)):
            _, t = timed(lambda m=model: [m.predict(x) for x in batches], sync)
            fps[label].append(len(batches) * b / t)
    ratio = median([c / e for c, e in zip(fps["compiled"], fps["eager"], strict=True)])
    print(f"eager vs compiled at batch {b}, frames/s, median of {args.repeats}")
    print(row("eager", f"{median(fps['eager']):.1f}", widths=(24, 10)))
    print(row("compiled", f"{median(fps['compiled']):.1f}", f"x{ratio:.2f} (goal 1.5)", widths=(24, 10, 18)))
    accuracy(eager, fast, batches[0], device)


def stages(eager, batches: list, b: int, sync, decode: dict[str, float], input_size: int) -> None:
    """Frames/s of each stage alone at batch b (eager; fp16 autocast on CUDA)."""
    eager.predict(batches[0])  # cuDNN autotuning, not counted
    stage = {"preprocess": 0.0, "model": 0.0, "postprocess": 0.0}
    for batch in batches:
        inputs, t = timed(eager._prepare_batch, sync, batch)
        stage["preprocess"] += t
        outputs, t = timed(eager._forward, sync, inputs)
        stage["model"] += t
        _, t = timed(eager._postprocess, sync, outputs)
        stage["postprocess"] += t
    n = len(batches) * b
    print(f"\nstages at batch {b}, frames/s of each stage alone (eager, input {input_size}px)")
    for label, fps in decode.items():
        print(row(f"decode ({label})", f"{fps:.0f}", widths=(24, 10)))
    for label, seconds in stage.items():
        print(row(label, f"{n / seconds:.1f}", widths=(24, 10)))
    print(row("tracker", "none in this pipeline", widths=(24, 24)), flush=True)


def accuracy(eager, fast, batch: list, device: str) -> None:
    """Compiled vs eager on the same frames: the compiled parts' outputs (backbone features),
    then the detections, against eager as the job runs it (fp16 autocast on CUDA) and eager
    fp32."""
    import contextlib

    import torch

    inputs = eager._prepare_batch(batch)
    autocast = torch.autocast("cuda", dtype=torch.float16) if device == "cuda" else contextlib.nullcontext()
    with torch.inference_mode(), autocast:
        images = eager.model.preprocess_image(inputs).tensor
        want, got = eager.model.backbone(images), fast.model.backbone(images)
    errors = {k: float((got[k].float() - want[k].float()).norm() / want[k].float().norm()) for k in want}
    print(
        "backbone features, compiled vs eager, relative L2 error: "
        + ", ".join(f"{k} {v:.1e}" for k, v in errors.items())
    )
    with torch.inference_mode():
        fp32 = eager._postprocess(eager.model(inputs))
    result = fast.predict(batch)
    for label, reference in (("eager (as the job runs it)", eager.predict(batch)), ("eager fp32", fp32)):
        for floor in (0.0, 0.5):
            check = match_detections(
                [[d for d in frame if d.score >= floor] for frame in reference],
                [[d for d in frame if d.score >= floor] for frame in result],
            )
            print(
                f"detections vs {label}, scores >= {floor}: {check['boxes']:.0f} boxes, labels equal "
                f"{bool(check['labels_equal'])}, mean IoU {check['mean_iou']:.3f}, max score diff "
                f"{check['max_score_diff']:.3f}: {accuracy_met(check)}"
            )
    print("(random weights conditioned by bench.common.condition_random_weights: labels mean nothing)")
