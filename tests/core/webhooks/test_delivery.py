"""The outbox on real PostgreSQL, delivered over real HTTP to a receiver on loopback."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.core.webhooks.receiver import Receiver
from tests.support.videos import pan_video
from videoanalysis.tables import Task, User, WebhookDelivery
from videoanalysis.task_status import TaskStatus
from videoanalysis.transitions import transition
from videoanalysis.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookPolicy, deliver_due, verify

LOOPBACK_OK = WebhookPolicy(allow_private=True, base_delay_s=0.05, max_attempts=3, timeout_s=5)


@pytest.fixture
async def receiver(db) -> AsyncIterator[Receiver]:
    """A receiver, with the shared outbox emptied of other tests' pending deliveries."""
    await WebhookDelivery.filter(delivered_at=None, gave_up=False).update(gave_up=True)
    r = Receiver().start()
    yield r
    r.stop()


async def attempts(task: Task) -> int:
    return (await WebhookDelivery.get(task_id=task.id)).attempts


async def make_task(url: str | None) -> Task:
    user = await User.create(email=f"{uuid.uuid4().hex}@example.com", password_hash="x")
    return await Task.create(
        owner=user, model="opencv-face", video_uri="videos://x.mp4", callback_url=url, frames_total=3
    )


async def test_ending_queues_exactly_one_delivery_in_the_same_transaction(db):
    task = await make_task("http://example.com/hook")
    await transition(task.id, TaskStatus.RUNNING)
    assert not await WebhookDelivery.filter(task_id=task.id).exists()  # not an ending
    await transition(task.id, TaskStatus.SUCCEEDED)
    await transition(task.id, TaskStatus.FAILED, error="late")  # refused: no second delivery
    deliveries = await WebhookDelivery.filter(task_id=task.id)
    assert [d.url for d in deliveries] == ["http://example.com/hook"]
    silent = await make_task(None)
    await transition(silent.id, TaskStatus.CANCELLED)
    assert not await WebhookDelivery.filter(task_id=silent.id).exists()


async def test_delivery_carries_the_zone_and_line_totals(db, receiver):
    task = await make_task(receiver.url)
    rules = {"zones": [{"name": "door"}], "lines": [{"name": "gate"}]}
    totals = {"zones": {"door": {"car": {"entered": 2, "left": 2, "inside": 0, "max_inside": 1, "dwell_s": 5.0}}}}
    await Task.filter(id=task.id).update(params={**task.params, **rules}, zone_totals=totals)
    await transition(task.id, TaskStatus.SUCCEEDED)
    async with httpx.AsyncClient() as client:
        assert await deliver_due(client, LOOPBACK_OK, "https://va.example.com/") >= 1
    body = json.loads(receiver.requests[0].body)
    assert body["zones"] == {"door": {"car": {"entered": 2, "left": 2, "max_inside": 1, "mean_dwell_seconds": 2.5}}}
    assert body["lines"] == {"gate": {}}


async def test_delivery_is_signed_with_the_owners_key(db, receiver):
    task = await make_task(receiver.url)
    await transition(task.id, TaskStatus.FAILED, error="video is truncated at frame 2")
    async with httpx.AsyncClient() as client:
        assert await deliver_due(client, LOOPBACK_OK, "https://va.example.com/") >= 1
    [got] = receiver.requests
    body = json.loads(got.body)
    assert body["task_id"] == str(task.id) and body["status"] == "FAILED"
    assert body["error"] == "video is truncated at frame 2"
    assert body["result_url"] == f"https://va.example.com/tasks/video-analysis-result/{task.id}/"
    assert body["zones"] is None and body["lines"] is None  # a task without zones or lines
    owner = await User.get(id=task.owner_id)
    assert owner.webhook_secret
    assert verify(owner.webhook_secret, got.headers[TIMESTAMP_HEADER], got.body, got.headers[SIGNATURE_HEADER])
    delivery = await WebhookDelivery.get(task_id=task.id)
    assert delivery.delivered_at is not None and delivery.attempts == 1
    async with httpx.AsyncClient() as client:  # delivered: never sent again
        await deliver_due(client, LOOPBACK_OK, "https://va.example.com/")
    assert len(receiver.requests) == 1


async def test_failed_delivery_is_retried_then_given_up(db, receiver):
    receiver.statuses = [500, 503, 502]
    task = await make_task(receiver.url)
    await transition(task.id, TaskStatus.SUCCEEDED)
    async with httpx.AsyncClient() as client:
        for n in (1, 2, 3):
            while await attempts(task) < n:
                await deliver_due(client, LOOPBACK_OK, "http://api")
                await asyncio.sleep(0.02)  # wait out the back-off
    delivery = await WebhookDelivery.get(task_id=task.id)
    assert delivery.attempts == 3 and delivery.gave_up and delivery.delivered_at is None
    assert "receiver answered 502" in delivery.last_error
    assert len(receiver.requests) == 3


async def test_retry_succeeds_after_a_failure(db, receiver):
    receiver.statuses = [500, 200]
    task = await make_task(receiver.url)
    await transition(task.id, TaskStatus.SUCCEEDED)
    async with httpx.AsyncClient() as client:
        await deliver_due(client, LOOPBACK_OK, "http://api")
        first = await WebhookDelivery.get(task_id=task.id)
        assert first.attempts == 1 and first.delivered_at is None and not first.gave_up
        while await attempts(task) < 2:
            await deliver_due(client, LOOPBACK_OK, "http://api")
            await asyncio.sleep(0.02)
    delivery = await WebhookDelivery.get(task_id=task.id)
    assert delivery.delivered_at is not None and delivery.attempts == 2
    assert receiver.requests[0].body == receiver.requests[1].body  # the same event both times


async def test_guarded_api_refuses_loopback_callback(api_client, signup_user, tmp_path):
    _, headers = await signup_user(api_client)
    video = pan_video(tmp_path / "pan.mp4", frames=4).path.read_bytes()
    before = await Task.all().count()
    resp = await api_client.post(
        "/tasks/video-objects-detection/",
        headers=headers,
        files={"videofile": ("pan.mp4", video, "video/mp4")},
        data={"callback_url": "http://127.0.0.1:9/hook"},
    )
    assert resp.status_code == 422 and "non-public address" in resp.json()["detail"]
    assert await Task.all().count() == before


async def test_api_calls_back_when_the_analysis_ends(open_api_client, signup_user, receiver, tmp_path):
    video = pan_video(tmp_path / "pan.mp4", frames=6).path.read_bytes()
    async with open_api_client(
        webhook_allow_private=True, webhook_poll_seconds=0.1, public_url="http://va.test"
    ) as client:
        _, headers = await signup_user(client)
        resp = await client.post(
            "/tasks/video-objects-detection/",
            headers=headers,
            files={"videofile": ("pan.mp4", video, "video/mp4")},
            data={"callback_url": receiver.url},
        )
        assert resp.status_code == 202, resp.text
        task_id = resp.json()["task_id"]
        for _ in range(600):
            if receiver.requests:
                break
            await asyncio.sleep(0.1)
        secret = (await client.get("/me/webhook-secret", headers=headers)).json()["secret"]
        if not receiver.requests:  # say where it stopped: the run or the delivery
            row = await Task.get(id=task_id)
            outbox = await WebhookDelivery.filter(task_id=task_id).values("attempts", "last_error", "gave_up")
            pytest.fail(f"no webhook within 60 s: task {row.status} ({row.error}), outbox {outbox}")
    [got] = receiver.requests
    body = json.loads(got.body)
    assert body["task_id"] == task_id and body["status"] == "SUCCEEDED" and body["frames_done"] == 6
    assert body["result_url"] == f"http://va.test/tasks/video-analysis-result/{task_id}/"
    assert verify(secret, got.headers[TIMESTAMP_HEADER], got.body, got.headers[SIGNATURE_HEADER])


async def test_api_answers_422_with_the_reason_for_each_hostile_callback(api_client, signup_user, tmp_path):
    _, headers = await signup_user(api_client)
    video = pan_video(tmp_path / "pan.mp4", frames=4).path.read_bytes()
    cases = {
        "http://[64:ff9b::7f00:1]/": "NAT64",
        "http://[2002:7f00:1::1]/": "6to4",
        "http://[::127.0.0.1]/": "IPv4-compatible",
        "http://[fec0::1]/": "site-local",
        "http://93.184.215.14:99999/": "port must be a number",
        "http://93.184.215.14/\x00": "control characters",
    }
    before = await Task.all().count()
    for url, reason in cases.items():
        resp = await api_client.post(
            "/tasks/video-objects-detection/",
            headers=headers,
            files={"videofile": ("pan.mp4", video, "video/mp4")},
            data={"callback_url": url},
        )
        assert resp.status_code == 422 and reason in resp.json()["detail"], (url, resp.text)
    assert await Task.all().count() == before


async def test_no_connection_is_kept_from_one_delivery_to_the_next(db, receiver) -> None:
    """Requests go to the checked address, so a kept connection would be reused for whichever
    host shares it (a TLS one verified for another name): every delivery opens its own."""
    from videoanalysis.webhooks import delivery_client

    receiver.stop()
    keeping = Receiver(keep_alive=True).start()
    try:
        async with delivery_client() as client:
            for _ in range(2):
                task = await make_task(keeping.url)
                await transition(task.id, TaskStatus.SUCCEEDED)
                assert await deliver_due(client, LOOPBACK_OK, "http://va.test") == 1
        assert len(keeping.requests) == 2 and keeping.connections == 2
        async with httpx.AsyncClient() as pooled:  # what the receiver allows: one connection, reused
            for _ in range(2):
                await pooled.post(keeping.url, content=b"{}")
        assert keeping.connections == 3
    finally:
        keeping.stop()
