"""Completion webhooks: an outbox written with the task's final transition, delivered by the API.

The job or the operator ends a task; `videoanalysis.tasks.transition` adds a `WebhookDelivery`
row in the same transaction, so no ending is lost if a process dies. The API's delivery loop
POSTs the signed body and retries with exponential back-off.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import httpx

from videoanalysis.models import Task, User, WebhookDelivery
from videoanalysis.tasks import utcnow

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-VideoAnalysis-Signature"
TIMESTAMP_HEADER = "X-VideoAnalysis-Timestamp"


class UnsafeCallbackURL(ValueError):
    """The callback URL is malformed or points where the service must not send requests."""


@dataclass(frozen=True)
class WebhookPolicy:
    allow_private: bool = False  # loopback, private, link-local and reserved addresses
    timeout_s: float = 10.0
    max_attempts: int = 6
    base_delay_s: float = 5.0
    max_delay_s: float = 600.0


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256 over "<timestamp>." + body, keyed by the user's secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def retry_delay(attempt: int, policy: WebhookPolicy) -> timedelta:
    """Exponential back-off after the `attempt`-th failure (1-based), capped."""
    return timedelta(seconds=min(policy.base_delay_s * 2 ** (attempt - 1), policy.max_delay_s))


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, policy: WebhookPolicy, *, resolve: bool = True) -> None:
    """Refuse non-HTTP(S) URLs and, unless allowed, hosts that resolve to non-public addresses
    (checked again at send time, so a DNS change cannot turn it into a request to the inside)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeCallbackURL("callback_url must be an absolute http(s) URL")
    if parts.username or parts.password:
        raise UnsafeCallbackURL("callback_url must not carry credentials")
    if policy.allow_private or not resolve:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise UnsafeCallbackURL(f"callback_url host {parts.hostname!r} does not resolve: {exc}") from None
    for info in infos:
        if not _is_public(str(info[4][0])):
            raise UnsafeCallbackURL(
                f"callback_url host {parts.hostname!r} resolves to a non-public address ({info[4][0]})"
            )


def encode_body(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


async def post_signed(client: httpx.AsyncClient, url: str, payload: dict, secret: str, policy: WebhookPolicy) -> None:
    """One delivery attempt; raises on a network error or a non-2xx answer."""
    await asyncio.to_thread(check_url, url, policy)
    body = encode_body(payload)
    ts = str(int(time.time()))
    response = await client.post(
        url,
        content=body,
        timeout=policy.timeout_s,
        follow_redirects=False,
        headers={"Content-Type": "application/json", TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: sign(secret, ts, body)},
    )
    if not 200 <= response.status_code < 300:
        raise httpx.HTTPStatusError(
            f"receiver answered {response.status_code}", request=response.request, response=response
        )


# --- the outbox ------------------------------------------------------------------------

LEASE = timedelta(minutes=2)  # a claimed delivery is not picked again before this passes


def result_url(public_url: str, task_id: object) -> str:
    """Where a client reads a task's result: the API's public base URL and the result route."""
    return f"{public_url.rstrip('/')}/tasks/video-analysis-result/{task_id}/"


def payload_for(task: Task, results_base_url: str) -> dict:
    """The JSON body a receiver gets (also what is signed)."""
    return {
        "event": "task.finished",
        "task_id": str(task.id),
        "status": str(task.status),
        "error": task.error,
        "frames_done": task.frames_done,
        "frames_total": task.frames_total,
        "finished_at": task.finished_at.isoformat() if task.finished_at else None,
        "result_url": result_url(results_base_url, task.id),
    }


async def user_secret(user: User) -> str:
    """The user's webhook signing key, created on first use."""
    if not user.webhook_secret:
        user.webhook_secret = secrets.token_hex(32)
        await user.save(update_fields=["webhook_secret"])
    return user.webhook_secret


async def deliver_due(
    client: httpx.AsyncClient, policy: WebhookPolicy, results_base_url: str, *, limit: int = 20
) -> int:
    """Send the deliveries whose time has come; returns how many were attempted.

    A delivery is claimed by moving its next attempt past a lease with a conditional update,
    so two API replicas never send the same one at once."""
    now = utcnow()
    due = (
        await WebhookDelivery.filter(delivered_at=None, gave_up=False, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .limit(limit)
    )
    attempted = 0
    for delivery in due:
        claimed = await WebhookDelivery.filter(id=delivery.id, next_attempt_at=delivery.next_attempt_at).update(
            next_attempt_at=now + LEASE
        )
        if not claimed:
            continue
        attempted += 1
        await _attempt(delivery, client, policy, results_base_url)
    return attempted


async def _attempt(
    delivery: WebhookDelivery, client: httpx.AsyncClient, policy: WebhookPolicy, results_base_url: str
) -> None:
    await delivery.fetch_related("task__owner")
    task = delivery.task
    delivery.attempts += 1
    try:
        secret = await user_secret(task.owner)
        await post_signed(client, delivery.url, payload_for(task, results_base_url), secret, policy)
    except (httpx.HTTPError, UnsafeCallbackURL, OSError) as exc:
        delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if delivery.attempts >= policy.max_attempts or isinstance(exc, UnsafeCallbackURL):
            delivery.gave_up = True
            log.warning("webhook for task %s given up: %s", task.id, delivery.last_error)
        else:
            delivery.next_attempt_at = utcnow() + retry_delay(delivery.attempts, policy)
    else:
        delivery.delivered_at = utcnow()
        delivery.last_error = None  # type: ignore[assignment]  # a nullable column
    await delivery.save(update_fields=["attempts", "last_error", "gave_up", "next_attempt_at", "delivered_at"])


async def delivery_loop(policy: WebhookPolicy, results_base_url: str, poll_s: float) -> None:
    """Run until cancelled: deliver what is due every `poll_s` seconds."""
    async with httpx.AsyncClient() as client:
        while True:
            try:
                await deliver_due(client, policy, results_base_url)
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup must not end the loop
                log.exception("webhook delivery round failed")
            await asyncio.sleep(poll_s)
