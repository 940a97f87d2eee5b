"""Completion webhooks: an outbox written with the task's final transition, delivered by the API.

The job or the operator ends a task; `videoanalysis.transitions.transition` adds a `WebhookDelivery`
row in the same transaction, so no ending is lost if a process dies. The API's delivery loop
POSTs the signed body and retries with exponential back-off. Deliveries of a round go out
concurrently, each under one total deadline (a receiver that trickles bytes cannot hold it)
and with a capped response read; a delivery that cannot be sent fails alone.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import httpx
from tortoise.expressions import Q

from videoanalysis.clock import db_now
from videoanalysis.netguard import (
    UnsafeCallbackURL,
    checked_address,
    checked_address_async,
    parse_url,
)
from videoanalysis.periodic import every
from videoanalysis.summary import TaskSummary
from videoanalysis.tables import Task, User, WebhookDelivery

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-VideoAnalysis-Signature"
TIMESTAMP_HEADER = "X-VideoAnalysis-Timestamp"
MAX_RESPONSE_BYTES = 64 * 1024  # of a receiver's answer, read for the error message only

__all__ = ["UnsafeCallbackURL", "WebhookPolicy", "check_url", "deliver_due", "sign", "verify"]


@dataclass(frozen=True)
class WebhookPolicy:
    allow_private: bool = False  # loopback, private, link-local and other special-purpose ranges
    timeout_s: float = 10.0  # total deadline of one attempt: resolution, connection, answer
    max_attempts: int = 6
    base_delay_s: float = 5.0
    max_delay_s: float = 600.0
    concurrency: int = 16  # attempts in flight at once


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256 over "<timestamp>." + body, keyed by the user's secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def retry_delay(attempt: int, policy: WebhookPolicy) -> timedelta:
    """Exponential back-off after the `attempt`-th failure (1-based), capped."""
    return timedelta(seconds=min(policy.base_delay_s * 2 ** (attempt - 1), policy.max_delay_s))


def check_url(url: str, policy: WebhookPolicy, *, resolve: bool = True) -> None:
    """Refuse a malformed URL and, unless allowed, one whose host resolves to a special-purpose
    address (checked again at send time, on the address then connected to)."""
    target = parse_url(url)
    if resolve:
        checked_address(target, allow_private=policy.allow_private)


def encode_body(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


async def post_signed(client: httpx.AsyncClient, url: str, payload: dict, secret: str, policy: WebhookPolicy) -> None:
    """One delivery attempt under one total deadline; raises on a refusal, a network error, a
    timeout or a non-2xx answer. The request goes to the address that was checked: the URL's
    host is replaced by it, while Host and (for HTTPS) SNI and certificate checks keep the name."""
    target = parse_url(url)
    body = encode_body(payload)
    ts = str(int(time.time()))
    async with asyncio.timeout(policy.timeout_s):
        address = await checked_address_async(target, allow_private=policy.allow_private)
        pinned = httpx.URL(url).copy_with(host=address)
        default_port = 443 if target.scheme == "https" else 80
        host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
        request = client.build_request(
            "POST",
            pinned,
            content=body,
            timeout=policy.timeout_s,
            headers={
                "Host": host_header,
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: ts,
                SIGNATURE_HEADER: sign(secret, ts, body),
            },
            extensions={"sni_hostname": target.host} if target.scheme == "https" else None,
        )
        response = await client.send(request, stream=True, follow_redirects=False)
        try:
            head = await _read_capped(response)
        finally:
            await response.aclose()
    if not 200 <= response.status_code < 300:
        text = head.decode("utf-8", "replace")[:200]
        raise httpx.HTTPStatusError(
            f"receiver answered {response.status_code}" + (f": {text}" if text else ""),
            request=response.request,
            response=response,
        )


async def _read_capped(response: httpx.Response) -> bytes:
    """At most MAX_RESPONSE_BYTES of the answer; the rest is never read."""
    head = bytearray()
    async for chunk in response.aiter_raw():
        head.extend(chunk)
        if len(head) >= MAX_RESPONSE_BYTES:
            break
    return bytes(head[:MAX_RESPONSE_BYTES])


# --- the outbox ------------------------------------------------------------------------

LEASE = timedelta(minutes=2)  # a claimed delivery is not picked again before this passes


def result_url(public_url: str, task_id: object) -> str:
    """Where a client reads a task's result: the API's public base URL and the result route."""
    return f"{public_url.rstrip('/')}/tasks/video-analysis-result/{task_id}/"


def payload_for(task: Task, results_base_url: str) -> dict:
    """The JSON body a receiver gets (also what is signed); a task with zones or lines carries
    their totals as its summary shows them (null without)."""
    summary = TaskSummary.of(task.detections, task.objects, task.params, task.zone_totals)
    return {
        "event": "task.finished",
        "task_id": str(task.id),
        "status": str(task.status),
        "error": task.error,
        "frames_done": task.frames_done,
        "frames_total": task.frames_total,
        "finished_at": task.finished_at.isoformat() if task.finished_at else None,
        "result_url": result_url(results_base_url, task.id),
        **summary.model_dump(mode="json", by_alias=True, include={"zones", "lines"}),
    }


async def user_secret(user: User) -> str:
    """The user's webhook signing key, created on first use. Two first uses at once (two
    deliveries, or one and `GET /me/webhook-secret`) agree: only a write onto an empty key
    lands, and each reads back the key that did."""
    if not user.webhook_secret:
        empty = Q(webhook_secret__isnull=True) | Q(webhook_secret="")
        await User.filter(empty, id=user.id).update(webhook_secret=secrets.token_hex(32))
        user.webhook_secret = (await User.get(id=user.id)).webhook_secret
    if not user.webhook_secret:
        raise RuntimeError(f"user {user.id} has no webhook secret after it was made")
    return user.webhook_secret


async def deliver_due(
    client: httpx.AsyncClient, policy: WebhookPolicy, results_base_url: str, *, limit: int = 100
) -> int:
    """Send the deliveries whose time has come, concurrently; returns how many were attempted.

    A delivery is claimed by moving its next attempt past a lease with a conditional update,
    so two API replicas never send the same one at once."""
    now = await db_now()
    due = (
        await WebhookDelivery.filter(delivered_at=None, gave_up=False, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .limit(limit)
    )
    claimed = []
    for delivery in due:
        if await WebhookDelivery.filter(id=delivery.id, next_attempt_at=delivery.next_attempt_at).update(
            next_attempt_at=now + LEASE
        ):
            claimed.append(delivery)
    gate = asyncio.Semaphore(policy.concurrency)

    async def gated(delivery: WebhookDelivery) -> None:
        async with gate:
            await _attempt(delivery, client, policy, results_base_url)

    outcomes = await asyncio.gather(*(gated(d) for d in claimed), return_exceptions=True)
    for delivery, outcome in zip(claimed, outcomes, strict=True):
        if isinstance(outcome, Exception):  # the row could not even be saved: the lease retries it
            log.error("webhook delivery %s could not be recorded: %r", delivery.id, outcome)
    return len(claimed)


def _reason(exc: BaseException, policy: WebhookPolicy) -> str:
    if isinstance(exc, TimeoutError):
        return f"TimeoutError: no complete answer within {policy.timeout_s:g} s"
    return f"{type(exc).__name__}: {exc}"[:2000]


async def _attempt(
    delivery: WebhookDelivery, client: httpx.AsyncClient, policy: WebhookPolicy, results_base_url: str
) -> None:
    """One attempt, counted whatever happens; an unsafe or unparsable URL is given up at once."""
    delivery.attempts += 1
    try:
        await delivery.fetch_related("task__owner")
        task = delivery.task
        secret = await user_secret(task.owner)
        await post_signed(client, delivery.url, payload_for(task, results_base_url), secret, policy)
    except Exception as exc:  # any failure is this delivery's alone
        delivery.last_error = _reason(exc, policy)
        if delivery.attempts >= policy.max_attempts or isinstance(exc, UnsafeCallbackURL):
            delivery.gave_up = True
            log.warning("webhook delivery %s given up: %s", delivery.id, delivery.last_error)
        else:
            delivery.next_attempt_at = await db_now() + retry_delay(delivery.attempts, policy)
    else:
        delivery.delivered_at = await db_now()
        delivery.last_error = None  # type: ignore[assignment]  # a nullable column
    await delivery.save(update_fields=["attempts", "last_error", "gave_up", "next_attempt_at", "delivered_at"])


def delivery_client() -> httpx.AsyncClient:
    """The client deliveries are sent with: no connection is kept for another request. Each
    request goes to the checked address with the host's name in Host and SNI, and a pool keys
    connections by that address: a kept TLS connection, verified for one host, would carry the
    next delivery to another host on the same address."""
    return httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0))


async def delivery_loop(policy: WebhookPolicy, results_base_url: str, poll_s: float) -> None:
    """Run until cancelled: deliver what is due every `poll_s` seconds."""
    async with delivery_client() as client:  # a database hiccup is logged, not the loop's end
        await every(
            poll_s, lambda: deliver_due(client, policy, results_base_url), name="webhook delivery round", logger=log
        )
