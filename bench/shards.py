"""`make bench-shards`: one clip of about two minutes analysed whole and in two shards on this
machine's CPU, side by side in one run, each run the job as the local dispatcher starts it
(`python -m inference_job`, the shards as `--shards 2 --shard i` processes at once) on a fresh
embedded SQLite database (or `--database-url`).

Runs, each a fresh task (opencv-face, the default tracker):
- whole, threads unconstrained: the best one process does on this machine;
- whole, pinned to one core (`taskset`), and two shards pinned to a core each: the scaling of
  shards when each gets what one process got (goal: two shards at least 1.7 times one);
- two shards unpinned.
Then the overheads against the pinned whole run: the plan (the packet scan, timed apart), the
pre-roll frames analysed twice, and the merge (the task's end after its last shard's). The
detections of every sharded run are checked equal to the whole run's, frame by frame.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.tracking_scenes import FPS, render, scenes
from inference_job.shard_run import _make_plan
from tests.support.videos import reencoded
from videoanalysis.tables import FrameDetections, Task, TaskShard, User
from videoanalysis.task_status import TaskStatus

ROOT = Path(__file__).resolve().parent.parent
GOALS = "goals: 2 shards >= 1.7x one run at one core each; plan + pre-roll + merge <= 10 % of one run"


@dataclass
class Result:
    name: str
    wall_s: float
    frames: int
    merge_s: float = 0.0
    preroll_frames: int = 0
    same: bool = True


def clip(folder: Path, seconds: float) -> Path:
    """The tracking benchmark's three scenes over and over, as one H.264 file with an IDR picture
    every 2 s (a camera's usual GOP), about `seconds` long."""
    parts = [render(scene, folder / f"{scene.name}.avi") and folder / f"{scene.name}.avi" for scene in scenes()]
    frames = sum(scene.frames for scene in scenes())
    loops = math.ceil(seconds * FPS / frames)
    return reencoded(parts * loops, folder / "clip.mp4", fps=int(FPS), gop=int(2 * FPS))


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


class Bench:
    def __init__(self, database_url: str, videos: Path, data: Path) -> None:
        self.database_url, self.videos, self.data = database_url, videos, data

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VA_")}
        env.update(
            VA_DATABASE_URL=self.database_url,
            VA_VIDEOS_DIR=str(self.videos),
            VA_DATA_DIR=str(self.data),
            VA_DEVICE="cpu",
            PYTHONPATH=str(ROOT),
        )
        return env

    async def run(self, name: str, shards: int, pin: bool) -> Result:
        owner, _ = await User.get_or_create(email="bench-shards@example.com", defaults={"password_hash": "-"})
        task = await Task.create(owner=owner, model="opencv-face", video_uri="videos://clip.mp4", video_name="clip.mp4")
        commands, cores = [], os.cpu_count() or 1
        for i in range(shards):
            cmd = [sys.executable, "-m", "inference_job", "--task-id", str(task.id)]
            if shards > 1:
                cmd += ["--shards", str(shards), "--shard", str(i)]
            commands.append((["taskset", "-c", str(i % cores)] if pin else []) + cmd)
        started = time.perf_counter()
        procs = [
            await asyncio.create_subprocess_exec(*c, cwd=ROOT, env=self.env(), stderr=asyncio.subprocess.PIPE)
            for c in commands
        ]
        errors = [(await p.communicate())[1].decode(errors="replace") for p in procs]
        wall = time.perf_counter() - started
        if any(p.returncode for p in procs):
            raise RuntimeError(f"{name}: exit codes {[p.returncode for p in procs]}\n{errors[-1][-2000:]}")
        task = await Task.get(id=task.id)
        if task.status != TaskStatus.SUCCEEDED:
            raise RuntimeError(f"{name}: the task ended {task.status}: {task.error}")
        result = Result(name, wall, task.frames_done)
        rows = await TaskShard.filter(task_id=task.id).order_by("index")
        if rows:
            assert task.finished_at is not None
            result.merge_s = (task.finished_at - max(r.finished_at for r in rows if r.finished_at)).total_seconds()
            result.preroll_frames = sum(r.start_frame - r.preroll_start for r in rows)
        self.last = task
        return result

    async def detections(self, task: Task) -> list:
        rows = (
            await FrameDetections.filter(task_id=task.id).order_by("frame_index").values_list("frame_index", "objects")
        )
        return [(i, [{k: v for k, v in o.items() if k != "track_id"} for o in objects]) for i, objects in rows]


async def main_async(args: argparse.Namespace) -> int:
    from bench.common import connect

    with tempfile.TemporaryDirectory(prefix="bench-shards-") as tmp:
        folder = Path(tmp)
        (folder / "videos").mkdir()
        (folder / "data").mkdir()
        video = clip(folder, args.seconds)
        shutil.move(video, folder / "videos" / "clip.mp4")
        video = folder / "videos" / "clip.mp4"
        url = args.database_url or f"sqlite://{folder / 'data' / 'bench.sqlite3'}"
        await connect(url)
        bench = Bench(url, folder / "videos", folder / "data")
        started = time.perf_counter()
        plan = _make_plan(video, 2, 1)
        plan_s = time.perf_counter() - started
        results, reference = [], None
        for name, shards, pin in (
            ("whole, unconstrained", 1, False),
            ("whole, 1 core", 1, True),
            ("2 shards, 1 core each", 2, True),
            ("2 shards, unconstrained", 2, False),
        ):
            result = await bench.run(name, shards, pin)
            got = await bench.detections(bench.last)
            if reference is None:
                reference = got
            result.same = got == reference
            results.append(result)
            print(f"  {name}: {result.wall_s:.1f} s", file=sys.stderr)
        from tortoise import Tortoise

        await Tortoise.close_connections()
    best, one, two_pinned, two = results
    load = os.getloadavg()
    print(f"bench-shards: {cpu_model()}, {os.cpu_count()} cores; {plan['frames']} frames at {FPS:g} fps")
    print(f"plan: {plan['library']}, cuts {[s['start'] for s in plan['shards']]}, scan + plan {plan_s:.2f} s")
    print(f"{'run':<26} {'wall s':>8} {'frames/s':>9} {'same':>5}")
    for r in results:
        print(f"{r.name:<26} {r.wall_s:8.1f} {r.frames / r.wall_s:9.1f} {'yes' if r.same else 'NO':>5}")
    print(f"speed-up, 2 shards at 1 core each vs whole at 1 core: {one.wall_s / two_pinned.wall_s:.2f}x")
    print(f"speed-up, 2 shards vs the best whole run (unconstrained both): {best.wall_s / two.wall_s:.2f}x")
    overhead = plan_s + two_pinned.merge_s + two_pinned.preroll_frames / max(one.frames / one.wall_s, 1e-9)
    print(
        f"overheads vs the whole 1-core run: plan {plan_s:.2f} s, pre-roll {two_pinned.preroll_frames} frames"
        f" ({100 * two_pinned.preroll_frames / one.frames:.1f} % of the frames), merge {two_pinned.merge_s:.2f} s;"
        f" together {100 * overhead / one.wall_s:.1f} % of the run"
    )
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(GOALS)
    return 0 if all(r.same for r in results) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="length of the clip")
    parser.add_argument("--database-url", default="", help="default: a fresh embedded SQLite file")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
