"""`make bench`: bare-model vs end-to-end job frames/s on the CPU, side by side in one run.

For opencv-face and for Detectron2 (random weights, small input) it prints the bare model's
frames/s at the pipeline's batch size, the job pipeline's frames/s (decode in the reader
thread, batching, filters, batched DB writes and progress), their ratio (goal >= 0.90), and
batched vs one-frame-at-a-time frames/s. Repeats are interleaved; medians are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import bare_fps, connect, decode_all, e2e_fps, make_video, median, row


@dataclass
class Case:
    label: str
    make: object  # () -> model
    frames: int
    size: tuple[int, int]
    batch: int
    results: dict[str, list[float]] = field(default_factory=lambda: {"bare": [], "one": [], "e2e": []})


def cases(d2_input: int) -> list[Case]:
    from inference_job.models import create_model

    def detectron2():
        import torch

        torch.manual_seed(0)
        return create_model("detectron2", random_weights=True, device="cpu", input_size=d2_input)

    return [
        Case("opencv-face (cpu)", lambda: create_model("opencv-face"), 120, (320, 240), 8),
        Case(f"detectron2 random {d2_input}px (cpu)", detectron2, 12, (320, 240), 4),
    ]


async def measure(case: Case, model, video: Path, frames, db_url: str, flip: bool) -> None:
    """One repeat; `flip` alternates the order so drift in machine load hits both sides."""
    if flip:
        case.results["e2e"].append(await e2e_fps(model, video, case.batch, db_url))
    case.results["bare"].append(bare_fps(model, frames, case.batch))
    case.results["one"].append(bare_fps(model, frames, 1))
    if not flip:
        case.results["e2e"].append(await e2e_fps(model, video, case.batch, db_url))


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--database-url", default="", help="Tortoise URL for the e2e writes (default: a fresh SQLite file)"
    )
    parser.add_argument("--d2-input", type=int, default=192, help="Detectron2 shortest edge")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db_url = args.database_url or f"sqlite://{tmp}/bench.sqlite3"
        await connect(db_url)
        loaded = []
        for case in cases(args.d2_input):
            video = make_video(Path(tmp) / f"{len(loaded)}.mp4", case.frames, case.size)
            loaded.append((case, case.make(), video, decode_all(video)))
        for case, model, _video, frames in loaded:  # warm-up, not counted
            model.predict(frames[: case.batch])
        for rep in range(args.repeats):
            for case, model, video, frames in loaded:
                await measure(case, model, video, frames, db_url, flip=rep % 2 == 1)
        from tortoise import Tortoise

        await Tortoise.close_connections()
    kind = "PostgreSQL" if db_url.startswith(("postgres", "asyncpg")) else "SQLite"
    print(
        f"\nframes/s, median of {args.repeats} interleaved repeats; e2e writes to {kind}; "
        "e2e/bare is the median of the repeats' own ratios"
    )
    print(row("model", "bare@B", "e2e@B", "e2e/bare", "bare@1", "B/1", "B", widths=(32, 10, 10, 10, 10, 8, 4)))
    ok = True
    for case, *_ in loaded:
        bare, one, e2e = (median(case.results[k]) for k in ("bare", "one", "e2e"))
        # the ratio of each repeat's own pair, so load drifting between repeats cancels out
        ratio = median([e / b for e, b in zip(case.results["e2e"], case.results["bare"], strict=False)])
        ok &= ratio >= 0.90
        print(
            row(
                case.label,
                f"{bare:.1f}",
                f"{e2e:.1f}",
                f"{ratio:.2f}",
                f"{one:.1f}",
                f"{bare / one:.2f}",
                case.batch,
                widths=(32, 10, 10, 10, 10, 8, 4),
            )
        )
    print("goal e2e/bare >= 0.90:", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
