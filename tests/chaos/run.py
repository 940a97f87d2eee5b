"""`make chaos`: many crashes and faults at random frames, on a fresh PostgreSQL database and
fresh embedded servers. First one uninterrupted run of the video (and one of the scripted
model, for the hanging one), whose aggregate every case is compared with field by field; then
every case once in a random order, then random ones until `--crashes` are done. Prints the
seed, one table row per task, a summary, and why each bad one is bad; exits 1 if any task
ended otherwise than expected (SUCCEEDED with exactly the clean run's counters, tracks and
frame rows, or FAILED with its reason and nothing half-written).

    python -m tests.chaos.run --crashes 20 [--seed N] [--frames 240] [--cases kill_job,lost_acks]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import random
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from tortoise import Tortoise

from tests.chaos import faults, server
from tests.chaos import harness as chaos
from tests.chaos.aggregate import Aggregate, read_pg
from tests.support.database import PG_SERVER
from tests.support.https_videos import VideoServer, https_video_server
from tests.support.videos import pan_video
from videoanalysis.db import tortoise_config
from videoanalysis.storage import video_uri
from videoanalysis.tables import Task, User

JOB_CASES = ("kill_job", "two_at_once", "takeover", "terminate")
SERVER_CASES = ("server", "all", "graceful")
FAULT_CASES = ("lost_acks", "clock", "trickle", "hang")
CASES = JOB_CASES + SERVER_CASES + FAULT_CASES
#: The job's stall detection and its scripted model: the hanging-model case needs both.
HANG_READY = all(importlib.util.find_spec(m) for m in ("inference_job.watchdog", faults.SCRIPTED))


@dataclass
class Suite:
    url: str
    work: Path
    video: Path
    frames: int
    owner: User
    urls: VideoServer
    clean: Aggregate | None = None
    clean_scripted: Aggregate | None = None

    async def task(self, model: str = "opencv-face", uri: str | None = None, **params: object) -> str:
        task = await Task.create(owner=self.owner, model=model, video_uri=uri or video_uri("v.mp4"), params=params)
        return str(task.id)

    def env(self, **extra: str) -> dict[str, str]:
        return chaos.job_env(self.url, self.video.parent, VA_LEASE_WAIT_S="0.5", **extra)

    async def clean_run(self, model: str = "opencv-face", module: str = "inference_job", **params: object) -> Aggregate:
        task_id = await self.task(model, **params)
        code, _ = await chaos.finish(await chaos.start_job(task_id, self.env(), module))
        if code != 0:
            raise SystemExit(f"the uninterrupted run of {model} exited {code}")
        return await read_pg(self.url, task_id)


async def run_case(suite: Suite, case: str, at: int, rng: random.Random) -> list[chaos.Outcome]:
    db, frames = chaos.PgTasks(suite.url), suite.frames
    assert suite.clean is not None
    if case in SERVER_CASES:
        data = suite.work / f"data-{uuid.uuid4().hex[:6]}"
        done = await server.server_crash(data, suite.video, frames, at, case)
        shutil.rmtree(data, ignore_errors=True)
        return [out.compare(suite.clean) for out in done]
    if case == "trickle":
        task_id = await suite.task(uri=suite.urls.url("v.mp4"))
        return [
            await faults.trickling_url(db, task_id, suite.env(), suite.urls, "v.mp4", rng.choice(["rate", "deadline"]))
        ]
    if case == "hang":
        assert suite.clean_scripted is not None
        task_id = await suite.task("scripted", **faults.SCRIPTED_PARAMS)
        mode = rng.choice(["batch", "batch", "load"])
        return [await faults.hanging_model(db, task_id, suite.env(), suite.clean_scripted, at, mode)]
    task_id, env = await suite.task(), suite.env()
    if case == "kill_job":
        out = await chaos.kill_job(db, task_id, env, frames, at)
    elif case == "two_at_once":
        out = await chaos.two_at_once(db, task_id, env, frames)
    elif case == "takeover":
        out = await chaos.takeover(db, task_id, env, frames, at)
    elif case == "terminate":
        out = await chaos.terminate_connections(db, task_id, env, frames, at)
    elif case == "lost_acks":
        first, run = rng.randint(1, 8), rng.randint(1, 3)  # COMMIT 1 is the lease's
        losses = set(range(first, first + run)) | ({first + run + rng.randint(1, 10)} if rng.random() < 0.5 else set())
        out = await faults.lost_acknowledgements(db, task_id, env, frames, losses)
    else:  # "clock": met at a frame early enough for the taker to start before the holder ends
        out = await faults.skewed_clock(db, task_id, env, frames, min(at, frames // 2), rng.choice([20.0, -20.0]))
    return [out.compare(suite.clean)]


def schedule(cases: list[str], crashes: int, rng: random.Random) -> list[str]:
    """Every case once in a random order, then random ones, `crashes` in all (at least every case)."""
    first = rng.sample(cases, len(cases))
    return first + [rng.choice(cases) for _ in range(crashes - len(first))]


async def main(crashes: int, seed: int, frames: int, cases: list[str]) -> int:
    rng = random.Random(seed)
    if "hang" in cases and not HANG_READY:
        print("hang: skipped (waits for the job's stall detection)")
        cases = [c for c in cases if c != "hang"]
    print(f"chaos: {crashes} crashes, seed {seed}, {frames}-frame video, write batch {chaos.BATCH}")
    work = Path(tempfile.mkdtemp(prefix="va-chaos-"))
    name = f"va_chaos_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(f"{PG_SERVER}/test")
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_SERVER}/{name}"
    outcomes: list[chaos.Outcome] = []
    started = time.monotonic()
    try:
        videos = work / "videos"
        videos.mkdir()
        video = pan_video(videos / "v.mp4", frames=frames, step=1).path
        await Tortoise.init(config=tortoise_config(url))
        await Tortoise.generate_schemas()
        owner = await User.create(email="chaos@example.com", password_hash="x")
        with https_video_server(videos, work) as urls:
            suite = Suite(url, work, video, frames, owner, urls)
            suite.clean = await suite.clean_run()
            print(f"uninterrupted run: {suite.clean.summary()}")
            if not suite.clean.tracks:
                raise SystemExit("the uninterrupted run found no tracks: the comparison would test little")
            if "hang" in cases:
                suite.clean_scripted = await suite.clean_run("scripted", faults.SCRIPTED, **faults.SCRIPTED_PARAMS)
            print(chaos.TABLE_HEAD)
            for case in schedule(cases, crashes, rng):
                at = rng.randrange(chaos.BATCH, frames - 3 * chaos.BATCH, chaos.BATCH)
                done = await run_case(suite, case, at, rng)
                for out in done:
                    print(out.row(), flush=True)
                outcomes += done
        await Tortoise.close_connections()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        shutil.rmtree(work, ignore_errors=True)
    return summary(outcomes, max(crashes, len(cases)), seed, time.monotonic() - started)


def summary(outcomes: list[chaos.Outcome], injected: int, seed: int, seconds: float) -> int:
    bad = [o for o in outcomes if not o.ok]
    print(
        f"\n{injected} crashes ({len(outcomes)} tasks) in {seconds:.0f} s:"
        f" {len(outcomes) - len(bad)} ended as expected,"
        f" rows lost {sum(o.lost for o in outcomes)}, duplicated {sum(o.duplicated for o in outcomes)},"
        f" tasks stuck {sum(o.stuck for o in outcomes)}, runs resumed before the committed frame"
        f" {sum(o.went_back for o in outcomes)}, counters/tracks/frames equal to the clean run"
        f" {sum(o.equal for o in outcomes)}/{len(outcomes)} (seed {seed})"
    )
    for out in bad:
        print(out.report())
    return 1 if bad else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crashes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--frames", type=int, default=240)
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {', '.join(CASES)}")
    args = parser.parse_args()
    chosen = args.cases.split(",")
    if unknown := set(chosen) - set(CASES):
        parser.error(f"unknown cases: {', '.join(sorted(unknown))}")
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    sys.exit(asyncio.run(main(args.crashes, seed, args.frames, chosen)))
