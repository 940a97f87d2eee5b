"""Which shard a run analyses: `--shard`, or an Indexed Job's JOB_COMPLETION_INDEX; a run told
`--shards K` with neither refuses to start."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from inference_job.__main__ import parse_args, shard_of
from inference_job.shard_run import ShardArgs
from tests.support.paths import ROOT
from videoanalysis.exitcodes import JobExit

TASK = ["--task-id", str(uuid.uuid4())]


def test_one_shard_is_the_whole_task() -> None:
    assert shard_of(parse_args(TASK), {}) is None
    assert shard_of(parse_args([*TASK, "--shards", "1", "--shard", "0"]), {}) is None


def test_the_index_comes_from_the_flag_or_the_indexed_jobs_variable() -> None:
    assert shard_of(parse_args([*TASK, "--shards", "4", "--shard", "2"]), {}) == ShardArgs(2, 4)
    assert shard_of(parse_args([*TASK, "--shards", "4"]), {"JOB_COMPLETION_INDEX": "3"}) == ShardArgs(3, 4)


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--shards", "4"], {}, "--shards 4 needs --shard or JOB_COMPLETION_INDEX"),
        (["--shards", "4"], {"JOB_COMPLETION_INDEX": "x"}, "--shards 4 needs --shard or JOB_COMPLETION_INDEX"),
        (["--shards", "4", "--shard", "4"], {}, "shard 4 is not one of 0..3"),
        (["--shards", "0"], {}, "--shards must be at least 1"),
    ],
)
def test_a_shard_not_said_or_out_of_range_is_refused(args: list[str], env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        shard_of(parse_args([*TASK, *args]), env)


def test_the_job_refuses_to_start_without_its_index() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "inference_job", *TASK, "--shards", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == JobExit.NO_TASK
    assert "--shards 3 needs --shard or JOB_COMPLETION_INDEX" in done.stderr
