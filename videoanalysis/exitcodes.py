"""Exit codes of `python -m inference_job`, in one place: the job returns them, the local
dispatcher (and a Job's pod failure policy) reads them."""

from __future__ import annotations

from enum import IntEnum


class JobExit(IntEnum):
    OK = 0  # the task ended (SUCCEEDED, or it was cancelled meanwhile)
    FAILED = 1  # the task was marked FAILED with its reason
    NO_TASK = 2  # no such task, or a malformed id
    # Another run holds or took over the task's lease: this run wrote nothing after losing it.
    # Never 0, so no Job counts a superseded run as a success.
    SUPERSEDED = 4
    # Stopped before the end (SIGTERM, database unreachable): the task stays RUNNING with its
    # lease released, and the next run resumes from the last committed frame.
    INTERRUPTED = 75  # EX_TEMPFAIL
