"""Hostile receivers and URLs: one delivery's trouble stays its own, and the request goes to the
address that was checked."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.core.webhooks.receiver import Receiver
from videoanalysis import netguard
from videoanalysis.tables import Task, User, WebhookDelivery
from videoanalysis.task_status import TaskStatus
from videoanalysis.transitions import transition
from videoanalysis.webhooks import WebhookPolicy, deliver_due

FAST = WebhookPolicy(allow_private=True, base_delay_s=60, max_attempts=2, timeout_s=1)


@pytest.fixture
async def outbox(db) -> AsyncIterator[None]:
    """The shared outbox emptied of other tests' pending deliveries."""
    await WebhookDelivery.filter(delivered_at=None, gave_up=False).update(gave_up=True)
    yield


async def ended_task(url: str) -> Task:
    user = await User.create(email=f"{uuid.uuid4().hex}@example.com", password_hash="x")
    task = await Task.create(owner=user, model="opencv-face", video_uri="videos://x.mp4", callback_url=url)
    await transition(task.id, TaskStatus.SUCCEEDED)
    return task


async def test_a_trickling_receiver_times_out_alone_and_others_are_delivered(outbox):
    slow, good = Receiver(trickle=True).start(), Receiver().start()
    try:
        stuck = await ended_task(slow.url)
        fine = await ended_task(good.url)
        async with httpx.AsyncClient() as client:
            assert await deliver_due(client, FAST, "http://api") == 2
        stuck_row = await WebhookDelivery.get(task_id=stuck.id)
        assert stuck_row.delivered_at is None and stuck_row.attempts == 1 and not stuck_row.gave_up
        assert "no complete answer within 1 s" in stuck_row.last_error
        assert (await WebhookDelivery.get(task_id=fine.id)).delivered_at is not None
        assert len(good.requests) == 1
    finally:
        slow.stop()
        good.stop()


async def test_an_unparsable_url_is_given_up_with_its_reason_and_does_not_stop_the_round(outbox):
    good = Receiver().start()
    try:
        broken = await ended_task("http://[::1/hook")  # stored before validation was strict
        fine = await ended_task(good.url)
        async with httpx.AsyncClient() as client:
            assert await deliver_due(client, FAST, "http://api") == 2
        row = await WebhookDelivery.get(task_id=broken.id)
        assert row.gave_up and row.attempts == 1 and "UnsafeURL" in row.last_error
        assert (await WebhookDelivery.get(task_id=fine.id)).delivered_at is not None
    finally:
        good.stop()


async def test_the_request_goes_to_the_address_checked_once(outbox, monkeypatch):
    """A rebinding resolver answers 127.0.0.1 first and 127.0.0.2 afterwards: the POST reaches
    the first answer (the one the guard saw), with the URL's name in the Host header."""
    first = Receiver(host="127.0.0.1").start()
    second = Receiver(host="127.0.0.2", port=first.server.server_address[1]).start()
    port = first.server.server_address[1]
    real = socket.getaddrinfo
    answers = iter(["127.0.0.1"] + ["127.0.0.2"] * 10)
    lookups: list[str] = []

    def rebinding(host, *args, **kwargs):
        if host != "rebind.test":
            return real(host, *args, **kwargs)
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(netguard.socket, "getaddrinfo", rebinding)
    try:
        task = await ended_task(f"http://rebind.test:{port}/hook")
        async with httpx.AsyncClient() as client:
            await deliver_due(client, FAST, "http://api")
        assert (await WebhookDelivery.get(task_id=task.id)).delivered_at is not None
        assert lookups == ["rebind.test"]
        assert len(first.requests) == 1 and not second.requests
        assert first.requests[0].headers["Host"] == f"rebind.test:{port}"
    finally:
        first.stop()
        second.stop()


async def test_send_time_guard_refuses_what_resolves_inside_now(outbox):
    task = await ended_task("http://127.0.0.1:9/hook")  # accepted while the guard was off
    async with httpx.AsyncClient() as client:
        await deliver_due(client, WebhookPolicy(), "http://api")
    row = await WebhookDelivery.get(task_id=task.id)
    assert row.gave_up and "non-public address (127.0.0.1: loopback)" in row.last_error
