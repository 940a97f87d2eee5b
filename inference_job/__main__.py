"""`python -m inference_job --task-id ID`: the entry point of the Kubernetes Job and of the
local dispatcher. Exit codes are `videoanalysis.exitcodes.JobExit`: 0 on success (or when the
task had already ended), 2 for no such task, 3 on a failure whose reason is in the task row, 4
when another run holds or took the task's lease, 75 when stopped early (the next run resumes);
1 is an uncaught crash.

`--shards K` (K > 1) runs one shard of the task cut into K, the index from `--shard` or an
Indexed Job's `JOB_COMPLETION_INDEX`; without either the run refuses to start (exit 2)."""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import os
import signal
import sys
import uuid
from collections.abc import Mapping

from pydantic import ValidationError

from inference_job.config import JobSettings
from inference_job.job import run_task
from inference_job.shard_run import ShardArgs, run_shard
from videoanalysis.db import close_db, init_db
from videoanalysis.exitcodes import JobExit
from videoanalysis.settings import CoreSettings
from videoanalysis.task_status import TaskStatus
from videoanalysis.transitions import transition


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m inference_job", description="Analyse the video of one task.")
    parser.add_argument("--task-id", required=True, help="UUID of the task to analyse")
    parser.add_argument(
        "--shards", type=int, default=1, help="the task is cut into this many shards; this run analyses one of them"
    )
    parser.add_argument(
        "--shard", type=int, default=None, help="which shard, from 0 (default: $JOB_COMPLETION_INDEX, an Indexed Job's)"
    )
    return parser.parse_args(argv)


def shard_of(args: argparse.Namespace, environ: Mapping[str, str]) -> ShardArgs | None:
    """The shard this run analyses (None: the whole task); ValueError when it is not said."""
    if args.shards < 1:
        raise ValueError(f"--shards must be at least 1, got {args.shards}")
    if args.shards == 1 and args.shard in (None, 0):
        return None
    index = args.shard
    if index is None:
        raw = environ.get("JOB_COMPLETION_INDEX", "")
        if not raw.isdigit():
            raise ValueError(f"--shards {args.shards} needs --shard or JOB_COMPLETION_INDEX (an Indexed Job's Pod)")
        index = int(raw)
    if not 0 <= index < args.shards:
        raise ValueError(f"shard {index} is not one of 0..{args.shards - 1}")
    return ShardArgs(index, args.shards)


async def _main(task_id: uuid.UUID, shard: ShardArgs | None = None) -> int:
    try:
        settings = JobSettings()
    except ValidationError as exc:
        return await _fail_on_bad_settings(task_id, exc)
    await init_db(settings)
    main = asyncio.current_task()
    if main is not None:  # SIGTERM (a graceful stop, a preempted Pod): release the lease and exit
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main.cancel)
    try:
        return await run_task(task_id, settings, functools.partial(run_shard, shard=shard) if shard else None)
    finally:
        await close_db()


async def _fail_on_bad_settings(task_id: uuid.UUID, exc: ValidationError) -> int:
    """A bad VA_ variable of the job: say which, on stderr and (if the database settings
    themselves are fine) in the task row."""
    names = ", ".join(f"VA_{str(e['loc'][0]).upper()}: {e['msg']}" for e in exc.errors())
    reason = f"invalid job settings ({names})"
    print(reason, file=sys.stderr)
    try:
        await init_db(CoreSettings())
    except Exception:
        return JobExit.FAILED
    try:
        await transition(task_id, TaskStatus.FAILED, error=reason)
    finally:
        await close_db()
    return JobExit.FAILED


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        task_id = uuid.UUID(args.task_id)
    except ValueError:
        print(f"--task-id must be a UUID, got {args.task_id!r}", file=sys.stderr)
        return JobExit.NO_TASK
    try:
        shard = shard_of(args, os.environ)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return JobExit.NO_TASK
    return asyncio.run(_main(task_id, shard))


if __name__ == "__main__":
    sys.exit(main())
