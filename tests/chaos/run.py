"""`make chaos`: many crashes at random frames, on a fresh PostgreSQL database and fresh
embedded servers; prints the seed, one table row per crash and a summary, and exits 1 if any
crash ended otherwise than SUCCEEDED with exactly one row per analysed frame.

    python -m tests.chaos.run --crashes 20 [--seed N] [--frames 240]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
from tortoise import Tortoise

from tests.chaos import harness as chaos
from tests.chaos import server
from tests.conftest import PG_SERVER
from tests.videos import pan_video
from videoanalysis.db import tortoise_config
from videoanalysis.models import Task, User
from videoanalysis.storage import video_uri

JOB_CASES = ("kill_job", "two_at_once", "takeover", "terminate")
SERVER_CASES = ("server", "all", "graceful")


async def run_job_case(case: str, url: str, videos: Path, owner: User, frames: int, at: int) -> chaos.Outcome:
    task = await Task.create(owner=owner, model="opencv-face", video_uri=video_uri("v.mp4"), params={})
    db, env = chaos.PgTasks(url), chaos.job_env(url, videos, VA_LEASE_WAIT_S="0.5")
    task_id = str(task.id)
    if case == "kill_job":
        return await chaos.kill_job(db, task_id, env, frames, at)
    if case == "two_at_once":
        return await chaos.two_at_once(db, task_id, env, frames)
    if case == "takeover":
        return await chaos.takeover(db, task_id, env, frames, at)
    return await chaos.terminate_connections(db, task_id, env, frames, at)


async def main(crashes: int, seed: int, frames: int) -> int:
    rng = random.Random(seed)
    print(f"chaos: {crashes} crashes, seed {seed}, {frames}-frame video, write batch {chaos.BATCH}")
    work = Path(tempfile.mkdtemp(prefix="va-chaos-"))
    name = f"va_chaos_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(f"{PG_SERVER}/test")
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_SERVER}/{name}"
    outcomes: list[chaos.Outcome] = []
    injected = 0
    started = time.monotonic()
    try:
        videos = work / "videos"
        videos.mkdir()
        video = pan_video(videos / "v.mp4", frames=frames, step=1).path
        await Tortoise.init(config=tortoise_config(url))
        await Tortoise.generate_schemas()
        owner = await User.create(email="chaos@example.com", password_hash="x")
        print(chaos.TABLE_HEAD)
        while injected < crashes:
            case = rng.choice(JOB_CASES + SERVER_CASES)
            at = rng.randrange(chaos.BATCH, frames - 3 * chaos.BATCH, chaos.BATCH)
            if case in SERVER_CASES:
                data = work / f"data-{len(outcomes)}"
                done = await server.server_crash(data, video, frames, at, case)
                shutil.rmtree(data, ignore_errors=True)
            else:
                done = [await run_job_case(case, url, videos, owner, frames, at)]
            for out in done:
                print(out.row(), flush=True)
            outcomes += done
            injected += 1
        await Tortoise.close_connections()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        shutil.rmtree(work, ignore_errors=True)
    bad = [o for o in outcomes if not o.ok]
    print(
        f"\n{injected} crashes ({len(outcomes)} tasks) in {time.monotonic() - started:.0f} s:"
        f" {len(outcomes) - len(bad)} SUCCEEDED exactly,"
        f" rows lost {sum(o.lost for o in outcomes)}, duplicated {sum(o.duplicated for o in outcomes)},"
        f" tasks stuck {sum(o.stuck for o in outcomes)}, runs resumed before the committed frame"
        f" {sum(o.went_back for o in outcomes)} (seed {seed})"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crashes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--frames", type=int, default=240)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    sys.exit(asyncio.run(main(args.crashes, seed, args.frames)))
