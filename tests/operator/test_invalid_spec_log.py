"""A resource applied by hand whose spec can never run is its author's mistake: the creation
handler moves it to Failed (InvalidSpec) and logs a WARNING naming it and the reason, instead of
ending in an exception that Kopf logs at ERROR; the metric still counts the run `permanent`.
Without a cluster: the move to Failed is recorded, not written."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from va_operator import handlers, metrics, reconcile
from va_operator.phases import Outcome, Phase


def permanent_runs() -> float:
    return metrics.RECONCILES.labels("ensure_job", "permanent")._value.get()


async def test_an_invalid_spec_is_a_warning_naming_the_resource_and_the_reason(
    db: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    moves: list[Outcome] = []

    async def advance(body: Any, outcome: Outcome, settings: Any, **_: Any) -> bool:
        moves.append(outcome)
        return True

    monkeypatch.setattr(reconcile, "advance", advance)
    body = {
        "apiVersion": "videoanalysis.io/v1",
        "kind": "VideoAnalysis",
        "metadata": {"name": "street", "namespace": "team-a", "uid": str(uuid.uuid4())},
        "spec": {"videoUri": "videos://street.mp4"},  # no owner: it can never run
    }
    before = permanent_runs()
    with caplog.at_level(logging.DEBUG):
        assert await handlers.ensure_job(body=body, logger=logging.getLogger("kopf.objects")) is None
    assert [(m.phase, m.reason) for m in moves] == [(Phase.FAILED, "InvalidSpec")]
    [warning] = [r for r in caplog.records if "team-a/street" in r.getMessage()]
    assert warning.levelno == logging.WARNING and "spec.owner is missing" in warning.getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert permanent_runs() == before + 1
