"""Metrics of one analysis run: frames/s, batch size, model time vs decode time.

A Job is too short-lived to be scraped, so the figures are exported when the run ends: pushed
to a Prometheus Pushgateway (`VA_PUSHGATEWAY_URL`) and/or written in the text format to
`VA_METRICS_FILE` (for node-exporter's textfile collector, or a sidecar). Always logged too.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, push_to_gateway, write_to_textfile

log = logging.getLogger("inference_job")


@dataclass
class RunStats:
    """Filled in by the reader (decode time) and the pipeline (model time, batches)."""

    frames: int = 0
    batches: int = 0
    batch_size: int = 0
    model_seconds: float = 0.0
    tracker_seconds: float = 0.0
    zones_seconds: float = 0.0  # within tracker_seconds: the zone and line events
    decode_seconds: float = 0.0
    wall_seconds: float = 0.0

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def summary(self) -> str:
        return (
            f"{self.frames} frames in {self.wall_seconds:.2f}s ({self.frames_per_second:.1f} frames/s), "
            f"batch size {self.batch_size}, model {self.model_seconds:.2f}s, "
            f"tracker {self.tracker_seconds:.2f}s (zones {self.zones_seconds:.2f}s), decode {self.decode_seconds:.2f}s"
        )


def registry_for(stats: RunStats, model: str) -> CollectorRegistry:
    registry = CollectorRegistry()
    values = {
        "va_job_frames": ("Frames analysed by the run.", stats.frames),
        "va_job_frames_per_second": ("Frames analysed per second of the run, end to end.", stats.frames_per_second),
        "va_job_batch_size": ("Frames per model call.", stats.batch_size),
        "va_job_model_seconds": ("Seconds spent in the model's forward passes.", stats.model_seconds),
        "va_job_decode_seconds": ("Seconds the reader spent decoding frames.", stats.decode_seconds),
        "va_job_wall_seconds": ("Seconds from the first frame to the last write.", stats.wall_seconds),
    }
    for name, (doc, value) in values.items():
        Gauge(name, doc, ["model"], registry=registry).labels(model).set(value)
    return registry


def export(stats: RunStats, *, task_id: str, model: str, metrics_file: Path | None, pushgateway_url: str) -> None:
    """Log the run's figures and export them where configured; an export failure is logged,
    never a reason to fail an analysis that succeeded."""
    log.info("task %s: %s", task_id, stats.summary())
    registry = registry_for(stats, model)
    if metrics_file is not None:
        try:
            metrics_file.parent.mkdir(parents=True, exist_ok=True)
            write_to_textfile(os.fspath(metrics_file), registry)
        except OSError as exc:
            log.warning("could not write metrics to %s: %s", metrics_file, exc)
    if pushgateway_url:
        try:
            push_to_gateway(
                pushgateway_url,
                job="videoanalysis-job",
                registry=registry,
                grouping_key={"task_id": task_id},
                timeout=5,
            )
        except OSError as exc:
            log.warning("could not push metrics to %s: %s", pushgateway_url, exc)
