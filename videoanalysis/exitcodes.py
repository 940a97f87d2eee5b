"""Exit codes of `python -m inference_job`, in one place: the job returns them, the local
dispatcher, the Job's pod failure policy and the operator read them.

They say what a rerun can fix: `FAILED` and `NO_TASK` are permanent (the Job fails at once,
no back-off), `INTERRUPTED` is retriable (the next run resumes), and `SUPERSEDED` is neither
(another run owns the task). An unexpected crash exits 1, which stays retriable.
"""

from __future__ import annotations

from enum import IntEnum


class JobExit(IntEnum):
    OK = 0  # the task ended (SUCCEEDED, or it was cancelled meanwhile)
    NO_TASK = 2  # no such task, or a malformed id
    # The task was marked FAILED with its reason (bad video, unknown label, missing weights):
    # no rerun can fix it. Not 1, which is any uncaught crash of the interpreter.
    FAILED = 3
    # Another run holds or took over the task's lease: this run wrote nothing after losing it.
    # Never 0, so no Job counts a superseded run as a success.
    SUPERSEDED = 4
    # A shard's first frame was decoded at another time than its plan gives: the decoder and the
    # plan disagree on frame numbers, and nothing written would be where it belongs (task FAILED).
    FRAME_MISMATCH = 5
    # Stopped before the end (SIGTERM, database unreachable after the job's own retries): the
    # task stays RUNNING with its lease released, and the next run resumes from the last commit.
    INTERRUPTED = 75  # EX_TEMPFAIL


#: Codes after which the Job must fail at once instead of starting the same Pod again.
PERMANENT = frozenset({JobExit.FAILED, JobExit.NO_TASK, JobExit.FRAME_MISMATCH})
#: Codes after which a new run is due but the failure is not the run's: the Job's pod failure
#: policy ignores them (no back-off spent).
NOT_THE_RUNS_FAULT = frozenset({JobExit.SUPERSEDED, JobExit.INTERRUPTED})
