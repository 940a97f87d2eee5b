"""The row-writer stand-in of `make bench-operator`: what an inference Pod writes, without a
video or a model.

KWOK plays the Pod's container (there is no runtime), so nothing would take the task's lease
or record its result, and the operator never records success itself. The stand-in does the
job's part through the job's own code, in the order `inference_job.job._analyse_file` does it:
`take_lease` (PENDING/RUNNING -> RUNNING under a new fencing token), the fenced `frames_total`,
one small synthetic batch of detections through `ResultWriter` (the fenced position update,
the COPY of the frame rows and the per-label counters in one transaction), then the fenced
SUCCEEDED transition. Only the model and the decoder are missing.
"""

from __future__ import annotations

import uuid

from inference_job.config import JobSettings
from inference_job.job import take_lease
from inference_job.pipeline import FrameResult
from inference_job.writer import ResultWriter
from videoanalysis.lease import why_fenced
from videoanalysis.task_status import TaskStatus
from videoanalysis.transitions import transition

#: The synthetic batch: frames per task and faces per frame.
FRAMES, FACES = 4, 2
LABEL = "face"


def synthetic_batch(frames: int = FRAMES, faces: int = FACES) -> list[FrameResult]:
    """`frames` frames of 25 fps video, each with `faces` detections (boxes in pixels)."""
    return [
        FrameResult(
            frame_index=i,
            timestamp_s=i / 25,
            objects=[{"label": LABEL, "score": 0.9, "box": [10.0 * j, 10.0, 10.0 * j + 8, 18.0]} for j in range(faces)],
        )
        for i in range(frames)
    ]


def expected_detections(frames: int = FRAMES, faces: int = FACES) -> dict[str, int]:
    """What a task's `detections` counter holds after exactly one commit of the batch."""
    return {LABEL: frames * faces}


async def commit_result(task_id: uuid.UUID, holder: str, settings: JobSettings) -> int:
    """Take the task's lease as `holder` (the Pod's name) and commit the synthetic batch and
    SUCCEEDED through the job's fenced writer; returns the lease's attempt (1 when no other
    run ever took it). Raises what the job would stop on (`LeaseHeld`, `LeaseLost`, ...)."""
    run = settings.model_copy(update={"lease_holder": holder})
    lease = await take_lease(task_id, run)
    batch = synthetic_batch()
    if not await lease.fenced().update(frames_total=len(batch), error=None):
        raise await why_fenced(lease)
    writer = ResultWriter(lease, batch_frames=run.write_batch_frames, progress_interval_s=run.progress_interval_s)
    try:
        await writer.add(batch)
        await writer.finish()
    except BaseException:
        await writer.abort()
        raise
    done = writer.committed_frames_done + writer.written
    if await transition(task_id, TaskStatus.SUCCEEDED, fence=lease, frames_done=done) is None:
        raise await why_fenced(lease)
    return lease.attempt
