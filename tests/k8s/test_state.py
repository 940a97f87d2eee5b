"""The phase state machine: Job/Pod observations to status patches, without a cluster."""

from __future__ import annotations

from datetime import UTC, datetime

from va_operator.state import (
    Outcome,
    Phase,
    job_outcome,
    next_status,
    pod_failure_detail,
    pod_outcome,
    progress_text,
    settle,
)
from videoanalysis.status import TaskStatus

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def job(cond: str | None = None, reason: str = "", **status: object) -> dict:
    conds = [{"type": cond, "status": "True", "reason": reason}] if cond else []
    return {"spec": {"backoffLimit": 2, "activeDeadlineSeconds": 60}, "status": {"conditions": conds, **status}}


def test_job_verdicts_have_readable_reasons() -> None:
    assert job_outcome(job(active=1)) is None
    assert job_outcome(job("Complete")).phase is Phase.SUCCEEDED
    deadline = job_outcome(job("Failed", "DeadlineExceeded"))
    assert (deadline.phase, deadline.reason) == (Phase.FAILED, "DeadlineExceeded")
    assert "deadline exceeded" in deadline.message and "60s" in deadline.message
    backoff = job_outcome(job("Failed", "BackoffLimitExceeded", failed=3))
    assert "back-off limit reached" in backoff.message and "3 time(s)" in backoff.message


def test_pod_observations() -> None:
    running = pod_outcome({"metadata": {"name": "p"}, "status": {"phase": "Running"}})
    assert running.phase is Phase.RUNNING
    pulling = {
        "status": {
            "phase": "Pending",
            "containerStatuses": [
                {"image": "reg/x:1", "state": {"waiting": {"reason": "ImagePullBackOff", "message": "not found"}}}
            ],
        }
    }
    failed = pod_outcome(pulling)
    assert (failed.phase, failed.reason) == (Phase.FAILED, "ImagePullFailure")
    assert "reg/x:1" in failed.message and "not found" in failed.message
    first_try = {
        "status": {"phase": "Pending", "containerStatuses": [{"state": {"waiting": {"reason": "ErrImagePull"}}}]}
    }
    assert pod_outcome(first_try) is None
    dead = {
        "status": {
            "phase": "Failed",
            "containerStatuses": [
                {
                    "name": "inference",
                    "state": {"terminated": {"exitCode": 3, "reason": "Error", "message": "video unreadable\n"}},
                }
            ],
        }
    }
    assert pod_failure_detail(dead) == "container inference exited with code 3 (Error): video unreadable"


def test_phases_move_forward_only_with_conditions() -> None:
    pending = next_status({}, Outcome(Phase.PENDING, "JobCreated", "Job j created"), generation=1, now=T0, job_name="j")
    assert pending["phase"] == "Pending" and pending["jobName"] == "j" and pending["observedGeneration"] == 1
    assert pending["conditions"] == [
        {
            "type": "JobCreated",
            "status": "True",
            "reason": "JobCreated",
            "message": "Job j created",
            "lastTransitionTime": "2026-01-01T00:00:00Z",
            "observedGeneration": 1,
        }
    ]
    running = next_status(pending, Outcome(Phase.RUNNING, "PodRunning", "pod p is running"), now=T0)
    assert running["startTime"] == "2026-01-01T00:00:00Z"
    assert next_status({**pending, **running}, Outcome(Phase.RUNNING, "PodRunning", "again")) is None
    assert next_status({**pending, **running}, Outcome(Phase.PENDING, "JobCreated", "late")) is None
    done = next_status({**pending, **running}, Outcome(Phase.SUCCEEDED, "Completed", "ok"), now=T0)
    assert done["progress"] == "100%" and done["completionTime"] == "2026-01-01T00:00:00Z"
    by_type = {c["type"]: c for c in done["conditions"]}
    assert by_type["Running"]["status"] == "False" and by_type["Complete"]["status"] == "True"
    ended = {**pending, **running, **done}
    assert next_status(ended, Outcome(Phase.FAILED, "BackoffLimitExceeded", "late failure")) is None


def test_phase_maps_to_task_status_and_progress() -> None:
    assert Phase.FAILED.task_status is TaskStatus.FAILED
    assert Phase.RUNNING.task_status is TaskStatus.RUNNING
    assert (progress_text(3, None), progress_text(3, 12), progress_text(20, 10)) == ("0%", "25%", "100%")


def test_result_url_is_written_when_given_and_left_out_otherwise() -> None:
    url = "https://va.example.com/tasks/video-analysis-result/t/"
    pending = next_status({}, Outcome(Phase.PENDING, "JobCreated", "created"), now=T0, result_url=url)
    assert pending["resultUrl"] == url
    assert "resultUrl" not in next_status({}, Outcome(Phase.PENDING, "JobCreated", "created"), now=T0)


def failed_pod(code: int) -> dict:
    term = {"exitCode": code, "reason": "Error"}
    return {"status": {"phase": "Failed", "containerStatuses": [{"name": "inference", "state": {"terminated": term}}]}}


def test_exit_codes_are_the_jobs_policy_to_judge_not_the_pods() -> None:
    """A failed Pod alone moves nothing: the Job's pod failure policy decides (FailJob, Ignore
    or a counted retry) and `job_outcome` reads its verdict."""
    for code in (1, 2, 3, 4, 75, 137):
        assert pod_outcome(failed_pod(code)) is None


def test_the_fail_job_rule_is_a_permanent_failure_with_the_controllers_message() -> None:
    message = "Container inference for pod ns/va-x-abcde failed with exit code 3 matching FailJob rule at index 1"
    job = {
        "status": {
            "conditions": [{"type": "Failed", "status": "True", "reason": "PodFailurePolicy", "message": message}]
        }
    }
    outcome = job_outcome(job)
    assert outcome is not None and (outcome.phase, outcome.reason) == (Phase.FAILED, "PermanentFailure")
    assert outcome.message == f"{message} (permanent: no retry)"


def test_the_row_is_the_truth() -> None:
    done = Outcome(Phase.SUCCEEDED, "Completed", "the analysis Job completed")
    deadline = Outcome(Phase.FAILED, "DeadlineExceeded", "deadline exceeded")
    assert settle(done, "SUCCEEDED", None) == done
    assert settle(done, "RUNNING", None).reason == "NoResult"
    assert settle(done, "FAILED", "bad video") == Outcome(Phase.FAILED, "AnalysisFailed", "bad video")
    assert settle(deadline, "SUCCEEDED", None).phase is Phase.SUCCEEDED  # committed before the deadline
    assert settle(deadline, "FAILED", "bad video").message == "deadline exceeded; bad video"
    assert settle(deadline, "FAILED", "deadline exceeded") == deadline
    running = Outcome(Phase.RUNNING, "PodRunning", "pod p is running")
    assert settle(running, "RUNNING", None) == running
    assert settle(running, "CANCELLED", "cancelled by its owner").reason == "Cancelled"
