"""`python -m tests.chaos.launcher --task-id ID`: the real job (`inference_job.__main__`) in a
process whose driver or clock a fault case changed first, as its environment says:

- `CHAOS_LOST_ACKS="2,4,5"`: those COMMITs (counted from 1, retries included) execute and
  then fail as a dropped connection would (`tests/support/lost_acks.py`); each loss is logged on
  stderr as `lost the acknowledgement of COMMIT n`;
- `CHAOS_CLOCK_SKEW_S="-20"`: this process's clock is that many seconds off
  (`videoanalysis.clock.SKEW`), as on a node whose clock drifted;
- `CHAOS_START_AT_FRAME="40"`: the job starts only once the task's committed position has
  reached that frame (or the task has ended), its imports done: a run that must meet another
  one mid-video, however fast that one goes.

Test-only: the product reads neither variable.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

LOST = "lost the acknowledgement of COMMIT {}"


def skew_clock(seconds: float) -> None:
    """This process's clock `seconds` off: `videoanalysis.clock.SKEW`, read by every local
    time of the job; an older version of the job, whose local time was `tasks.utcnow` (the
    plain system time), gets each loaded module's `utcnow` replaced instead."""
    from videoanalysis import transitions as tasks

    delta = timedelta(seconds=seconds)
    with contextlib.suppress(ImportError):
        from videoanalysis import clock

        clock.SKEW = delta
    local = getattr(tasks, "utcnow", None)
    if local is None or abs(local() - datetime.now(UTC) - delta) < timedelta(seconds=1):
        return
    for name, module in list(sys.modules.items()):
        if name.startswith(("videoanalysis.", "inference_job.")) and getattr(module, "utcnow", None) is local:
            module.utcnow = lambda: local() + delta


async def wait_for_frame(task_id: str, frame: int) -> None:
    import asyncpg

    conn = await asyncpg.connect(os.environ["VA_DATABASE_URL"])
    try:
        sql = "SELECT next_frame >= $2 OR status NOT IN ('PENDING', 'RUNNING') FROM tasks WHERE id = $1"
        while not await conn.fetchval(sql, task_id, frame):
            await asyncio.sleep(0.01)
    finally:
        await conn.close()


def main() -> int:
    from inference_job.__main__ import main as job_main

    if frame := os.environ.get("CHAOS_START_AT_FRAME"):
        asyncio.run(wait_for_frame(sys.argv[sys.argv.index("--task-id") + 1], int(frame)))
    with ExitStack() as stack:
        if skew := os.environ.get("CHAOS_CLOCK_SKEW_S"):
            skew_clock(float(skew))
        if losses := os.environ.get("CHAOS_LOST_ACKS"):
            from tests.support.lost_acks import lost_acks

            acks = stack.enter_context(lost_acks({int(n) for n in losses.split(",")}))

            async def tell() -> None:
                print(LOST.format(acks.commits), file=sys.stderr, flush=True)

            acks.then = tell
        return job_main()


if __name__ == "__main__":
    sys.exit(main())
