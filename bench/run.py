"""`make bench`: what the job's pipeline costs on the CPU, measured side by side in one run.

1. The pipeline's ceiling: the job end to end with `NullModel` (no work, no detections) beside
   the reader's decode-only frames/s of the same H.264 file, at 320×240 and 1920×1080
   (goal: e2e/decode >= 0.95).
2. Per model (opencv-face; Detectron2 with random weights at a small input) and batch size:
   the bare model's frames/s on decoded frames, the job end to end, their ratio (goal >= 0.95).
3. On PostgreSQL (`--database-url postgres://...`): rows/s of one write batch (64 and 256 rows)
   by Tortoise's bulk upsert vs COPY into a stage table (`inference_job.frame_rows`).
Repeats are interleaved (alternating order); each ratio is the median of the repeats' own
ratios, printed with its spread; a spread wider than ±5 % is reported, not claimed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import (
    NullModel,
    bare_fps,
    connect,
    decode_all,
    decode_fps,
    e2e_fps,
    make_video,
    median,
    row,
    spread,
    verdict,
)
from inference_job import model_thread

GOAL = 0.95
WIDTHS = (34, 10, 10, 10, 8, 16)


@dataclass
class Case:
    label: str
    make: Callable[[], object]  # () -> model
    frames: int
    size: tuple[int, int]
    batches: tuple[int, ...]
    results: dict[tuple[str, int], list[float]] = field(default_factory=dict)

    def add(self, kind: str, batch: int, value: float) -> None:
        self.results.setdefault((kind, batch), []).append(value)


def cases(d2_input: int, scale: float) -> list[Case]:
    from inference_job.models import create_model

    def detectron2():
        import torch

        torch.manual_seed(0)
        return create_model("detectron2", random_weights=True, device="cpu", input_size=d2_input)

    def n(frames: int) -> int:
        return max(4, round(frames * scale))

    return [
        Case("opencv-face (cpu)", lambda: create_model("opencv-face"), n(96), (320, 240), (1, 4, 8)),
        Case(f"detectron2 random {d2_input}px (cpu)", detectron2, n(24), (320, 240), (1, 4)),
    ]


def ratio_row(label: str, base: list[float], measured: list[float], digits: int) -> str:
    """Both sides' medians, the median of the repeats' own ratios, its spread and the verdict."""
    ratios = [m / b for m, b in zip(measured, base, strict=True)]
    ratio, sp = median(ratios), spread(ratios)
    fmt = f"{{:.{digits}f}}"
    return row(
        label,
        fmt.format(median(base)),
        fmt.format(median(measured)),
        f"{ratio:.2f}",
        f"{sp:.0%}",
        verdict(ratio, sp, GOAL),
        widths=WIDTHS,
    )


async def ceiling(tmp: Path, db_url: str, repeats: int, scale: float) -> None:
    """Null model end to end vs decode-only, per frame size."""
    null = NullModel(batch_size=8)
    sizes = {(320, 240): round(6000 * scale), (1920, 1080): round(300 * scale)}  # runs of 1-2 s: less noise
    videos = {s: make_video(tmp / f"ceiling-{s[0]}.mp4", max(8, n), s) for s, n in sizes.items()}
    for video in videos.values():  # warm-up, not counted: page cache, decoder libraries, first queries
        decode_fps(video)
        await e2e_fps(null, video, 8, db_url)
    got: dict[tuple[int, int], dict[str, list[float]]] = {s: {"decode": [], "e2e": []} for s in videos}
    for rep in range(repeats):
        for size, video in videos.items():
            order = ("decode", "e2e") if rep % 2 == 0 else ("e2e", "decode")
            for kind in order:
                value = decode_fps(video) if kind == "decode" else await e2e_fps(null, video, 8, db_url)
                got[size][kind].append(value)
    print(f"\n1. pipeline ceiling: null model end to end vs the reader alone, batch 8, H.264, {repeats} repeats")
    print(row("video", "decode", "e2e", "e2e/dec", "±", "goal >= 0.95", widths=WIDTHS))
    for size, res in got.items():
        print(ratio_row(f"{size[0]}x{size[1]}, {sizes[size]} frames", res["decode"], res["e2e"], digits=0))


async def models(tmp: Path, db_url: str, repeats: int, d2_input: int, scale: float) -> None:
    loaded = []
    for case in cases(d2_input, scale):
        video = make_video(tmp / f"model-{len(loaded)}.mp4", case.frames, case.size)
        loaded.append((case, model_thread.call(case.make), video, decode_all(video)))
    for case, model, _video, frames in loaded:  # warm-up, not counted
        model_thread.call(model.predict, frames[: max(case.batches)])
    for rep in range(repeats):
        for case, model, video, frames in loaded:
            for b in case.batches:
                if rep % 2:  # alternate the order so drift in machine load hits both sides
                    case.add("e2e", b, await e2e_fps(model, video, b, db_url))
                case.add("bare", b, bare_fps(model, frames, b))
                if not rep % 2:
                    case.add("e2e", b, await e2e_fps(model, video, b, db_url))
    print(f"\n2. models: bare (decoded frames in memory) vs the job end to end, tracker none, {repeats} repeats")
    print(row("model, batch", "bare", "e2e", "e2e/bare", "±", "goal >= 0.95", widths=WIDTHS))
    for case, *_ in loaded:
        for b in case.batches:
            print(ratio_row(f"{case.label}, B={b}", case.results["bare", b], case.results["e2e", b], digits=1))


async def writes(repeats: int, rows: int = 64, tasks: int = 20) -> None:
    """One write batch (`rows` frames of 3 detections) upserted by Tortoise vs by COPY."""
    import time

    from tortoise.transactions import in_transaction

    from inference_job.frame_rows import copy_frame_rows
    from inference_job.pipeline import FrameResult
    from videoanalysis.tables import FrameDetections, Task, User

    objects = [{"label": "person", "score": 0.9, "box": [10.0, 20.0, 110.5, 220.0]}] * 3
    batch = [FrameResult(i, i / 25, objects) for i in range(rows)]
    user, _ = await User.get_or_create(email="bench@example.com", defaults={"password_hash": "-"})
    ids = [(await Task.create(owner=user, model="null", video_uri="file:///x")).id for _ in range(tasks)]

    async def orm(task_id) -> None:
        async with in_transaction() as conn:
            await FrameDetections.bulk_create(
                [
                    FrameDetections(
                        task_id=task_id, frame_index=r.frame_index, timestamp=r.timestamp_s, objects=r.objects
                    )
                    for r in batch
                ],
                on_conflict=("task_id", "frame_index"),
                update_fields=("timestamp", "objects"),
                using_db=conn,
            )

    async def copy(task_id) -> None:
        async with in_transaction() as conn:
            await copy_frame_rows(conn, task_id, batch)

    got: dict[str, list[float]] = {"orm": [], "copy": []}
    for rep in range(repeats):
        for name, fn in (("orm", orm), ("copy", copy))[:: 1 if rep % 2 else -1]:
            start = time.perf_counter()
            for task_id in ids:
                await fn(task_id)
            got[name].append(rows * len(ids) / (time.perf_counter() - start))
    await Task.filter(id__in=ids).delete()
    ratios = [c / o for c, o in zip(got["copy"], got["orm"], strict=True)]
    print(f"\n3. writes: {rows}-frame upserts on PostgreSQL, rows/s, {repeats} repeats")
    print(row("bulk upsert (Tortoise)", f"{median(got['orm']):.0f}", widths=WIDTHS))
    print(row("COPY + INSERT ON CONFLICT", f"{median(got['copy']):.0f}", widths=WIDTHS))
    print(row("COPY / Tortoise", f"{median(ratios):.2f}", f"±{spread(ratios):.0%}", widths=WIDTHS))


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--database-url", default="", help="Tortoise URL for the e2e writes (default: a fresh SQLite file)"
    )
    parser.add_argument("--d2-input", type=int, default=192, help="Detectron2 shortest edge")
    parser.add_argument("--scale", type=float, default=1.0, help="scale the frame counts (0.2: a quick check)")
    parser.add_argument("--only", choices=("ceiling", "models", "writes"), help="run one part only")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db_url = args.database_url or f"sqlite://{tmp}/bench.sqlite3"
        await connect(db_url)
        kind = "PostgreSQL" if db_url.startswith(("postgres", "asyncpg")) else "SQLite"
        print(f"e2e writes to {kind}; frames/s are medians; ± is the half-range of the repeats' ratios")
        if args.only in (None, "ceiling"):
            await ceiling(Path(tmp), db_url, args.repeats, args.scale)
        if args.only in (None, "models"):
            await models(Path(tmp), db_url, args.repeats, args.d2_input, args.scale)
        if args.only in (None, "writes") and kind == "PostgreSQL":
            for rows in (64, 256):  # the earlier and the current VA_WRITE_BATCH_FRAMES
                await writes(args.repeats, rows)
        from tortoise import Tortoise

        await Tortoise.close_connections()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
