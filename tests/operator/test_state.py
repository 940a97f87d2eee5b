"""The phase state machine: Job/Pod observations to outcomes to status patches, without a cluster."""

from __future__ import annotations

from datetime import UTC, datetime

from va_operator.outcomes import job_outcome, job_waiting, never_started, pod_failure_detail, pod_outcome, settle
from va_operator.phases import Outcome, Phase, next_status, percent_done, summary_of
from videoanalysis.task_status import TaskStatus

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
    assert (percent_done(3, None), percent_done(3, 12), percent_done(20, 10)) == ("0%", "25%", "100%")


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


def unschedulable_pod(message: str = "0/3 nodes are available: 3 Insufficient nvidia.com/gpu.") -> dict:
    condition = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}
    return {"metadata": {"name": "p"}, "status": {"phase": "Pending", "conditions": [condition]}}


def test_a_pod_no_node_fits_is_a_wait_with_the_schedulers_words() -> None:
    waiting = pod_outcome(unschedulable_pod())
    assert waiting == Outcome(
        Phase.PENDING, "Unschedulable", "waiting for a node: 0/3 nodes are available: 3 Insufficient nvidia.com/gpu."
    )
    placed = {"status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True"}]}}
    assert pod_outcome(placed) is None


def test_a_suspended_job_is_queued_until_it_ends_or_resumes() -> None:
    suspended = {**job(), "spec": {"suspend": True}, "metadata": {"labels": {"kueue.x-k8s.io/queue-name": "gpus"}}}
    queued = job_waiting(suspended)
    assert queued is not None and queued.phase is Phase.PENDING and queued.reason == "Queued"
    assert "Kueue LocalQueue gpus" in queued.message
    assert job_waiting(job()) is None
    assert job_waiting({**job("Failed", "DeadlineExceeded"), "spec": {"suspend": True}}) is None


def test_a_wait_is_the_waiting_condition_and_running_ends_it() -> None:
    created = next_status(None, Outcome(Phase.PENDING, "JobCreated", "Job made"), now=T0)
    assert created is not None
    wait = pod_outcome(unschedulable_pod())
    assert wait is not None
    waiting = next_status(created, wait, now=T0)
    assert waiting is not None and waiting["reason"] == "Unschedulable"
    assert {c["type"]: c["status"] for c in waiting["conditions"]} == {"JobCreated": "True", "Waiting": "True"}
    assert next_status(waiting, wait, now=T0) is None  # the same wait again: no write
    running = next_status(waiting, Outcome(Phase.RUNNING, "PodRunning", "pod p is running"), now=T0)
    assert running is not None
    assert {c["type"]: c["status"] for c in running["conditions"]} == {
        "JobCreated": "True",
        "Waiting": "False",
        "Running": "True",
    }
    assert next_status(running, wait, now=T0) is None  # a late wait never moves it back


def test_a_deadline_reached_while_waiting_says_it_never_got_a_node() -> None:
    deadline = Outcome(Phase.FAILED, "DeadlineExceeded", "deadline exceeded: the Job ran longer than 60s")
    wait = {"phase": "Pending", "reason": "Unschedulable", "message": "waiting for a node: 0/3 nodes"}
    assert never_started(deadline, wait).message.endswith("; it never got a node (waiting for a node: 0/3 nodes)")
    assert never_started(deadline, {"phase": "Pending", "reason": "JobCreated"}).message.endswith(
        "it never started running"
    )
    assert never_started(deadline, {"phase": "Running", "reason": "PodRunning"}) == deadline


def test_the_progress_mirror_sees_a_summary_without_tracks_as_unchanged() -> None:
    """A JSON merge patch deletes null members, so the stored summary of a run without a
    tracker lacks `objects`; the mirror must still find it equal to the row's (else it would
    re-patch every Running resource on every tick)."""
    from va_operator.reconcile import _as_stored

    written = summary_of({"face": 3}, None)
    stored = {k: v for k, v in written.items() if v is not None}
    assert stored != written and _as_stored(stored) == _as_stored(written)
    assert _as_stored(summary_of({"face": 4}, None)) != _as_stored(stored)  # a real change still shows
