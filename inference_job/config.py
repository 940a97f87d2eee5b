"""Settings of the inference job (`VA_` environment variables), on top of the core ones."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Literal

from pydantic import Field

from videoanalysis.settings import CoreSettings

__all__ = ["JobSettings"]


class JobSettings(CoreSettings):
    """What one analysis run needs besides the task row: where weights are, how to batch."""

    model_weights: str = Field(
        "",
        description="Detectron2 weights: a file path, or an https URL (with VA_MODEL_WEIGHTS_SHA256) "
        "downloaded once into VA_MODEL_CACHE_DIR. Missing weights fail the task (never a random model).",
    )
    model_weights_sha256: str = Field(
        "",
        pattern="^([0-9a-fA-F]{64})?$",
        description="sha256 of the weights file, checked before loading; required for a URL.",
    )
    model_cache_dir: Path | None = Field(
        None, description="Where downloaded weights are kept. Empty: <data_dir>/models."
    )
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto: cuda when a GPU is visible, else cpu.")
    batch_size: int = Field(0, ge=0, description="Frames per model call; 0: the model's preferred.")
    input_size: int = Field(800, ge=32, le=4096, description="Detectron2's shortest image edge.")
    compile_mode: Literal["off", "inductor", "cudagraphs"] = Field(
        "off",
        description="Detectron2: torch.compile the backbone and RPN head (inductor), replayed as CUDA graphs "
        "(cudagraphs, CUDA only); compiled once per input shape on first use.",
    )
    decoder: Literal["auto", "cpu", "nvdec"] = Field(
        "auto",
        description="auto: NVDEC on the GPU when the job runs on CUDA, the decoder is installed (extra nvdec) "
        "and supports the codec, else OpenCV on the CPU; nvdec: the same but fail instead of falling back.",
    )
    queue_frames: int = Field(64, ge=1, description="Decoded frames the reader may hold ahead.")
    write_batch_frames: int = Field(
        256,
        ge=1,
        description="Frames written per DB transaction (a slow model writes sooner, see progress_interval_s).",
    )
    progress_interval_s: float = Field(
        1.0, ge=0, description="At most one progress update (frames_done) per this many seconds."
    )
    lease_ttl_s: float = Field(
        30.0, gt=0, description="The run's lease on its task lasts this long without a heartbeat (a third of it)."
    )
    lease_wait_s: float | None = Field(
        None, ge=0, description="How long to wait for another run's lease to expire. Empty: one TTL."
    )
    db_retries: int = Field(
        6,
        ge=0,
        description="Reruns of the task inside this process when the database is unreachable, before it exits 75 "
        "(interrupted: the Job starts a new Pod without spending its backoffLimit). The defaults wait 63 s in all.",
    )
    db_retry_delay_s: float = Field(
        1.0, ge=0, description="First back-off between those reruns, doubled each time up to VA_DB_RETRY_MAX_DELAY_S."
    )
    db_retry_max_delay_s: float = Field(60.0, ge=0, description="The longest back-off between two of those reruns.")
    model_load_deadline_s: float = Field(
        600.0,
        gt=0,
        le=86400,
        description="Loading the model (weights, warm-up) must end within this many seconds, and its first batch "
        "(compilation on first use) must come within as many again; past either the run stops, the task FAILED.",
    )
    stall_factor: float = Field(
        10.0,
        ge=2,
        le=1000,
        description="A run that has analysed batches stops when no batch comes for this many times the batch "
        "time seen so far (the median of the recent ones), and never sooner than VA_STALL_MIN_S.",
    )
    stall_min_s: float = Field(
        120.0,
        gt=0,
        le=86400,
        description="The shortest wait for the next batch before a run counts as stalled (the floor under "
        "VA_STALL_FACTOR times the batch time).",
    )
    lease_holder: str = Field("", description="Name of this run in the lease. Empty: <hostname>:<pid>.")
    metrics_file: Path | None = Field(
        None, description="Write the run's metrics here (Prometheus text format) when it ends."
    )
    pushgateway_url: str = Field("", description="Push the run's metrics to this Prometheus Pushgateway when it ends.")

    def db_retry_delay(self, attempt: int) -> float:
        """Seconds to wait before rerun `attempt + 1` (0-based): doubling from VA_DB_RETRY_DELAY_S,
        capped at VA_DB_RETRY_MAX_DELAY_S."""
        return min(self.db_retry_max_delay_s, self.db_retry_delay_s * 2.0 ** min(attempt, 64))

    @property
    def resolved_lease_holder(self) -> str:
        return self.lease_holder or f"{socket.gethostname()}:{os.getpid()}"

    @property
    def resolved_model_cache_dir(self) -> Path:
        return (self.model_cache_dir or self.data_dir / "models").resolve()
