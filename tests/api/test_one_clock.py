"""Every expiry of the API is stamped with the database's clock, not the replica's: a replica
whose clock runs 20 s ahead or behind claims a dispatch intent, leases a webhook delivery and
schedules its retry at the same instants as any other (PostgreSQL; SQLite has one machine)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import httpx
import pytest
from tortoise import Tortoise

from videoanalysis import clock
from videoanalysis.tables import Task, User, WebhookDelivery
from videoanalysis.task_status import TaskStatus
from videoanalysis.webhooks import LEASE, WebhookPolicy, deliver_due, retry_delay

SKEWS = [20.0, -20.0]


def skew(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """This process's clock off by `seconds`: every local time is read through `clock.local_now`."""
    monkeypatch.setattr(clock, "SKEW", timedelta(seconds=seconds))


async def database_now() -> datetime:
    _, rows = await Tortoise.get_connection("default").execute_query("SELECT now() AS now")
    return rows[0]["now"]


def near(stamp: datetime, expected: datetime) -> bool:
    return abs((stamp - expected).total_seconds()) < 2


@pytest.fixture
async def owner(db: str) -> User:
    return await User.create(email=f"clock-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")


@pytest.mark.parametrize("seconds", SKEWS)
async def test_a_dispatch_intent_is_claimed_on_the_databases_clock(owner, monkeypatch, seconds) -> None:
    from api.dispatchers.intents import CLAIM_S, claim

    task = await Task.create(owner=owner, model="opencv-face", video_uri="videos://x.mp4", params={})
    await Task.filter(id=task.id).update(dispatch_due_at=await database_now())
    skew(monkeypatch, seconds)
    assert await claim(task.id)
    due = (await Task.get(id=task.id)).dispatch_due_at
    assert near(due, await database_now() + timedelta(seconds=CLAIM_S)), due
    assert (await Task.get(id=task.id)).status == TaskStatus.PENDING
    await Task.filter(id=task.id).update(dispatch_due_at=None)  # no replica of a later test takes it


@pytest.mark.parametrize("seconds", SKEWS)
async def test_a_webhook_delivery_is_leased_and_retried_on_the_databases_clock(owner, monkeypatch, seconds) -> None:
    task = await Task.create(owner=owner, model="opencv-face", video_uri="videos://x.mp4", params={})
    delivery = await WebhookDelivery.create(
        task=task, url="http://127.0.0.1:9/hook", next_attempt_at=await database_now()
    )
    policy = WebhookPolicy(allow_private=True, timeout_s=2.0)
    skew(monkeypatch, seconds)
    # the lease: nothing answers on port 9, so the attempt fails and schedules its retry
    async with httpx.AsyncClient() as client:
        assert await deliver_due(client, policy, "http://va.test") >= 1
    row = await WebhookDelivery.get(id=delivery.id)
    assert row.attempts == 1 and row.delivered_at is None
    assert near(row.next_attempt_at, await database_now() + retry_delay(1, policy)), row.next_attempt_at
    assert retry_delay(1, policy) < LEASE  # the retry, not the claim's lease, is what was stamped
    await WebhookDelivery.filter(id=delivery.id).update(gave_up=True)  # not sent again by later tests


@pytest.mark.parametrize("days_off", [2.0, -2.0])
async def test_retention_is_due_on_the_databases_clock(owner, monkeypatch, api_settings, days_off) -> None:
    """`finished_at` is the database's stamp: a replica two days ahead erases nothing early,
    one two days behind nothing late."""
    from api.dispatchers.local import LocalDispatcher
    from api.retention import erase_expired

    settings = api_settings()
    now = await database_now()
    due, kept = [
        await Task.create(owner=owner, model="opencv-face", video_uri="videos://gone.mp4", params={}) for _ in range(2)
    ]
    await Task.filter(id=due.id).update(status=TaskStatus.SUCCEEDED, finished_at=now - timedelta(hours=36))
    await Task.filter(id=kept.id).update(status=TaskStatus.SUCCEEDED, finished_at=now - timedelta(hours=12))
    skew(monkeypatch, days_off * 86400)
    await erase_expired(1, LocalDispatcher(settings), settings.resolved_videos_dir)
    assert not await Task.exists(id=due.id)
    assert await Task.exists(id=kept.id)
