"""Faults that are not crashes, each against the real job as a subprocess on PostgreSQL:

- COMMITs whose acknowledgement is lost (executed, then the connection drops): the batch
  must count once;
- a run on a node whose clock is 20 s off holds the lease while a run on a node skewed the
  other way tries to take the task over: the lease must hold (it is stamped and compared on
  the database's clock), the skewed run finish alone;
- a video URL that trickles: the task must end FAILED with the reason within the test-sized
  limits, nothing written;
- a model that hangs (loading, or after some batches): the task must end FAILED with the
  stall's reason, only whole batches committed.

Each returns an `Outcome` (harness.py). The first two are compared by the caller with the
uninterrupted run; the last two compare themselves with what they must leave.
"""

from __future__ import annotations

import asyncio
import re
import time

from tests.chaos.aggregate import Aggregate
from tests.chaos.harness import Outcome, PgTasks, finish, finish_logged, start_job
from tests.chaos.launcher import LOST
from tests.support.https_videos import Trickle, VideoServer
from videoanalysis.exitcodes import JobExit

LAUNCHER = "tests.chaos.launcher"
SCRIPTED = "tests.support.scripted_model"
LOST_ACK = re.compile(LOST.format(r"(\d+)"))
#: How long a job may take to start (imports, first connection) on a busy two-core machine.
STARTUP_S = 10.0

# A trickling URL, test-sized: at least 1 KiB/s over half a second, within `deadline_s`.
TRICKLES = {
    # one byte every 50 ms: each connection cut after its window, given up after 4 of them
    "rate": (
        Trickle(head=64, step=1, every_s=0.05),
        6.0,
        r"the video URL kept failing after 4 attempts: the server sent \d+ bytes in 0.5 s,"
        r" below the minimum of 1 KiB/s",
    ),
    # 80 KiB/s, well above the minimum, for a video that needs about 4 s of it
    "deadline": (Trickle(head=64, step=4096, every_s=0.05), 1.5, r"the download did not finish within 1.5 s"),
}
# A hanging model, test-sized: stalled after 1 s without a batch, a load given 1.5 s.
STALL_LIMITS = {"VA_STALL_MIN_S": "1", "VA_STALL_FACTOR": "3", "VA_MODEL_LOAD_DEADLINE_S": "1.5"}
HANGS = {
    "batch": r"the analysis made no progress for [\d.]+ s \(expected a batch every ~[\d.]+ s\)(: .+)?",
    "load": r"the model did not load within 1.5 s \(VA_MODEL_LOAD_DEADLINE_S\)",
}
#: The scripted model's parameters: one frame a model call, no tracker (it finds nothing).
SCRIPTED_PARAMS = {"tracker": "none", "batch_size": 1}


async def lost_acknowledgements(
    db: PgTasks, task_id: str, env: dict[str, str], frames: int, losses: set[int]
) -> Outcome:
    """The COMMITs numbered `losses` (from 1, the lease's included) execute and then fail as a
    dropped connection; the same run retries and finishes."""
    proc = await start_job(task_id, {**env, "CHAOS_LOST_ACKS": ",".join(map(str, sorted(losses)))}, LAUNCHER)
    code, resumed, stderr = await finish_logged(proc)
    lost = [int(n) for n in LOST_ACK.findall(stderr)]
    out = await db.outcome(f"COMMIT acknowledgements lost ({','.join(map(str, lost)) or 'none'})", task_id, frames, 0)
    out.exits, out.resumed_at = [code], resumed
    if not lost:
        out.problems.append(f"no COMMIT of {sorted(losses)} happened: nothing was tested")
    return out


async def skewed_clock(db: PgTasks, task_id: str, env: dict[str, str], frames: int, at: int, seconds: float) -> Outcome:
    """A run whose clock is `seconds` off holds the lease (TTL 4 s); at frame `at` a run whose
    clock is off the other way tries to take the task over, once, without waiting."""
    short = {**env, "VA_LEASE_TTL_S": "4"}
    holder = await start_job(task_id, {**short, "CHAOS_CLOCK_SKEW_S": str(seconds)}, LAUNCHER)
    taker_env = {**short, "VA_LEASE_WAIT_S": "0", "CHAOS_CLOCK_SKEW_S": str(-seconds), "CHAOS_START_AT_FRAME": str(at)}
    taker = await start_job(task_id, taker_env, LAUNCHER)
    (code, resumed), (taker_code, _) = await finish(holder), await finish(taker)
    attempt = await db.one("SELECT lease_attempt FROM tasks WHERE id = $1", task_id)
    out = await db.outcome(f"clock {seconds:+.0f} s, a {-seconds:+.0f} s one tries to take over", task_id, frames, 0)
    out.exits, out.resumed_at = [code, taker_code], resumed
    if taker_code == JobExit.OK and attempt == 1:
        out.problems.append("the taker started after the skewed run had ended: nothing was tested")
    elif taker_code != JobExit.SUPERSEDED or attempt != 1:
        out.problems.append(
            f"the lease was taken while live: the taker exited {taker_code} (expected {JobExit.SUPERSEDED}),"
            f" lease attempt {attempt} (expected 1)"
        )
    return out


async def trickling_url(
    db: PgTasks, task_id: str, env: dict[str, str], server: VideoServer, name: str, mode: str
) -> Outcome:
    """The task's video URL (`name` on `server`) trickles as `TRICKLES[mode]` says."""
    trickle, deadline_s, reason = TRICKLES[mode]
    server.trickle[name] = trickle
    url_env = {
        "VA_VIDEO_URL_ALLOWED_NETWORKS": "127.0.0.1",
        "VA_CA_BUNDLE": str(server.ca_bundle),
        "VA_VIDEO_URL_MIN_BYTES_PER_SECOND": "1024",
        "VA_VIDEO_URL_RATE_WINDOW_SECONDS": "0.5",
        "VA_VIDEO_URL_DEADLINE_SECONDS": str(deadline_s),
        "VA_VIDEO_URL_MAX_BYTES": str(64 * 1024**2),
    }
    limit_s = deadline_s + STARTUP_S
    code, took = await _timed(await start_job(task_id, {**env, **url_env}), limit_s)
    out = await db.outcome(f"video URL trickling ({mode})", task_id, 0, 0)
    out.exits, out.expected_status = [code], "FAILED"
    await _ended_with(db, task_id, out, reason, took, limit_s)
    return out.compare(Aggregate.untouched())


async def hanging_model(
    db: PgTasks, task_id: str, env: dict[str, str], clean: Aggregate, at: int, mode: str
) -> Outcome:
    """The scripted model (`SCRIPTED_PARAMS`) hangs while loading (`mode` "load") or in the
    batch after `at` frames ("batch"). `clean` is its uninterrupted run: what is committed must
    be that run's first frames, whole batches only."""
    hang = {"SCRIPTED_HANG_LOAD": "1"} if mode == "load" else {"SCRIPTED_HANG_AFTER": str(at)}
    limit_s = 1.5 + STARTUP_S
    code, took = await _timed(await start_job(task_id, {**env, **STALL_LIMITS, **hang}, SCRIPTED), limit_s)
    out = await db.outcome(f"model hanging ({mode})", task_id, 0, 0)
    out.exits, out.expected_status = [code], "FAILED"
    assert out.aggregate is not None
    committed = out.aggregate.task["next_frame"]
    out.expected_rows = committed
    if committed > (0 if mode == "load" else at):
        out.problems.append(f"committed up to frame {committed}, past the hang at frame {at}")
    await _ended_with(db, task_id, out, HANGS[mode], took, limit_s)
    return out.compare(clean.prefix(committed))


async def _timed(proc: asyncio.subprocess.Process, limit_s: float) -> tuple[int | None, float]:
    """The exit code of a job that must end by itself within `limit_s` (None: killed at twice
    that) and how long it took."""
    started = time.monotonic()
    try:
        code, _ = await finish(proc, timeout=2 * limit_s)
    except AssertionError:  # did not exit: killed
        code = None
    return code, time.monotonic() - started


async def _ended_with(db: PgTasks, task_id: str, out: Outcome, reason: str, took: float, limit_s: float) -> None:
    """The problems of a run that had to end its task FAILED with `reason` within `limit_s`."""
    error, holder = await db.row("SELECT error, lease_holder FROM tasks WHERE id = $1", task_id)
    if out.exits != [JobExit.FAILED]:
        out.problems.append(f"exit {out.exits} (expected [{JobExit.FAILED}])")
    if not re.fullmatch(reason, error or ""):
        out.problems.append(f"reason {error!r} (expected /{reason}/)")
    if out.exits == [None]:
        out.problems.append(f"the run did not end by itself: killed after {took:.0f} s")
    elif took > limit_s:
        out.problems.append(f"the run took {took:.1f} s, past the {limit_s:g} s its limits allow")
    if holder is not None:
        out.problems.append(f"the lease is still held by {holder}")
