"""The 1080p part of `bench/gpu.py` (`--hd`): ceiling CPU decode vs NVDEC, stages, compiled.

Every GPU figure is timed between `torch.cuda.synchronize()` calls. NVDEC rows are skipped,
with the reason, where the decoder is missing; `--smoke-cpu` runs the code on the CPU at tiny
sizes to check it, not to time it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench.common import (
    NullModel,
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
    from inference_job.models import create_model
    from inference_job.nvdec_reader import nvdec_missing
    from inference_job.reader import FrameReader, probe

    torch = gpu_or_exit(args.smoke_cpu)
    device = "cpu" if args.smoke_cpu else "cuda"
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    size = (320, 180) if args.smoke_cpu else (1920, 1080)
    video = make_video(tmp / "hd.mp4", args.hd_frames, size)
    readers: dict[str, type] = {"cpu decode": FrameReader}
    missing = nvdec_missing() if device == "cuda" else "no CUDA"
    if missing is None:
        from inference_job.nvdec_decode import NvdecFrameReader

        readers["NVDEC"] = NvdecFrameReader
    name = torch.cuda.get_device_name() if device == "cuda" else "CPU (smoke run)"
    print(f"\n{name} | {size[0]}x{size[1]} {probe(video).fourcc}, {args.hd_frames} frames | NVDEC: {missing or 'yes'}")
    db = await e2e_available(args, tmp)
    b = args.hd_batch

    # 1. the pipeline's ceiling per reader
    got: dict[str, dict[str, list[float]]] = {k: {"decode": [], "e2e": []} for k in readers}
    for _ in range(args.repeats):
        for label, cls in readers.items():
            got[label]["decode"].append(decode_fps(video, cls))
            if db:
                got[label]["e2e"].append(await e2e_fps(NullModel(b), video, b, db, cls))
    print(f"\nceiling (null model, batch {b}), frames/s, median of {args.repeats}")
    print(row("reader", "decode", "e2e", "e2e/dec", "±", widths=(14, 10, 10, 10, 8)))
    for label, res in got.items():
        ratios = [e / d for e, d in zip(res["e2e"], res["decode"], strict=False)] or [0.0]
        e2e = f"{median(res['e2e']):.0f}" if res["e2e"] else "-"
        print(
            row(
                label,
                f"{median(res['decode']):.0f}",
                e2e,
                f"{median(ratios):.2f}",
                f"{spread(ratios):.0%}",
                widths=(14, 10, 10, 10, 8),
            )
        )

    # 2. stages at batch b, eager (fp16 autocast on CUDA), frames decoded on the host
    torch.manual_seed(0)
    eager = create_model("detectron2", random_weights=True, device=device, input_size=args.input_size)
    frames = decode_all(video)
    batches = [frames[i : i + b] for i in range(0, len(frames) - b + 1, b)]
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
    print(f"\nstages at batch {b}, frames/s of each stage alone (eager, input {args.input_size}px)")
    for label, res in got.items():
        print(row(f"decode ({label})", f"{median(res['decode']):.0f}", widths=(24, 10)))
    for label, seconds in stage.items():
        print(row(label, f"{n / seconds:.1f}", widths=(24, 10)))
    print(row("tracker", "none in this pipeline", widths=(24, 24)))
    if db:
        best = max(got, key=lambda k: median(got[k]["e2e"]))  # writes happen inside the null model's e2e
        print(row(f"decode+write ({best})", f"{median(got[best]['e2e']):.0f}", widths=(24, 10)))

    # 3. eager vs compiled, and compiled (fp16 on CUDA) vs eager fp32 on the same frames
    weights = tmp / "weights.pth"
    torch.save({"model": eager.model.state_dict()}, weights)
    compiled = create_model(
        "detectron2", weights=str(weights), device=device, input_size=args.input_size, compile_mode=args.compile
    )
    _, warm = timed(compiled.warm_up, sync, b, size[1], size[0])
    fps = {"eager": [], "compiled": []}
    for _ in range(args.repeats):
        for label, model in (("eager", eager), ("compiled", compiled)):
            _, t = timed(lambda m=model: [m.predict(x) for x in batches], sync)
            fps[label].append(n / t)
    with torch.inference_mode():
        reference = eager._postprocess(eager.model(eager._prepare_batch(batches[0])))  # fp32, no autocast
    check = match_detections(reference, compiled.predict(batches[0]))
    ratio = median([c / e for c, e in zip(fps["compiled"], fps["eager"], strict=True)])
    print(f"\neager vs compiled ({args.compile}, warm-up {warm:.0f}s) at batch {b}, frames/s")
    print(row("eager", f"{median(fps['eager']):.1f}", widths=(24, 10)))
    print(row("compiled", f"{median(fps['compiled']):.1f}", f"x{ratio:.2f} (goal 1.5)", widths=(24, 10, 18)))
    ok = check["labels_equal"] == 1.0 and check["mean_iou"] >= 0.95 and check["max_score_diff"] <= 0.02
    print(
        f"accuracy vs eager fp32: labels equal {bool(check['labels_equal'])}, mean IoU {check['mean_iou']:.3f},"
        f" max score diff {check['max_score_diff']:.3f}: {'met' if ok else 'NOT met'}"
    )
    if db:
        from tortoise import Tortoise

        await Tortoise.close_connections()
