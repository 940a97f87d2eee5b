"""A model that behaves as told, and the real job entry point with it in the catalogue.

`python -m tests.support.scripted_model --task-id ID` is `python -m inference_job` with the model
`scripted` added to this process's catalogue (the job checks a task's model there), so the
tests run the real job, as a subprocess, with a model that:
- hangs in its constructor (`SCRIPTED_HANG_LOAD=1`), as a load stuck on weights or compilation;
- spends `SCRIPTED_BATCH_S` seconds on every batch (a slow but steady model);
- hangs for good in the batch after `SCRIPTED_HANG_AFTER` batches (a stuck CUDA call, a deadlock).

It finds nothing (every frame's list is empty), so the rows only carry the position.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Sequence

import numpy as np

from inference_job.models.base import AbstractImageAnalysisMLModel, Detection
from videoanalysis.catalogue import CATALOGUE, CatalogueEntry

NAME = "scripted"


def _hang() -> None:
    threading.Event().wait()  # never set: the thread is stuck for good


class ScriptedModel(AbstractImageAnalysisMLModel):
    name = NAME

    def __init__(self) -> None:
        self.batch_s = float(os.environ.get("SCRIPTED_BATCH_S", "0"))
        hang_after = os.environ.get("SCRIPTED_HANG_AFTER", "")
        self.hang_after = int(hang_after) if hang_after else None
        self.batches = 0
        if os.environ.get("SCRIPTED_HANG_LOAD") == "1":
            _hang()

    @property
    def labels(self) -> Sequence[str]:
        return ("face",)

    def predict(self, frames: Sequence[np.ndarray]) -> list[list[Detection]]:
        if self.hang_after is not None and self.batches >= self.hang_after:
            _hang()
        self.batches += 1
        time.sleep(self.batch_s)
        return [[] for _ in frames]


if __name__ == "__main__":
    # The factory imports the class by path (this file again, under its own module name).
    CATALOGUE[NAME] = CatalogueEntry("tests.support.scripted_model:ScriptedModel", (), "job")
    from inference_job.__main__ import main

    sys.exit(main())
